"""The workspace at a glance: customers, orders, revenue, date range, imports and rejects."""

from __future__ import annotations

from typing import Any

from segmint.definitions import counted_orders, counted_refunds
from segmint.store import Store


def workspace_summary(store: Store) -> dict[str, Any]:
    """Headline numbers, each computed with the definitions in :mod:`segmint.definitions`."""
    orders = store.table("orders")
    refunds = store.table("refunds")
    counted = counted_orders(orders)
    refunded = counted_refunds(refunds, orders)
    imports = store.table("imports")
    settings = store.settings()
    order_stats = (
        counted.aggregate(
            orders=counted.count(),
            buyers=counted.customer_id.nunique(),
            gross=counted.total.sum(),
            product_sales=counted.product_sales.sum(),
            first=counted.placed_date.min(),
            last=counted.placed_date.max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    refund_stats = (
        refunded.aggregate(amount=refunded.amount.sum(), product=refunded.product_amount.sum())
        .to_pyarrow()
        .to_pylist()[0]
    )
    import_stats = (
        imports.aggregate(
            files=imports.count(),
            read=imports.rows_read.sum(),
            loaded=imports.rows_loaded.sum(),
            rejected=imports.rows_rejected.sum(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    gross = order_stats["gross"] or 0
    return {
        "customers": int(store.table("customers").count().execute()),
        "customers_with_orders": order_stats["buyers"],
        "orders": order_stats["orders"],
        "orders_not_counted": int(orders.filter(orders.status != "placed").count().execute()),
        "amount_spent": float(gross - (refund_stats["amount"] or 0)),
        "net_sales": float((order_stats["product_sales"] or 0) - (refund_stats["product"] or 0)),
        "refunds": float(refund_stats["amount"] or 0),
        "currency": settings.get("currency"),
        "timezone": settings.get("timezone") or "UTC",
        "first_order_date": order_stats["first"],
        "last_order_date": order_stats["last"],
        "events": int(store.table("events").count().execute()),
        "identities": int(store.table("identities").count().execute()),
        "merges": int(store.table("merges").count().execute()),
        "imports": import_stats["files"],
        "rows_read": import_stats["read"] or 0,
        "rows_loaded": import_stats["loaded"] or 0,
        "rows_rejected": import_stats["rejected"] or 0,
    }
