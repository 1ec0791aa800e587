"""``segmint segments preview``: a rule over the latest refresh, checked against pandas."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from segmint.cli.app import app
from segmint.errors import WorkspaceError
from segmint.segments import preview
from segmint.workspace import Workspace
from shopify_files import order, write_orders


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("shop")
    ws = Workspace(folder / "shop.duckdb")
    orders = [
        order(
            f"#{1000 + i}",
            f"c{i % 9}@example.com",
            f"2025-{1 + i % 12:02d}-{1 + i % 27:02d} 10:00:00 -0500",
            [(1 + i % 3, "Mug", f"{10 + 13 * (i % 11)}.00", "MUG")],
        )
        for i in range(60)
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    ws.refresh(date(2025, 12, 31))
    yield ws
    ws.close()


def test_preview_matches_an_independent_pandas_filter(shop: Workspace):
    features = shop.features().to_pandas()
    cutoff = date(2025, 12, 31) - timedelta(days=60)
    expected = features[
        (features.number_of_orders >= 7)
        & (features.amount_spent.astype(float) > 500)
        & (features.last_order_date.dt.date < cutoff)
    ]
    result = preview(
        shop.store, "number_of_orders >= 7 AND amount_spent > 500 AND last_order_date < -60d"
    )
    got = result.members.to_pandas()
    assert sorted(got.customer_id) == sorted(expected.customer_id)
    assert 0 < len(got) < len(features)
    assert result.customers == len(features) and result.as_of == date(2025, 12, 31)
    assert list(got.columns) == [
        "customer_id",
        "number_of_orders",
        "amount_spent",
        "last_order_date",
    ]


def test_shopify_names_and_rfm_groups(shop: Workspace):
    features = shop.features().to_pandas()
    champions = preview(shop.store, "rfm_group = 'CHAMPIONS'").members.to_pandas()
    assert sorted(champions.customer_id) == sorted(
        features.customer_id[features.rfm_group == "champions"]
    )


def test_preview_without_a_refresh(tmp_path: Path):
    with (
        Workspace(tmp_path / "empty.duckdb") as ws,
        pytest.raises(WorkspaceError, match="no features yet"),
    ):
        preview(ws.store, "number_of_orders > 1")


def test_cli_preview_json_and_errors(shop: Workspace):
    runner = CliRunner()
    path = str(shop.store.path)
    done = runner.invoke(
        app, ["-w", path, "segments", "preview", "number_of_orders >= 7", "--limit", "0", "--json"]
    )
    assert done.exit_code == 0, done.output
    records = json.loads(done.stdout)
    features = shop.features().to_pandas()
    assert len(records) == int((features.number_of_orders >= 7).sum())
    assert set(records[0]) == {"customer_id", "number_of_orders", "amount_spent"}
    bad = runner.invoke(app, ["-w", path, "segments", "preview", "number_of_order >= 3"])
    assert bad.exit_code == 1
    lines = bad.stderr.splitlines()
    assert lines[0] == "Error: Unknown attribute 'number_of_order'"
    assert lines[1:3] == ["  number_of_order >= 3", "  ^"]
    assert "number_of_orders" in lines[3]
