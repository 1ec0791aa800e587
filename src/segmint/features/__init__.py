"""Customer features: one row per customer, as of a date, as Ibis expressions.

``customer_features`` is what segments, models and exports read. Each feature is declared
in :mod:`segmint.features.catalog` by the module that computes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import ibis.expr.types as ir

from segmint.definitions import counted_orders
from segmint.features.catalog import CATALOG, Feature
from segmint.features.channel import channel_features
from segmint.features.clustered import cluster_features
from segmint.features.engagement import engagement_features
from segmint.features.intent import intent_features
from segmint.features.predicted import predicted_features
from segmint.features.price import price_features
from segmint.features.products import product_features
from segmint.features.profile import profile_features
from segmint.features.rfm import RFM_GRID, RfmCutPoints, RfmGrid, rfm_cut_points, with_rfm
from segmint.features.statistics import statistics_and_rfm_cut_points
from segmint.features.tables import Tables
from segmint.features.transactional import order_activity_features, transactional_features
from segmint.store import Store

#: Feature modules after the transactional ones: each is ``(tables, as_of) -> table`` with
#: ``customer_id`` and its features, joined to every customer in this order.
MODULES: list[Callable[[Tables, date], ir.Table]] = [
    order_activity_features,
    product_features,
    price_features,
    channel_features,
    engagement_features,
    intent_features,
    profile_features,
    predicted_features,
    cluster_features,
]

__all__ = [
    "CATALOG",
    "Feature",
    "FeatureSet",
    "compute_features",
    "customer_features",
    "default_as_of",
]


@dataclass(frozen=True)
class FeatureSet:
    """The features of every customer as of a day, the RFM cut points they used, and the
    store statistics of that population when they were asked for."""

    table: ir.Table
    as_of: date
    rfm_cuts: RfmCutPoints
    statistics: dict[str, float] = field(default_factory=dict)  # empty unless asked for


def default_as_of(orders: ir.Table) -> date | None:
    """The latest day with a counted order: the default as-of date."""
    return counted_orders(orders).placed_date.max().to_pyarrow().as_py()


def customer_features(
    store: Store,
    as_of: date | None = None,
    rfm_cuts: RfmCutPoints | None = None,
    rfm_grid: RfmGrid = RFM_GRID,
) -> FeatureSet:
    """Every customer of the workspace with every catalog feature, computed in its DuckDB."""
    return compute_features(Tables.of(store), store.stage, as_of, rfm_cuts, rfm_grid)


def compute_features(
    tables: Tables,
    stage: Callable[[str, ir.Table], ir.Table],
    as_of: date | None = None,
    rfm_cuts: RfmCutPoints | None = None,
    rfm_grid: RfmGrid = RFM_GRID,
    with_statistics: bool = False,
) -> FeatureSet:
    """Every customer with every catalog feature, as of ``as_of`` (default: latest order),
    on whatever backend ``tables`` live in (``stage`` materializes an intermediate table).

    RFM cut points are computed from this population unless given (to rescore with those of
    an earlier refresh); ``rfm_grid`` maps R and F scores to groups. ``with_statistics``:
    the store statistics of this population too, with the cut points (one query).
    """
    as_of = as_of or default_as_of(tables.orders) or date.today()
    tables = tables.with_staged_lines(stage)
    base = transactional_features(tables.customers, tables.orders, tables.refunds, as_of)
    base = stage("_features_transactional", base)
    for module in MODULES:
        # Each module is materialized alone: small query plans for every engine, and one
        # module's hash tables at a time in memory.
        extra = stage(f"_features_{module.__name__}", module(tables, as_of))
        base = base.left_join(extra, "customer_id").drop("customer_id_right")
    base = stage("_features_base", base)
    statistics, found = statistics_and_rfm_cut_points(base) if with_statistics else ({}, None)
    cuts = rfm_cuts or found or rfm_cut_points(base)
    return FeatureSet(with_rfm(base, cuts, rfm_grid), as_of, cuts, statistics)
