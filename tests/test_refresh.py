"""``segmint refresh``: features stored with the as-of day and the RFM cut points used."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmint.cli.main  # noqa: F401  (registers the commands)
from segmint.cli.app import app
from segmint.errors import WorkspaceError
from segmint.features.rfm import RfmCutPoints, with_rfm
from segmint.workspace import Workspace
from shopify_files import order, write_orders


@pytest.fixture
def shop(workspace: Workspace, tmp_path: Path) -> Workspace:
    orders = [
        order(
            f"#{1000 + i}",
            f"c{i % 7}@example.com",
            f"2025-0{1 + i % 6}-1{i % 9} 10:00:00 -0500",
            [(1 + i % 3, "Mug", f"{10 + 7 * i}.00", "MUG")],
        )
        for i in range(30)
    ]
    workspace.import_file(write_orders(tmp_path / "orders_export.csv", orders))
    return workspace


def test_refresh_stores_features_and_its_cut_points(shop: Workspace):
    with pytest.raises(WorkspaceError, match="no features yet"):
        shop.features()
    result = shop.refresh(date(2025, 4, 30))
    assert (result.refresh_id, result.as_of, result.customers) == (1, date(2025, 4, 30), 7)
    stored = shop.features().to_pyarrow().to_pylist()
    assert len(stored) == 7
    (row,) = shop.table("refreshes").to_pyarrow().to_pylist()
    cuts = RfmCutPoints(**{k: tuple(v) for k, v in json.loads(row["rfm_cut_points"]).items()})
    assert row["as_of"] == date(2025, 4, 30) and cuts.recency == tuple(
        result.rfm_cut_points["recency"]
    )
    # the stored cut points rescore every customer exactly as the refresh did
    features = shop.features()
    rescored = with_rfm(
        features.drop("r_score", "f_score", "m_score", "rfm_cell", "rfm_group"), cuts
    )
    by_id = {r["customer_id"]: r["rfm_cell"] for r in rescored.to_pyarrow().to_pylist()}
    assert by_id == {r["customer_id"]: r["rfm_cell"] for r in stored}
    again = shop.refresh()
    assert again.refresh_id == 2 and again.as_of == date(2025, 6, 18)
    assert shop.table("refreshes").count().to_pyarrow().as_py() == 2


def test_cli_refresh_json_and_bad_date(shop: Workspace, tmp_path: Path):
    runner = CliRunner()
    path = str(shop.store.path)
    shop.close()
    done = runner.invoke(app, ["-w", path, "refresh", "--as-of", "2025-03-31", "--json"])
    assert done.exit_code == 0, done.output
    (record,) = json.loads(done.stdout)
    assert record["as_of"] == "2025-03-31" and record["customers"] == 7
    bad = runner.invoke(app, ["-w", path, "refresh", "--as-of", "31/03/2025"])
    assert bad.exit_code == 1
    assert bad.stderr.splitlines()[0] == (
        "Error: --as-of: '31/03/2025' is not a date (expected YYYY-MM-DD)"
    )
