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

import math
from dataclasses import asdict, dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.features.catalog import feature
from segmint.features.quantiles import nearest_rank_cut_points_of
from segmint.features.transactional import DAYS_SINCE_LAST_ORDER, NET_SALES, NUMBER_OF_ORDERS
from segmint.literals import EXACT, MAX_DIGITS, decimal_literal

GROUP = "RFM"
QUINTILES = (0.2, 0.4, 0.6, 0.8)
QUARTILES = (0.25, 0.5, 0.75)
#: Significant digits a double holds exactly (money of up to 15 digits compares exactly).
FLOAT_DIGITS = 15

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


def rfm_cut_points(features: ir.Table) -> RfmCutPoints:
    """Cut points among customers with orders (frequency among repeat buyers)."""
    return RfmCutPoints(**nearest_rank_cut_points_of(rfm_cut_point_columns(features)))


def rfm_cut_point_columns(
    features: ir.Table,
) -> dict[str, tuple[ir.Column, tuple[float, ...]]]:
    """The values each RFM score is cut from, and where: ``name -> (column, quantiles)``."""
    buyers = features.filter(features[NUMBER_OF_ORDERS] > 0)
    repeat = buyers.filter(buyers[NUMBER_OF_ORDERS] > 1)
    return {
        "recency": (buyers[DAYS_SINCE_LAST_ORDER], QUINTILES),
        "frequency": (repeat[NUMBER_OF_ORDERS], QUARTILES),
        "monetary": (buyers[NET_SALES], QUINTILES),
    }


def _ladder(
    value: ir.NumericValue, cuts: tuple[float, ...], first: int, step: int, *before: Any
) -> ir.IntegerValue:
    """``first + step * k``, ``k`` the number of cut points ``value`` is strictly above, after
    the ``before`` branches: one ``CASE`` from the highest cut point down, the first exceeded
    giving the count (cheaper than summing a ``CASE`` per cut point)."""
    above = [
        (value > cut_literal(value, cut), first + step * k)
        for k, cut in reversed(list(enumerate(sorted(cuts), 1)))
    ]
    return ibis.cases(*before, *above, else_=first).cast("int8")


def cut_literal(value: ir.NumericValue, cut: float) -> ir.NumericScalar:
    """``cut`` as a literal of ``value``'s kind, rounded down to its precision, so that
    ``value > literal`` is ``value > cut`` without converting the column row by row: an
    integer is above 4.5 when it is above 4, an amount in cents above 9.995 when above 9.99.
    ``cut`` is read as the shortest decimal that is that float (2722.54, not its binary
    expansion), which is exact up to 15 significant digits; beyond, and for any other
    column, the comparison is made in doubles."""
    dtype = value.type()
    finite = math.isfinite(cut)
    if dtype.is_integer() and finite and abs(cut) < 2**62:
        return ibis.literal(math.floor(cut), type="int64")
    if dtype.is_decimal() and dtype.scale is not None and finite:
        shortest = Decimal(repr(float(cut)))
        digits = len(shortest.as_tuple().digits)
        if digits <= FLOAT_DIGITS and shortest.adjusted() < MAX_DIGITS:
            unit = Decimal(1).scaleb(-dtype.scale)
            floored = shortest.quantize(unit, rounding=ROUND_FLOOR, context=EXACT)
            literal = decimal_literal(floored, dtype)
            if literal is not None:
                return literal
    return ibis.literal(float(cut), type="float64")


def with_rfm(features: ir.Table, cuts: RfmCutPoints, grid: RfmGrid = RFM_GRID) -> ir.Table:
    """``features`` plus the RFM scores, cell and group (``grid``: R -> groups of F 1..5)."""
    orders = features[NUMBER_OF_ORDERS]
    unscored = (~(orders > 0).fill_null(False), ibis.null("int8"))
    scored = features.mutate(
        **{
            RECENCY_SCORE: _ladder(features[DAYS_SINCE_LAST_ORDER], cuts.recency, 5, -1, unscored),
            FREQUENCY_SCORE: _ladder(orders, cuts.frequency, 2, 1, unscored, (orders <= 1, 1)),
            MONETARY_SCORE: _ladder(features[NET_SALES], cuts.monetary, 1, 1, unscored),
        }
    )
    r, f, m = scored[RECENCY_SCORE], scored[FREQUENCY_SCORE], scored[MONETARY_SCORE]
    cell = (r.cast("int16") * 100 + f * 10 + m).cast("string")  # three digits 1-5
    return scored.mutate(**{RFM_CELL: cell, RFM_GROUP: rfm_group_of(r, f, grid)})


def rfm_group_of(r: ir.IntegerValue, f: ir.IntegerValue, grid: RfmGrid) -> ir.StringValue:
    """The grid's group of scores ``r`` and ``f`` (null off the grid): a ``CASE`` on R, each
    branch a ``CASE`` on F over runs of equal neighbouring groups."""
    rows = [(r == rs, _group_by_frequency(f, row)) for rs, row in sorted(grid.items())]
    return ibis.cases(*rows, else_=ibis.null("string"))


def _group_by_frequency(f: ir.IntegerValue, row: tuple[str, ...]) -> ir.StringValue:
    runs = [
        (f <= fs, name) for fs, name in enumerate(row, start=1) if fs == len(row) or row[fs] != name
    ]
    return ibis.cases(*runs, else_=ibis.null("string"))
