"""The workspace tables feature modules read, as Ibis tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import ibis.expr.types as ir

from segmint.errors import WorkspaceError
from segmint.products import enriched_order_lines
from segmint.schema import FEATURES_TABLE
from segmint.store import Store


def stored_features(store: Store) -> ir.Table:
    """The features the latest ``segmint refresh`` stored."""
    if FEATURES_TABLE not in store.con.list_tables():
        raise WorkspaceError("no features yet", hint="run `segmint refresh` first")
    return store.table(FEATURES_TABLE)


def latest_run_as_of(runs: ir.Table, as_of: date) -> ir.Table:
    """The rows of a per-run table (``predictions``, ``cluster_members``: ``run_id``,
    ``as_of``, ...) of its latest run made as of ``as_of`` or earlier."""
    usable = runs.filter(runs.as_of <= as_of)
    return usable.filter(usable.run_id == usable.run_id.max())


#: The canonical tables features are computed from.
INPUTS = (
    "customers",
    "orders",
    "order_lines",
    "refunds",
    "events",
    "products",
    "predictions",
    "cluster_members",
)


@dataclass(frozen=True)
class Tables:
    """Canonical tables a feature module computes from (see docs/data-model.md), and the
    order lines enriched with the catalog once they are staged (:meth:`with_staged_lines`)."""

    customers: ir.Table
    orders: ir.Table
    order_lines: ir.Table
    refunds: ir.Table
    events: ir.Table
    products: ir.Table
    predictions: ir.Table
    cluster_members: ir.Table
    staged_lines: ir.Table | None = None

    @classmethod
    def of(cls, store: Store) -> Tables:
        return cls(**{name: store.table(name) for name in INPUTS})

    def product_lines(self) -> ir.Table:
        """Order lines with their catalog fields (:func:`segmint.products.enriched_order_lines`)."""
        if self.staged_lines is not None:
            return self.staged_lines
        return enriched_order_lines(self.order_lines, self.products)

    def with_staged_lines(self, stage: Callable[[str, ir.Table], ir.Table]) -> Tables:
        """The same tables with the enriched order lines materialized once, for every module
        that reads them."""
        if self.staged_lines is not None:
            return self
        return replace(self, staged_lines=stage("_enriched_lines", self.product_lines()))
