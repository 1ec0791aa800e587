"""Store statistics: the averages and percentiles of a refresh's population that segment
rules compare customers with (``value_high_aov_one_time`` reads the average AOV, spend tiers
the net-sales percentiles, predicted segments the predicted-CLV percentiles).

A refresh computes them with the RFM cut points (:func:`statistics_and_rfm_cut_points`):
both read the buyers' net sales, whose cut points then come from one selection.
"""

from __future__ import annotations

import ibis.expr.types as ir

from segmint.features.quantiles import nearest_rank_cut_points_of
from segmint.features.rfm import RfmCutPoints, rfm_cut_point_columns

NET_SALES_PERCENTILES = (0.95, 0.75, 0.5)
PREDICTED_CLV_PERCENTILES = (0.95, 0.8)


def store_statistics(features: ir.Table) -> dict[str, float]:
    """Averages and net-sales percentiles among customers with orders, and predicted-CLV
    percentiles among customers with predictions (0 without; the column is missing from a
    table of some features only)."""
    return _statistics(features, {})[0]


def statistics_and_rfm_cut_points(features: ir.Table) -> tuple[dict[str, float], RfmCutPoints]:
    """:func:`store_statistics` and :func:`~segmint.features.rfm.rfm_cut_points` of
    ``features``: one query for the averages, one for every cut point and percentile."""
    statistics, cuts = _statistics(features, rfm_cut_point_columns(features))
    return statistics, RfmCutPoints(**cuts)


def _statistics(
    features: ir.Table, more: dict[str, tuple[ir.Column, tuple[float, ...]]]
) -> tuple[dict[str, float], dict[str, tuple[float, ...]]]:
    """The store statistics, and the cut points of ``more`` computed in the same query."""
    buyers = features.filter(features.number_of_orders > 0)
    means = (
        buyers.aggregate(
            avg_aov=buyers.aov.cast("float64").mean(),
            avg_amount_spent=buyers.amount_spent.cast("float64").mean(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    columns = {**more, "_net_sales": (buyers.net_sales, NET_SALES_PERCENTILES)}
    if "predicted_clv_12m" in features.columns:
        columns["_clv"] = (features.predicted_clv_12m, PREDICTED_CLV_PERCENTILES)
    cuts = nearest_rank_cut_points_of(columns)
    p95, p75, p50 = cuts.pop("_net_sales") or (0.0, 0.0, 0.0)
    clv_p95, clv_p80 = cuts.pop("_clv", ()) or (0.0, 0.0)
    statistics = {
        "avg_aov": round(means["avg_aov"] or 0.0, 2),
        "avg_amount_spent": round(means["avg_amount_spent"] or 0.0, 2),
        "net_sales_p95": p95,
        "net_sales_p75": p75,
        "net_sales_p50": p50,
        "predicted_clv_p95": clv_p95,
        "predicted_clv_p80": clv_p80,
    }
    return statistics, cuts
