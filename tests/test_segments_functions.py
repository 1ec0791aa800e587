"""``products_purchased(...)`` in rules: categories, tags, products, periods and quantities."""

from __future__ import annotations

from datetime import date

import pytest

from segmint.segments import preview
from segmint.workspace import Workspace
from shopify_files import boots_and_socks, order, write_orders, write_products


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder = tmp_path_factory.mktemp("shop")
    ws = Workspace(folder / "shop.duckdb")
    catalog = boots_and_socks()
    ws.import_file(write_products(folder / "products_export.csv", catalog))
    boot, sock = (1, "Trail Boot", "120.00", "BOOT-1"), (3, "Wool Sock", "12.00", "SOCK-1")
    orders = [
        order("#1001", "ann@example.com", "2025-06-10 10:00:00 -0500", [boot]),  # boots, recent
        order("#1002", "bob@example.com", "2025-01-05 10:00:00 -0500", [boot]),  # boots, old
        order("#1003", "cy@example.com", "2025-06-01 10:00:00 -0500", [sock]),  # 3 socks
        order("#1004", "dee@example.com", "2025-06-02 10:00:00 -0500", [(1, *sock[1:])]),
        order(  # cancelled: counts for no one
            "#1005",
            "eve@example.com",
            "2025-06-03 10:00:00 -0500",
            [boot],
            **{"Cancelled at": "2025-06-03 11:00:00 -0500"},
        ),
    ]
    ws.import_file(write_orders(folder / "orders_export.csv", orders))
    ws.refresh(date(2025, 6, 30))
    yield ws
    ws.close()


def members(ws: Workspace, rule: str) -> set[str]:
    rows = ws.table("customers").select("customer_id", "email").to_pyarrow().to_pylist()
    emails = {r["customer_id"]: r["email"] for r in rows}
    found = preview(ws.store, rule).members.customer_id.to_pyarrow().to_pylist()
    return {emails[c].split("@")[0] for c in found}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("products_purchased(category: 'boots')", {"ann", "bob"}),
        ("products_purchased(category: 'Boots', since: -90d)", {"ann"}),  # 2 April on
        ("products_purchased(tag: 'winter')", {"ann", "bob", "cy", "dee"}),
        ("products_purchased(tag: 'SALE', until: 2025-03-31)", {"bob"}),
        ("products_purchased(id: 'SOCK-1', quantity: 2)", {"cy"}),
        ("products_purchased(product: ('BOOT-1', 'wool sock'))", {"ann", "bob", "cy", "dee"}),
        ("products_purchased MATCHES (category = 'socks', date > -60d)", {"cy", "dee"}),
        ("NOT products_purchased(category: 'boots') AND number_of_orders > 0", {"cy", "dee"}),
    ],
)
def test_products_purchased(shop: Workspace, rule: str, expected: set[str]):
    assert members(shop, rule) == expected
