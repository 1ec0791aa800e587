"""The demo store's past campaign: the weeks after its exports, with a true effect known.

``segmint demo`` creates a win-back campaign on the imported store, sent the day after the
exports end with a holdout kept out, and hands its assignment to
:func:`simulate_campaign_window`. The store then lives on through the campaign's window:
every still-active customer keeps buying as before, and every member of the campaign,
sent or held out, gets a drawn response to the email: whether it would bring them an extra
order (with the campaign's code, after an open and a click) and whether they would
unsubscribe. Only the sent arms' responses happen; the holdout's stay counterfactual.

Knowing both outcomes of every member, the generator knows the campaign's true effect on
these very members exactly: the mean over all of them of (outcome if sent - outcome if not),
counted the way the workspace counts (orders neither voided nor cancelled; amount spent net
of refunds). A report's interval for the difference between the arms covers it about 95% of
the time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np

from segmint.campaigns.assignment import HOLDOUT
from segmint.campaigns.registry import Created, NoEligibleMembers, assignments, create_campaign
from segmint.demo import (
    _CODES,
    _EV,
    _FIRST_NUMBER,
    DemoStore,
    _Book,
    _Clock,
    _Events,
    _extend_clock,
    _Ledger,
    _People,
    _placed_order_events,
    _Plan,
    _plan_orders,
    _write_events,
    _write_planned,
)
from segmint.workspace import Workspace

CAMPAIGN_NAME = "Win-back November"
CAMPAIGN_SEGMENT = "lifecycle_dormant"
CAMPAIGN_CHANNEL = "klaviyo"
CAMPAIGN_HOLDOUT = 0.3
WINDOW_DAYS = 14
SEND_HOUR = 10  # store time
#: the email brings an extra order from 1% of its recipients plus a fifth of their open rate
RESPONSE_BASE = 0.01
RESPONSE_PER_OPEN_RATE = 0.2
UNSUBSCRIBE_RATE = 0.006  # recipients who unsubscribe because of it
_CAMPAIGN_CODE = _CODES.index("COMEBACK15")
_WEB = 0


@dataclass(frozen=True)
class PotentialOutcomes:
    """Each member's outcomes over the window if sent the email and if not (both drawn),
    counted as the workspace counts them; arrays in the order of ``emails``."""

    emails: list[str]
    sent: np.ndarray  # the arm the member was assigned to is sent
    bought_if_sent: np.ndarray
    bought_if_not: np.ndarray
    spent_if_sent: np.ndarray  # amount spent, in the store's currency
    spent_if_not: np.ndarray
    unsubscribed_if_sent: np.ndarray  # nobody unsubscribes from an email they do not get

    def observed(self) -> dict[str, np.ndarray]:
        """What the store saw: each member's outcome under the arm they were in."""
        return {
            "bought": np.where(self.sent, self.bought_if_sent, self.bought_if_not),
            "spent": np.where(self.sent, self.spent_if_sent, self.spent_if_not),
            "unsubscribed": self.sent & self.unsubscribed_if_sent,
        }

    def true_effect(self) -> list[dict[str, Any]]:
        """Per metric, as the campaign report names them: the mean over all members if sent
        and if not, and the difference (the true lift a report's interval should cover)."""
        none = np.zeros(len(self.emails))
        return [
            _truth_row("conversion_rate", self.bought_if_sent, self.bought_if_not),
            _truth_row("revenue_per_recipient", self.spent_if_sent, self.spent_if_not),
            _truth_row("unsubscribe_rate", self.unsubscribed_if_sent, none),
        ]

    def true_lift(self, metric: str) -> float:
        return next(r["true_lift"] for r in self.true_effect() if r["metric"] == metric)


def _truth_row(metric: str, if_sent: np.ndarray, if_not: np.ndarray) -> dict[str, Any]:
    sent, not_sent = float(np.mean(if_sent)), float(np.mean(if_not))
    lift = sent - not_sent
    return {"metric": metric, "if_sent": sent, "if_not_sent": not_sent, "true_lift": lift}


@dataclass(frozen=True)
class CampaignWindow:
    """The files the store exported after the campaign's window, and its true effect."""

    orders: Path  # Shopify orders export of the window's orders
    events: Path  # events CSV of the window
    send_date: date
    last_day: date
    outcomes: PotentialOutcomes


@dataclass(frozen=True)
class PastCampaign:
    created: Created
    window: CampaignWindow


def send_date(store: DemoStore) -> date:
    """The campaign goes out the day after the exports end."""
    return store.end + timedelta(days=1)


def run_past_campaign(ws: Workspace, store: DemoStore, out_dir: Path) -> PastCampaign | None:
    """Create the demo's win-back campaign on the refreshed workspace, simulate its window
    into export files (to be imported next) and write its true effect next to them; None
    when the store is too small to have anyone to send it to."""
    try:
        created = _create(ws, store, out_dir)
    except NoEligibleMembers:
        return None
    arms = arms_by_email(ws, created.campaign.campaign_id)
    window = simulate_campaign_window(store, arms, CAMPAIGN_NAME, WINDOW_DAYS, out_dir)
    truth = {
        "campaign": CAMPAIGN_NAME,
        "members": {arm: list(arms.values()).count(arm) for arm in sorted(set(arms.values()))},
        "true_effect": window.outcomes.true_effect(),
    }
    (Path(out_dir) / "campaign_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return PastCampaign(created, window)


def _create(ws: Workspace, store: DemoStore, out_dir: Path) -> Created:
    return create_campaign(
        ws.store,
        CAMPAIGN_NAME,
        CAMPAIGN_SEGMENT,
        CAMPAIGN_CHANNEL,
        ["A"],
        CAMPAIGN_HOLDOUT,
        send_date(store),
        WINDOW_DAYS,
        out=out_dir,
        salt=f"segmint-demo-{store.seed}",  # the same seed, the same assignment
    )


def arms_by_email(ws: Workspace, campaign_id: int) -> dict[str, str]:
    """Each assigned customer's email and arm."""
    assigned = assignments(ws.store, campaign_id)
    customers = ws.store.table("customers").select("customer_id", "email")
    joined = assigned.join(customers, "customer_id").filter(ibis._.email.notnull())
    rows = ws.store.run(joined.select("email", "arm")).to_pylist()
    return {row["email"]: row["arm"] for row in rows}


def simulate_campaign_window(
    store: DemoStore, arms: Mapping[str, str], name: str, days: int, out_dir: Path
) -> CampaignWindow:
    """The store's orders and events over ``days`` days from :func:`send_date`, with the
    campaign ``name`` sent to every member of ``arms`` (email -> arm) not in the holdout."""
    rng = np.random.default_rng([store.seed, 1])
    clock = _extend_clock(store.clock, days)
    members, sent = _members(store, arms)
    send_t = store.clock.stop + SEND_HOUR * 3600
    mail = _email_responses(rng, store, members, send_t, clock.stop)
    people = replace(store.people, sub_end=store.people.sub_end.copy())
    unsub_sent = mail.unsubscribed & sent
    people.sub_end[members[unsub_sent]] = mail.unsub_t[unsub_sent]
    book, induced, member_of = _window_book(rng, store, clock, members, mail)
    written = ~(induced & ~np.where(member_of >= 0, sent[member_of], False))
    plan = _window_plan(rng, store, people, clock, book, induced, written)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last_day = store.end + timedelta(days=days)
    orders_path = out / f"orders_export_{send_date(store)}_{last_day}.csv"
    ledger = _write_planned(
        orders_path, plan, book, people, store.cat, clock, store.ledger.vip, written
    )
    events = _campaign_events(rng, book, ledger, members, sent, mail, written)
    events.campaign_names = [name]  # type: ignore[attr-defined]
    events_path = out / f"events_{send_date(store)}_{last_day}.csv"
    _write_events(events_path, events, people, ledger, store.cat, clock)
    outcomes = _potential_outcomes(
        ledger, induced, member_of, members, sent, mail, store.people.email
    )
    return CampaignWindow(orders_path, events_path, send_date(store), last_day, outcomes)


def _window_plan(
    rng: np.random.Generator,
    store: DemoStore,
    people: _People,
    clock: _Clock,
    book: _Book,
    induced: np.ndarray,
    written: np.ndarray,
) -> _Plan:
    """The window's orders planned like the exports' (ids and the written ones' numbers
    continuing them); the email's orders are placed on the web with the campaign's code."""
    before = store.ledger.order_id
    last_number = _FIRST_NUMBER - 1 + len(before)
    plan = _plan_orders(
        rng, book, people, store.cat, store.ledger.vip, clock, int(before[-1]), last_number
    )
    numbers = np.zeros(len(book.t), np.int64)
    numbers[written] = plan.number[: written.sum()]
    return replace(
        plan,
        code=np.where(induced, _CAMPAIGN_CODE, plan.code),
        source=np.where(induced, _WEB, plan.source),
        number=numbers,
    )


def _members(store: DemoStore, arms: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Customer indexes of the campaign's members, sorted, and whether each was sent."""
    index = {email: c for c, email in enumerate(store.people.email)}
    unknown = sorted(set(arms) - set(index))
    if unknown:
        raise ValueError(f"{len(unknown)} campaign members are not demo customers: {unknown[:3]}")
    members = np.array(sorted(index[email] for email in arms), dtype=np.int64)
    sent = np.array([arms[store.people.email[c]] != HOLDOUT for c in members.tolist()], bool)
    return members, sent


@dataclass(frozen=True)
class _Mail:
    """Each member's drawn reaction to the email (whether or not it was sent)."""

    received_t: np.ndarray
    opened: np.ndarray
    open_t: np.ndarray
    clicked: np.ndarray
    click_t: np.ndarray
    responds: np.ndarray  # the email brings an order within the window
    order_t: np.ndarray
    unsubscribed: np.ndarray
    unsub_t: np.ndarray


def _email_responses(
    rng: np.random.Generator, store: DemoStore, members: np.ndarray, send_t: int, stop: int
) -> _Mail:
    """Opens, clicks, the orders the email brings and unsubscribes, for every member."""
    n = len(members)
    people = store.people
    open_p, click_p = people.open_p[members], people.click_p[members]
    received = send_t + rng.integers(0, 1800, n)
    open_t = received + rng.lognormal(8.5, 1.4, n).astype(np.int64) + 5
    click_t = open_t + rng.integers(8, 600, n)
    later = rng.random(n) < 0.35  # most buy within the visit, some days later
    order_t = click_t + np.where(
        later, rng.exponential(3 * 86400.0, n), rng.uniform(120, 1800, n)
    ).astype(np.int64)
    responds = rng.random(n) < RESPONSE_BASE + RESPONSE_PER_OPEN_RATE * open_p
    responds &= order_t < stop
    opened = responds | (rng.random(n) < open_p)
    clicked = responds | (opened & (rng.random(n) < click_p))
    unsubscribed = rng.random(n) < UNSUBSCRIBE_RATE
    unsub_t = np.where(opened, open_t, received) + rng.integers(60, 2 * 86400, n)
    unsub_t = np.minimum(unsub_t, stop - 1)
    return _Mail(
        received, opened, open_t, clicked, click_t, responds, order_t, unsubscribed, unsub_t
    )


def _natural_orders(
    rng: np.random.Generator, store: DemoStore, extended_o: float
) -> tuple[np.ndarray, np.ndarray]:
    """Orders the still-active buyers place anyway over the window: the same Poisson process
    in operational time as before the exports, up to ``extended_o``."""
    people, book = store.people, store.book
    bought = np.bincount(book.cust[book.cust >= 0], minlength=people.n) > 0
    active = np.flatnonzero(bought & (book.death > store.clock.stop))
    start_o = store.clock.grid_o[-1]
    counts = rng.poisson(people.lam[active] * (extended_o - start_o))
    cust = np.repeat(active, counts)
    when = start_o + rng.random(len(cust)) * (extended_o - start_o)
    return when, cust


def _window_book(
    rng: np.random.Generator,
    store: DemoStore,
    clock: _Clock,
    members: np.ndarray,
    mail: _Mail,
) -> tuple[_Book, np.ndarray, np.ndarray]:
    """Every order of the window, natural and brought by the email (the holdout's included,
    as counterfactuals), sorted by time; whether each was brought by the email; and each
    order's position among the members (-1 for others)."""
    natural_o, natural_c = _natural_orders(rng, store, clock.grid_o[-1])
    t = np.concatenate((clock.from_op(natural_o), mail.order_t[mail.responds]))
    cust = np.concatenate((natural_c, members[mail.responds]))
    induced = np.concatenate((np.zeros(len(natural_c), bool), np.ones(mail.responds.sum(), bool)))
    order = np.lexsort((cust, t))
    t, cust, induced = np.minimum(t[order], clock.stop - 1), cust[order], induced[order]
    position = np.full(store.people.n, -1)
    position[members] = np.arange(len(members))
    book = _Book(t, cust, np.zeros(len(t), bool), store.book.death)
    return book, induced, position[cust]


def _campaign_events(
    rng: np.random.Generator,
    book: _Book,
    ledger: _Ledger,
    members: np.ndarray,
    sent: np.ndarray,
    mail: _Mail,
    written: np.ndarray,
) -> _Events:
    """The sent arms' receipts, opens, clicks and unsubscribes, and Placed Order for most
    written orders."""
    events = _Events()
    for kind, when, happened in (
        ("Received Email", mail.received_t, sent),
        ("Opened Email", mail.open_t, sent & mail.opened),
        ("Clicked Email", mail.click_t, sent & mail.clicked),
        ("Unsubscribed", mail.unsub_t, sent & mail.unsubscribed),
    ):
        first_campaign = np.zeros(happened.sum(), np.int64)
        events.add(when[happened], _EV[kind], members[happened], campaign=first_campaign)
    known = ledger.email_known & (book.cust >= 0) & written
    _placed_order_events(rng, book, ledger, known, events)
    return events


def _potential_outcomes(
    ledger: _Ledger,
    induced: np.ndarray,
    member_of: np.ndarray,
    members: np.ndarray,
    sent: np.ndarray,
    mail: _Mail,
    emails: list[str],
) -> PotentialOutcomes:
    """Each member's outcomes with the email (every counted order) and without it (the
    orders it did not bring)."""
    n = len(members)
    counted = ledger.counted & (member_of >= 0)
    value = (ledger.total - ledger.refunded) / 100.0

    def per_member(orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        who = member_of[orders]
        return np.bincount(who, minlength=n) > 0, np.bincount(who, value[orders], minlength=n)

    bought_if_sent, spent_if_sent = per_member(counted)
    bought_if_not, spent_if_not = per_member(counted & ~induced)
    return PotentialOutcomes(
        [emails[c] for c in members.tolist()],
        sent,
        bought_if_sent,
        bought_if_not,
        spent_if_sent,
        spent_if_not,
        mail.unsubscribed,
    )
