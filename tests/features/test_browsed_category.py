"""``browsed_category`` on hand-built views and orders, worked out by hand.

As of 30 June 2025 the 30-day window is 1-30 June. Categories of bought lines come from the
products export (the last segment of ``Product Category``); event categories are compared
with them ignoring case.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

import pytest

from segmint.features.intent import BROWSE_VIEWS, BROWSE_WINDOW_DAYS, intent_features
from segmint.features.tables import Tables
from segmint.workspace import Workspace
from shopify_files import boots_and_socks, order, write_orders, write_products

AS_OF = date(2025, 6, 30)
HEADER = ["Event", "Timestamp", "Email", "Product ID", "Product Name", "Category"]
GIL, HAL, IVY, JO, KIM = (f"{n}@example.com" for n in ("gil", "hal", "ivy", "jo", "kim"))


def views(email: str, category: str, days: list[int], month: int = 6) -> list[tuple]:
    return [
        ("Viewed Product", f"2025-{month:02d}-{day:02d}T12:00:00-05:00", email, "", "", category)
        for day in days
    ]


EVENTS = [
    *views(GIL, "Boots", [10, 20, 28]),  # 3 views, no order in June: Boots
    *views(HAL, "Boots", [2, 3, 4]),
    *views(HAL, "Socks", [5, 6, 7, 8]),  # more views, but bought socks on 15 June: Boots
    *views(IVY, "Boots", [10, 11]),
    *views(IVY, "Socks", [10, 11]),  # twice each: nothing
    *views(JO, "boots", [10, 11, 12]),  # bought a boot on 20 June (case ignored)
    *views(JO, "Socks", [10, 11, 12]),  # ties with boots, but boots are bought: Socks
    *views(KIM, "Boots", [1, 29]),
    *views(KIM, "Boots", [31], month=5),  # 31 May is outside the window: nothing
    ("Viewed Product", "2025-06-29T12:00:00-05:00", KIM, "X", "No category", ""),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("browse")
    ws = Workspace(folder / "shop.duckdb")
    catalog = boots_and_socks()
    ws.import_file(write_products(folder / "products_export.csv", catalog))
    boot, sock = (1, "Trail Boot", "120.00", "BOOT-1"), (1, "Wool Sock", "12.00", "SOCK-1")
    orders = [
        order("#1001", HAL, "2025-06-15 10:00:00 -0500", [sock]),
        order("#1002", JO, "2025-06-20 10:00:00 -0500", [boot]),
        order("#1003", GIL, "2025-07-01 10:00:00 -0500", [boot]),  # after as-of
        order("#1004", GIL, "2025-05-01 10:00:00 -0500", [boot]),  # before the window
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    path = folder / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(EVENTS)
    result = ws.import_file(path)
    assert (result.rows_loaded, result.rows_rejected) == (len(EVENTS), 0)
    yield ws
    ws.close()


def test_the_browse_rule_is_three_views_in_thirty_days():
    assert (BROWSE_VIEWS, BROWSE_WINDOW_DAYS) == (3, 30)


def test_browsed_category_per_customer(shop: Workspace):
    rows = intent_features(Tables.of(shop.store), AS_OF).to_pyarrow().to_pylist()
    emails = {
        c["customer_id"]: c["email"] for c in shop.table("customers").to_pyarrow().to_pylist()
    }
    found = {emails[r["customer_id"]]: r["browsed_category"] for r in rows}
    assert found == {GIL: "Boots", HAL: "Boots", IVY: None, JO: "Socks", KIM: None}
