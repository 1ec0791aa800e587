"""RFM: recency, frequency and monetary scores 1-5 from cut points stored with each refresh.

Scores come from value cut points, not from ranks, so equal values always get equal scores,
one customer can be rescored alone with the stored cut points, and every engine agrees.
Cut points are computed among customers with at least one counted order, by the
nearest-rank rule (the value at position ``ceil(q * n)`` in ascending order):

- **Recency** (``days_since_last_order``, fewer is better): cut points at the 20th, 40th,
  60th and 80th percentiles; a customer scores 5 minus the number of cut points their value
  exceeds.
- **Frequency** (``number_of_orders``): most customers have one order, so quintiles would
  be mostly ties. One order scores 1; repeat buyers score 2 plus the number of cut points
  their count exceeds, with cut points at the 25th, 50th and 75th percentiles among repeat
  buyers (so 2-5 split repeat buyers into quarters as far as ties allow).
- **Monetary** (``net_sales``, more is better): quintile cut points; a customer scores 1 plus
  the number of cut points their value exceeds.

Customers without orders have no scores. ``rfm_cell`` is ``R``, ``F`` and ``M`` written
together (``"545"``); ``rfm_group`` is the R x F grid's group (:data:`RFM_GRID`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import ibis
import ibis.expr.types as ir

from segmint.features.catalog import feature
from segmint.features.transactional import DAYS_SINCE_LAST_ORDER, NET_SALES, NUMBER_OF_ORDERS

GROUP = "RFM"
QUINTILES = (0.2, 0.4, 0.6, 0.8)
QUARTILES = (0.25, 0.5, 0.75)

RECENCY_SCORE = feature(
    "r_score", "integer", GROUP, "Recency score 1-5 (5: most recent), from stored cut points."
)
FREQUENCY_SCORE = feature(
    "f_score",
    "integer",
    GROUP,
    "Frequency score 1-5: 1 for one order, 2-5 by quartiles among repeat buyers.",
)
MONETARY_SCORE = feature(
    "m_score", "integer", GROUP, "Monetary score 1-5 (5: highest net sales), from cut points."
)
RFM_CELL = feature("rfm_cell", "string", GROUP, "The three scores written together, e.g. `545`.")
#: R x F -> group: every one of the 25 cells exactly once (segments-reference, section 2).
RfmGrid = dict[int, tuple[str, ...]]
RFM_GRID: RfmGrid = {
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose_them"),
}
RFM_GROUPS = tuple(dict.fromkeys(name for _, row in sorted(RFM_GRID.items()) for name in row))

RFM_GROUP = feature(
    "rfm_group",
    "enum",
    GROUP,
    "The group of the customer's R and F scores on the R x F grid; empty without orders.",
    values=RFM_GROUPS,
)


@dataclass(frozen=True)
class RfmCutPoints:
    """The cut points one refresh used; stored with it so scores can be reproduced."""

    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def as_dict(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in asdict(self).items()}


def nearest_rank_cut_points(values: ir.Column, quantiles: tuple[float, ...]) -> tuple[float, ...]:
    """The values at ranks ``ceil(q * n)`` (1-based, ascending, exact), computed in the engine.

    No sort of the ``n`` values: each distinct value is counted once, and the value at rank
    ``r`` is the smallest whose running count reaches ``r``.
    """
    table = values.name("v").as_table().filter(ibis._.v.notnull())
    counts = table.group_by("v").aggregate(n=ibis._.count())
    running = counts.mutate(
        upto=counts.n.sum().over(ibis.cumulative_window(order_by="v")),
        total=counts.n.sum().over(),
    )
    picked = running.aggregate(
        total=running.total.max(),
        **{
            f"q{i}": running.v.min(where=running.upto >= nearest_rank(running.total, q))
            for i, q in enumerate(quantiles)
        },
    )
    row = picked.to_pyarrow().to_pylist()[0]
    if not row["total"]:
        return ()
    return tuple(float(row[f"q{i}"]) for i in range(len(quantiles)))


def nearest_rank(n: ir.IntegerValue, q: float) -> ir.IntegerValue:
    """``max(1, ceil(q * n))`` in integers (``q`` as the decimal fraction it is written as)."""
    share = Fraction(str(q))
    rank = (n * share.numerator + (share.denominator - 1)) // share.denominator
    return ibis.greatest(rank, 1)


def rfm_cut_points(features: ir.Table) -> RfmCutPoints:
    """Cut points among customers with orders (frequency among repeat buyers)."""
    buyers = features.filter(features[NUMBER_OF_ORDERS] > 0)
    repeat = buyers.filter(buyers[NUMBER_OF_ORDERS] > 1)
    return RfmCutPoints(
        recency=nearest_rank_cut_points(buyers[DAYS_SINCE_LAST_ORDER], QUINTILES),
        frequency=nearest_rank_cut_points(repeat[NUMBER_OF_ORDERS], QUARTILES),
        monetary=nearest_rank_cut_points(buyers[NET_SALES].cast("float64"), QUINTILES),
    )


def _exceeded(value: ir.NumericValue, cuts: tuple[float, ...]) -> ir.IntegerValue:
    """How many cut points ``value`` is strictly above."""
    total = ibis.literal(0)
    for cut in cuts:
        total = total + ibis.ifelse(value > cut, 1, 0)
    return total


def with_rfm(features: ir.Table, cuts: RfmCutPoints, grid: RfmGrid = RFM_GRID) -> ir.Table:
    """``features`` plus the RFM scores, cell and group (``grid``: R -> groups of F 1..5)."""
    has_orders = features[NUMBER_OF_ORDERS] > 0
    recency = 5 - _exceeded(features[DAYS_SINCE_LAST_ORDER], cuts.recency)
    frequency = ibis.ifelse(
        features[NUMBER_OF_ORDERS] > 1,
        2 + _exceeded(features[NUMBER_OF_ORDERS], cuts.frequency),
        1,
    )
    monetary = 1 + _exceeded(features[NET_SALES].cast("float64"), cuts.monetary)
    scored = features.mutate(
        **{
            RECENCY_SCORE: ibis.ifelse(has_orders, recency, ibis.null()).cast("int8"),
            FREQUENCY_SCORE: ibis.ifelse(has_orders, frequency, ibis.null()).cast("int8"),
            MONETARY_SCORE: ibis.ifelse(has_orders, monetary, ibis.null()).cast("int8"),
        }
    )
    r, f = scored[RECENCY_SCORE], scored[FREQUENCY_SCORE]
    cell = r.cast("string") + f.cast("string") + scored[MONETARY_SCORE].cast("string")
    group = ibis.cases(
        *[
            ((r == rs) & (f == fs), name)
            for rs, row in sorted(grid.items())
            for fs, name in enumerate(row, start=1)
        ],
        else_=ibis.null("string"),
    )
    return scored.mutate(**{RFM_CELL: cell, RFM_GROUP: group})
