"""A page of customers as the segment and RFM-cell pages list them: contact and value
columns, a search over id, email, phone and name, a sort, 25 to a page."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.store import Store

PAGE_SIZE = 25
CONTACT = ("customer_id", "email", "phone", "first_name", "last_name", "country")
SORTS = ("amount_spent", "number_of_orders", "last_order_date", "email", "customer_id")


def member_page(
    store: Store, rows: ir.Table, q: str | None, sort: str, order: str, page: int
) -> dict[str, Any]:
    """Page ``page`` of ``rows`` (a ``customer_id`` and feature columns, among them those of
    :data:`SORTS` but ``email``) with the customers' contact columns; ``q`` keeps those whose
    id, email, phone or name contains it (as written, case aside)."""
    contact = store.table("customers").select(*CONTACT)
    rows = rows.left_join(contact, "customer_id").drop("customer_id_right")
    if q and q.strip():
        needle = q.strip().lower()
        name = (rows.first_name.fill_null("") + " " + rows.last_name.fill_null("")).lower()
        rows = rows.filter(
            rows.customer_id.lower().contains(needle)
            | rows.email.fill_null("").lower().contains(needle)
            | rows.phone.fill_null("").contains(needle)
            | name.contains(needle)
        )
    total = store.scalar(rows.count())
    key = sort if sort in SORTS else "amount_spent"
    direction = ibis.desc(key) if order == "desc" else ibis.asc(key)
    page = max(1, page)
    shown = rows.order_by([direction, "customer_id"]).limit(
        PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return {
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "sort": key,
        "order": order,
        "q": q,
        "rows": store.run(shown).to_pylist(),
    }
