"""Customer features: one row per customer, as of a date, as Ibis expressions.

``customer_features`` is what segments, models and exports read. Each feature is declared
in :mod:`segmint.features.catalog` by the module that computes it.
"""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.features.catalog import CATALOG, Feature
from segmint.features.transactional import transactional_features
from segmint.store import Store

__all__ = ["CATALOG", "Feature", "customer_features", "default_as_of"]


def default_as_of(orders: ir.Table) -> date | None:
    """The latest day with a counted order: the default as-of date."""
    latest = counted_orders(orders).placed_date.max().to_pyarrow().as_py()
    return latest


def customer_features(store: Store, as_of: date | None = None) -> ir.Table:
    """Every customer with every catalog feature, as of ``as_of`` (default: latest order)."""
    orders = store.table("orders")
    as_of = as_of or default_as_of(orders) or date.today()
    return transactional_features(store.table("customers"), orders, store.table("refunds"), as_of)
