"""Campaigns on the demo store: eligible members (the export funnel) assigned reproducibly to
variants and a holdout, one file per variant, balance checked, and a report whose numbers are
recomputed here from the orders table."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from cli_runs import closed_for_cli
from segmint.activation.audience import audience, funnel, segment_ref
from segmint.activation.destinations import ExportOptions, destination_for
from segmint.campaigns.assignment import bucket
from segmint.campaigns.outcomes import Span, outcomes
from segmint.campaigns.registry import NoEligibleMembers, create_campaign, load_campaign
from segmint.campaigns.report import campaign_report
from segmint.campaigns.results import import_results
from segmint.cli.app import app
from segmint.workspace import Workspace

SEGMENT = "lifecycle_repeat"


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop: Callable
) -> Iterator[Workspace]:
    ws = import_demo_shop(tmp_path_factory.mktemp("campaigns") / "shop.duckdb")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def send_date(shop: Workspace) -> date:
    """Thirty days before the end of the data: a 14-day window that has ended."""
    as_of = shop.table("refreshes").as_of.max().execute()
    return pd.Timestamp(as_of).date() - timedelta(days=30)


def test_create_assigns_the_eligible_members(shop: Workspace, tmp_path: Path, send_date: date):
    created = create_campaign(
        shop.store, "spring", SEGMENT, "klaviyo", ["A", "B"], 0.2, send_date, 14, out=tmp_path
    )
    campaign = created.campaign
    target = destination_for("klaviyo", ExportOptions())
    ref = segment_ref(shop.store, SEGMENT)
    rows = shop.store.stage(
        "_t_audience", audience(shop.store, ref, target.channel, target.usable, [], [])
    )
    eligible = set(rows.filter(rows.step == "exported").customer_id.to_pyarrow().to_pylist())
    assert funnel(rows).exported == campaign.eligible == len(eligible) > 100
    stored = shop.table("campaign_assignments").to_pandas()
    assert set(stored.customer_id) == eligible  # consent and suppression applied to every arm
    # each customer's arm follows from the salt and the id alone (independent hashlib twin)
    for row in stored.head(300).itertuples():
        expected = campaign.arms.arm_of(bucket(campaign.salt, row.customer_id))
        assert row.arm == expected
    sizes = stored.arm.value_counts().to_dict()
    assert sizes == created.sizes and set(sizes) == {"A", "B", "holdout"}
    assert not created.balance.sample_ratio.mismatch
    # one Klaviyo file per variant, none for the holdout, with exactly its members' emails
    assert [Path(f).name for f in campaign.files] == [
        "spring-A-klaviyo.csv",
        "spring-B-klaviyo.csv",
    ]
    emails = shop.table("customers").to_pandas().set_index("customer_id").email
    for arm, file in zip(["A", "B"], campaign.files, strict=True):
        with open(file, newline="", encoding="utf-8") as fh:
            written = {r["Email"] for r in csv.DictReader(fh)}
        assert written == set(emails[stored.customer_id[stored.arm == arm]])
    assert load_campaign(shop.store, "spring").salt == campaign.salt


def test_same_salt_same_assignment(shop: Workspace, tmp_path: Path, send_date: date):
    first, second = (
        create_campaign(
            shop.store, name, SEGMENT, "csv", ["A"], 0.5, send_date, out=tmp_path, salt="fixed-salt"
        )
        for name in ("salted-1", "salted-2")
    )
    table = shop.table("campaign_assignments").to_pandas()
    one = table[table.campaign_id == first.campaign.campaign_id].set_index("customer_id").arm
    two = table[table.campaign_id == second.campaign.campaign_id].set_index("customer_id").arm
    assert one.sort_index().equals(two.sort_index())


def test_nobody_eligible_is_an_error_and_stores_nothing(
    shop: Workspace, tmp_path: Path, send_date: date
):
    before = shop.table("campaigns").count().execute()
    with pytest.raises(NoEligibleMembers, match=f"no member of segment '{SEGMENT}'") as caught:
        create_campaign(
            shop.store,
            "nobody",
            SEGMENT,
            "klaviyo",
            ["A"],
            0.1,
            send_date,
            exclude=[SEGMENT],
            out=tmp_path,
        )
    assert "excluded" in (caught.value.details or "")
    assert shop.table("campaigns").count().execute() == before
    assert not list(tmp_path.iterdir())


def test_report_matches_the_orders(shop: Workspace, send_date: date):
    report = campaign_report(shop.store, "spring")
    assert report.window_ended and report.span.first == send_date
    last = send_date + timedelta(days=13)
    orders = shop.table("orders").to_pandas()
    orders["placed_date"] = orders.placed_date.dt.date
    orders = orders[
        (orders.status == "placed")
        & (orders.placed_date >= send_date)
        & (orders.placed_date <= last)
    ]
    buyers = set(orders.customer_id)
    assigned = shop.table("campaign_assignments").to_pandas()
    assigned = assigned[assigned.campaign_id == load_campaign(shop.store, "spring").campaign_id]
    rows = {(r["arm"], r["metric"]): r for r in report.rows}
    for arm, group in assigned.groupby("arm"):
        expected = group.customer_id.isin(buyers).mean()
        assert rows[(arm, "conversion_rate")]["value"] == pytest.approx(expected)
        assert rows[(arm, "conversion_rate")]["recipients"] == len(group)
    b = rows[("B", "conversion_rate")]
    assert b["control_value"] == rows[("holdout", "conversion_rate")]["value"]
    assert b["ci_low"] <= b["absolute_lift"] <= b["ci_high"] and 0 <= b["p_value"] <= 1
    assert b["verdict"]
    assert rows[("holdout", "conversion_rate")]["verdict"] is None


def test_report_waits_for_the_window(shop: Workspace):
    report = campaign_report(shop.store, "spring", window_days=60)
    assert not report.window_ended
    verdicts = {r["verdict"] for r in report.rows if r["arm"] != "holdout" and r["verdict"]}
    assert verdicts == {"the window is still open: no winner is called until it ends"}
    forced = campaign_report(shop.store, "spring", window_days=60, force=True)
    assert all(v.startswith("interim") for r in forced.rows if (v := r["verdict"]))


def test_results_file_overrides_and_rejects(shop: Workspace, tmp_path: Path):
    campaign = load_campaign(shop.store, "spring")
    assigned = shop.table("campaign_assignments").to_pandas()
    assigned = assigned[assigned.campaign_id == campaign.campaign_id]
    emails = shop.table("customers").to_pandas().set_index("customer_id").email
    holdout = assigned[assigned.arm == "holdout"].customer_id.iloc[0]
    a_ids = list(assigned[assigned.arm == "A"].customer_id.iloc[:3])
    path = tmp_path / "results.csv"
    path.write_text(
        "email,variant,sent,opened,ordered,revenue\n"
        f"{emails[a_ids[0]]},A,true,yes,true,120.50\n"
        f"{emails[a_ids[1]].upper()},A,1,0,0,\n"
        f"{emails[a_ids[2]]},B,true,true,false,0\n"  # the wrong variant
        f"{emails[holdout]},holdout,false,false,maybe,\n"  # not a boolean
        "nobody@example.com,A,true,true,true,10\n"  # not in the campaign
        f"{emails[a_ids[0]]},A,true,true,true,5\n",  # the same customer again
        encoding="utf-8",
    )
    result = import_results(shop.store, "spring", path)
    assert (result.rows_read, result.rows_loaded, len(result.rejects)) == (6, 2, 4)
    assert [(r.row, r.column) for r in result.rejects] == [
        (4, "variant"),
        (5, "ordered"),
        (6, "email"),
        (7, "email"),
    ]
    assert "assigned this customer to 'A'" in result.rejects[0].reason
    stored = shop.table("campaign_results").to_pandas()
    assert len(stored) == 2 and float(stored.revenue.max()) == 120.5
    # the file's outcomes win over the workspace's for the customers it lists
    done = outcomes(shop.store, campaign, Span.of(campaign.send_date, 14)).to_pandas()
    done = done.set_index("customer_id")
    assert (done.converted[a_ids[0]], done.revenue[a_ids[0]]) == (True, 120.5)
    assert (done.converted[a_ids[1]], done.revenue[a_ids[1]]) == (False, 0.0)


def test_campaign_commands(shop: Workspace, tmp_path: Path, send_date: date):
    runner = CliRunner()
    with closed_for_cli(shop) as path:
        made = runner.invoke(
            app,
            [
                "-w",
                path,
                "campaign",
                "create",
                "cli",
                "--segment",
                SEGMENT,
                "--channel",
                "mailchimp",
                "--variants",
                "A,B",
                "--holdout",
                "10%",
                "--send-date",
                str(send_date),
                "--out",
                str(tmp_path),
                "--json",
            ],
        )
        assert made.exit_code == 0, made.output
        arms = json.loads(made.stdout)
        assert [a["arm"] for a in arms] == ["A", "B", "holdout"]
        assert [a["share"] for a in arms] == pytest.approx([0.45, 0.45, 0.1])
        report = runner.invoke(app, ["-w", path, "campaign", "report", "cli", "--json"])
        assert report.exit_code == 0, report.output
        assert {r["metric"] for r in json.loads(report.stdout)} == {
            "conversion_rate",
            "revenue_per_recipient",
            "aov",
            "unsubscribe_rate",
        }
        size = runner.invoke(
            app,
            [
                "-w",
                path,
                "campaign",
                "size",
                "--segment",
                SEGMENT,
                "--baseline",
                "5%",
                "--lift",
                "20%",
                "--json",
            ],
        )
        assert size.exit_code == 0, size.output
        (sized,) = json.loads(size.stdout)
        assert sized["needed_per_arm"] > 1000 and sized["detectable_lift"] > 0
        listed = runner.invoke(app, ["-w", path, "campaign", "list", "--json"])
        assert "cli" in {c["name"] for c in json.loads(listed.stdout)}
        again = runner.invoke(
            app, ["-w", path, "campaign", "create", "cli", "--segment", SEGMENT, "--channel", "csv"]
        )
        assert again.exit_code != 0 and again.stderr.startswith("Error: a campaign named 'cli'")
