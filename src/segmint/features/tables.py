"""The workspace tables feature modules read, as Ibis tables."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from segmint.errors import WorkspaceError
from segmint.schema import FEATURES_TABLE
from segmint.store import Store


def stored_features(store: Store) -> ir.Table:
    """The features the latest ``segmint refresh`` stored."""
    if FEATURES_TABLE not in store.con.list_tables():
        raise WorkspaceError("no features yet", hint="run `segmint refresh` first")
    return store.table(FEATURES_TABLE)


@dataclass(frozen=True)
class Tables:
    """Canonical tables a feature module computes from (see docs/data-model.md)."""

    customers: ir.Table
    orders: ir.Table
    order_lines: ir.Table
    refunds: ir.Table
    events: ir.Table
    products: ir.Table

    @classmethod
    def of(cls, store: Store) -> Tables:
        return cls(**{name: store.table(name) for name in cls.__dataclass_fields__})
