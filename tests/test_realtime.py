"""Real-time rescoring against the full refresh it must agree with, and a live change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from segmint.realtime import Rescorer
from segmint.workspace import Workspace


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, import_demo_shop: Callable[[Path], Workspace]
) -> Workspace:
    ws = import_demo_shop(tmp_path_factory.mktemp("realtime") / "shop.duckdb")
    yield ws
    ws.close()


def stored_memberships(ws: Workspace) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in ws.table("segment_members").to_pyarrow().to_pylist():
        out.setdefault(row["customer_id"], set()).add(row["segment"])
    return out


def test_rescoring_everyone_alone_reproduces_the_refresh(shop: Workspace) -> None:
    rescorer = Rescorer(shop.store)
    ids = shop.table("customers").customer_id.to_pyarrow().to_pylist()
    stored = stored_memberships(shop)

    rescored = rescorer.rescore(ids)

    assert set(rescored.memberships) == set(ids)
    assert {c: set(s) for c, s in rescored.memberships.items()} == {
        c: stored.get(c, set()) for c in ids
    }
    expected = shop.features().to_pyarrow().sort_by("customer_id")
    got = rescored.features.sort_by("customer_id")
    assert got.schema == expected.schema
    differing = [c for c in expected.column_names if got[c].to_pylist() != expected[c].to_pylist()]
    assert differing == []


def test_one_customer_alone_uses_the_refresh_cut_points(shop: Workspace) -> None:
    features = shop.features().to_pyarrow().to_pylist()
    champion = next(f for f in features if f["rfm_group"] == "champions")
    rescorer = Rescorer(shop.store)

    alone = rescorer.rescore([champion["customer_id"]])

    row = alone.features.to_pylist()[0]
    assert (row["r_score"], row["f_score"], row["m_score"]) == (
        champion["r_score"],
        champion["f_score"],
        champion["m_score"],
    )
    assert "rfm_champions" in alone.memberships[champion["customer_id"]]
    assert rescorer.rescore(["c_nobody"]).memberships == {}


def test_an_added_to_cart_event_puts_a_customer_in_cart_abandoners(shop: Workspace) -> None:
    rescorer = Rescorer(shop.store)
    features = shop.features().to_pyarrow().to_pylist()
    buyer = next(f for f in features if f["number_of_orders"] >= 2 and not f["open_cart"])
    assert "engagement_cart_abandoners" not in stored_memberships(shop)[buyer["customer_id"]]
    day = rescorer.thresholds.as_of + timedelta(days=1)
    event = {
        "event_id": ["test-cart-1"],
        "customer_id": [buyer["customer_id"]],
        "event_type": ["added_to_cart"],
        "event_name": ["Added to Cart"],
        "occurred_at": pa.array([datetime(day.year, day.month, day.day, 15)], pa.timestamp("us")),
        "occurred_date": [day],
        "source": ["test"],
    }
    shop.store.insert("events", pa.table(event))

    after = rescorer.rescore([buyer["customer_id"]], day)

    assert after.as_of == day
    assert "engagement_cart_abandoners" in after.memberships[buyer["customer_id"]]
    assert after.features.to_pylist()[0]["open_cart"] is True
