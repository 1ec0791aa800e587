"""Email engagement features on hand-built Klaviyo events, each value worked out by hand.

The workspace zone is -05:00 (the Shopify export's offset) and every event is written with
that offset, so each event's local day is the day written. As of 30 June 2025 the last 30
days start on 1 June and the last 90 days on 2 April.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import ibis
import pytest

from segmint.features.catalog import CATALOG
from segmint.features.engagement import engagement_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import order, write_customers, write_orders

AS_OF = date(2025, 6, 30)
HEADER = ["Event", "Timestamp", "Email", "$event_id", "$value", "Campaign Name"]
#: Ann: the window edges. Bob: events but no orders. Cy (customers export only): no events.
EVENTS = [
    ("Received Email", "2025-06-30T09:00:00-05:00", "ann@example.com", "June Drop"),  # as-of day
    ("Received Email", "2025-06-01T09:00:00-05:00", "ann@example.com", "Summer"),  # 29 days
    ("Opened Email", "2025-06-01T09:30:00-05:00", "ann@example.com", "Summer"),  # 29 days
    ("Received Email", "2025-05-31T09:00:00-05:00", "ann@example.com", "May"),  # 30 days
    ("Opened Email", "2025-05-31T10:00:00-05:00", "ann@example.com", "May"),  # 30 days
    ("Clicked Email", "2025-05-31T10:01:00-05:00", "ann@example.com", "May"),  # 30 days
    ("Received Email", "2025-04-02T09:00:00-05:00", "ann@example.com", "April"),  # 89 days
    ("Received Email", "2025-04-01T09:00:00-05:00", "ann@example.com", "Fools"),  # 90 days
    ("Opened Email", "2025-04-01T09:10:00-05:00", "ann@example.com", "Fools"),  # 90 days
    ("Clicked Email", "2025-04-01T09:11:00-05:00", "ann@example.com", "Fools"),  # 90 days
    # after the as-of day: ignored as of 30 June
    ("Received Email", "2025-07-01T09:00:00-05:00", "ann@example.com", "July"),
    ("Opened Email", "2025-07-01T09:05:00-05:00", "ann@example.com", "July"),
    ("Bounced Email", "2025-07-02T09:00:00-05:00", "ann@example.com", "July"),
    # 23:30 local on 30 June is 04:30 UTC on 1 July: still the as-of day
    ("Clicked Email", "2025-06-30T23:30:00-05:00", "ann@example.com", "June Drop"),
    ("Received Email", "2025-06-10T09:00:00-05:00", "bob@example.com", "Summer"),
    ("Unsubscribed", "2025-06-11T09:00:00-05:00", "bob@example.com", "Summer"),
    ("Marked Email as Spam", "2025-06-12T09:00:00-05:00", "bob@example.com", "Summer"),
    ("Dropped Email", "2025-06-13T09:00:00-05:00", "bob@example.com", "Summer"),
]


def write_events(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for event, when, email, campaign in EVENTS:
            writer.writerow([event, when, email, "", "", campaign])
    return path


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace for the module (the tests only read it): imports are the slow part."""
    tmp_path = tmp_path_factory.mktemp("engagement")
    workspace = Workspace(tmp_path / "test.duckdb")
    orders = [
        order("#1001", "ann@example.com", "2025-06-15 12:00:00 -0500", [(1, "Mug", "20.00", "MUG")])
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    customers = [
        {
            "Customer ID": "501",
            "Email": "cy@example.com",
            "First Name": "Cy",
            "Accepts Email Marketing": "yes",
            "Accepts SMS Marketing": "no",
        }
    ]
    workspace.import_file(write_customers(tmp_path / "customers_export.csv", customers))
    result = workspace.import_file(write_events(tmp_path / "klaviyo_events.csv"))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (18, 18, 0)
    yield workspace
    workspace.close()


def by_email(ws: Workspace, as_of: date, tables: Tables | None = None) -> dict[str, dict]:
    table = engagement_features(tables or Tables.of(ws.store), as_of).to_pyarrow().to_pylist()
    customers = ws.table("customers").to_pyarrow().to_pylist()
    emails = {c["customer_id"]: c["email"] for c in customers}
    assert len(table) == len(customers) == 3  # exactly one row per customer
    return {emails[row["customer_id"]]: row for row in table}


def test_counts_rates_and_recency_at_the_window_edges(shop: Workspace):
    ann = by_email(shop, AS_OF)["ann@example.com"]
    # received: 30 Jun, 1 Jun in 30 days; + 31 May, 2 Apr in 90 days; 1 Apr and 1 Jul not
    assert (ann["emails_received_30d"], ann["emails_received_90d"]) == (2, 4)
    assert (ann["emails_opened_30d"], ann["emails_opened_90d"]) == (1, 2)  # 1 Jun; + 31 May
    assert (ann["emails_clicked_30d"], ann["emails_clicked_90d"]) == (1, 2)  # 30 Jun; + 31 May
    assert ann["email_open_rate_90d"] == pytest.approx(2 / 4)
    assert ann["email_click_rate_90d"] == pytest.approx(2 / 4)
    assert ann["days_since_last_open"] == 29  # 1 June (the 1 July open is after as-of)
    assert ann["days_since_last_click"] == 0  # 23:30 local on 30 June
    assert (ann["unsubscribed"], ann["bounced"], ann["marked_spam"]) == (False, False, False)
    assert ann["email_consent"] == "subscribed"  # Accepts Marketing on her order
    assert ann["sms_consent"] is None


def test_events_after_as_of_count_from_their_day_on(shop: Workspace):
    ann = by_email(shop, date(2025, 7, 2))["ann@example.com"]
    # 30 days from 3 June: 30 Jun, 1 Jul received; 1 Jul opened; 30 Jun clicked
    assert (ann["emails_received_30d"], ann["emails_opened_30d"]) == (2, 1)
    # 90 days from 4 April: 2 Apr falls out, 1 Jul comes in
    assert (ann["emails_received_90d"], ann["emails_opened_90d"]) == (4, 3)
    assert ann["email_open_rate_90d"] == pytest.approx(3 / 4)
    assert ann["days_since_last_open"] == 1
    assert ann["bounced"] is True


def test_a_customer_with_events_but_no_orders(shop: Workspace):
    bob = by_email(shop, AS_OF)["bob@example.com"]
    assert (bob["emails_received_30d"], bob["emails_received_90d"]) == (1, 1)
    assert (bob["emails_opened_30d"], bob["emails_opened_90d"]) == (0, 0)
    assert (bob["emails_clicked_30d"], bob["emails_clicked_90d"]) == (0, 0)
    assert bob["email_open_rate_90d"] == 0.0 and bob["email_click_rate_90d"] == 0.0
    assert bob["days_since_last_open"] is None and bob["days_since_last_click"] is None
    assert bob["unsubscribed"] is True
    assert bob["bounced"] is True  # Dropped Email is a bounce
    assert bob["marked_spam"] is True
    assert bob["email_consent"] is None and bob["sms_consent"] is None
    # before his unsubscribe, spam report and drop
    earlier = by_email(shop, date(2025, 6, 10))["bob@example.com"]
    assert (earlier["unsubscribed"], earlier["marked_spam"], earlier["bounced"]) == (
        False,
        False,
        False,
    )
    assert earlier["emails_received_30d"] == 1


def test_a_customer_with_no_events(shop: Workspace):
    cy = by_email(shop, AS_OF)["cy@example.com"]
    counts = [f"emails_{kind}_{n}d" for n in (30, 90) for kind in ("received", "opened", "clicked")]
    assert [cy[c] for c in counts] == [0] * 6
    assert cy["email_open_rate_90d"] is None and cy["email_click_rate_90d"] is None
    assert cy["days_since_last_open"] is None and cy["days_since_last_click"] is None
    assert (cy["unsubscribed"], cy["bounced"], cy["marked_spam"]) == (False, False, False)
    assert (cy["email_consent"], cy["sms_consent"]) == ("subscribed", "not_subscribed")


def test_stored_unsubscribed_consent_means_unsubscribed(shop: Workspace):
    # No importer writes `unsubscribed` today (Shopify's flags are yes/no): set it on the table.
    tables = Tables.of(shop.store)
    stored = tables.customers
    customers = stored.mutate(
        email_consent=ibis.ifelse(
            stored.email == "cy@example.com", "unsubscribed", stored.email_consent
        )
    )
    found = by_email(shop, AS_OF, dataclasses.replace(tables, customers=customers))
    assert found["cy@example.com"]["unsubscribed"] is True
    assert found["cy@example.com"]["email_consent"] == "unsubscribed"
    assert found["ann@example.com"]["unsubscribed"] is False


def test_columns_types_and_catalog(shop: Workspace):
    table = engagement_features(Tables.of(shop.store), AS_OF)
    names = [
        "emails_received_30d",
        "emails_opened_30d",
        "emails_clicked_30d",
        "emails_received_90d",
        "emails_opened_90d",
        "emails_clicked_90d",
        "email_open_rate_90d",
        "email_click_rate_90d",
        "days_since_last_open",
        "days_since_last_click",
        "unsubscribed",
        "bounced",
        "marked_spam",
        "email_consent",
        "sms_consent",
    ]
    assert table.columns == ("customer_id", *names)
    kinds = {"integer": "int", "number": "float64", "boolean": "boolean", "string": "string"}
    for name in names:
        entry = CATALOG[name]
        assert entry.group == "Email engagement" and entry.definition.endswith(".")
        assert str(table.schema()[name]).startswith(kinds[entry.type]), name
