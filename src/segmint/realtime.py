"""Real-time rescoring: the features and segments of a few customers, without a full refresh.

A :class:`Rescorer` builds the same feature and rule expressions as ``segmint refresh``
(:func:`segmint.features.compute_features`, :func:`segmint.segments.membership
.membership_flags`) once, over scratch copies of the workspace's tables restricted to the
customers listed in a scratch table, and compiles them to one query. Rescoring binds
customers by filling that table, copying their rows (one scan of each large table, however
often the features read it; each copy compiled once too) and running the compiled query:
nothing is rebuilt per event.

Population-relative values are those the last full refresh wrote down: its RFM cut points
and its store statistics (averages, top-5% cut-offs). Features are computed as of the later
of the refresh's as-of day and the day being scored, so an event of today counts; the query
is compiled once per such day (the last few days are kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot.expressions as sge

from segmint.features import compute_features
from segmint.features.rfm import RfmCutPoints
from segmint.features.tables import INPUTS, Tables
from segmint.refresh import with_cluster_segments
from segmint.schema import FEATURES_TABLE
from segmint.segments import latest_refresh
from segmint.segments.config import SegmentConfig, load_config
from segmint.segments.library import rule_values
from segmint.segments.membership import membership_flags
from segmint.store import Store
from segmint.webhooks.outbox import membership_changes

#: The scratch table holding the customers being rescored (one column, ``customer_id``).
KEYS = "_rescore_customers"
#: How many as-of days keep their compiled queries.
COMPILED_DAYS = 3
#: The scratch table the rescored features are written to, in the stored schema.
RESCORED = "_rescored_features"


@dataclass(frozen=True)
class Rescored:
    """New features and memberships of the rescored customers (Arrow, one row each)."""

    features: pa.Table
    memberships: dict[str, tuple[str, ...]]  # customer id -> slugs, in evaluation order
    as_of: date


@dataclass(frozen=True)
class Thresholds:
    """What a full refresh wrote down for rescoring customers alone later."""

    refresh_id: int
    as_of: date
    rfm_cuts: RfmCutPoints
    statistics: dict[str, float]

    @classmethod
    def of_latest_refresh(cls, store: Store) -> Thresholds:
        refresh = latest_refresh(store)
        cuts = json.loads(refresh["rfm_cut_points"])
        return cls(
            refresh_id=refresh["refresh_id"],
            as_of=refresh["as_of"],
            rfm_cuts=RfmCutPoints(**{k: tuple(v) for k, v in cuts.items()}),
            statistics=json.loads(refresh["store_statistics"]),
        )


class Rescorer:
    """Rescore customers of one workspace with the thresholds of its last refresh."""

    def __init__(self, store: Store, config: SegmentConfig | None = None):
        self.store = store
        self.thresholds = Thresholds.of_latest_refresh(store)
        self.config = with_cluster_segments(config or load_config(store.path), store)
        self.slugs = [s.slug for s in self.config.segments]
        self._compiled: dict[date, tuple[str, str]] = {}
        self._feature_schema = store.table(FEATURES_TABLE).schema()
        self._inputs, self._fills = self._scratch_inputs()
        self._rescored = store.stage(RESCORED, self._feature_schema.to_pyarrow().empty_table())

    def as_of(self, day: date | None = None) -> date:
        """The as-of day used for ``day``: never before the last refresh's."""
        return max(self.thresholds.as_of, day) if day else self.thresholds.as_of

    def rescore(self, customer_ids: list[str], day: date | None = None) -> Rescored:
        """Features and memberships of ``customer_ids`` as of ``day`` (default: the last
        refresh's as-of day). Customers the workspace does not have are left out."""
        as_of = self.as_of(day)
        features_sql, flags_sql = self._queries(as_of)
        self.store.refill(KEYS, pa.table({"customer_id": pa.array(customer_ids, pa.string())}))
        for name, rows in self._fills:
            self.store.refill(name, rows)
        raw = self.store.con.con
        features = self._features(features_sql)
        flags = raw.sql(flags_sql).to_arrow_table()
        return Rescored(features, self._memberships(flags), as_of)

    def _features(self, features_sql: str) -> pa.Table:
        """Run the features query into a table of the stored schema: DuckDB casts each
        column exactly as the refresh's ``customer_features`` did (AOV's decimals)."""
        self.store.refill(RESCORED, None)
        target = sge.to_identifier(RESCORED, quoted=True).sql("duckdb")
        self.store.con.con.execute(f"INSERT INTO {target} {features_sql}")
        return self.store.con.con.sql(f"SELECT * FROM {target}").to_arrow_table()

    def _queries(self, as_of: date) -> tuple[str, str]:
        """SQL of the features and the flags of the listed customers, compiled once per day
        from the Ibis expressions of a full refresh."""
        if as_of not in self._compiled:
            if len(self._compiled) >= COMPILED_DAYS:  # late events of earlier days are rare
                self._compiled.pop(next(iter(self._compiled)))
            features, flags = self._expressions(as_of)
            self._compiled[as_of] = (
                ibis.to_sql(features, dialect="duckdb"),
                ibis.to_sql(flags, dialect="duckdb"),
            )
        return self._compiled[as_of]

    def _scratch_inputs(self) -> tuple[Tables, list[tuple[str, ir.Table]]]:
        """Scratch tables for the rows of the customers in ``KEYS``, one per per-customer
        input table (those with a ``customer_id``, and the order lines of their orders), and
        what refills each. Made once: rescoring refills them in place."""
        keys = self.store.stage(KEYS, pa.table({"customer_id": pa.array([], pa.string())}))
        tables = Tables.of(self.store)
        scratch: dict[str, ir.Table] = {}
        fills = []
        for name in INPUTS:  # orders come before their lines
            table = getattr(tables, name)
            if name == "order_lines":
                rows = table.semi_join(scratch["orders"], "order_id")
            elif "customer_id" in table.columns:
                rows = table.semi_join(keys, "customer_id")
            else:
                scratch[name] = table
                continue
            scratch[name] = self.store.stage(f"_rescoring_{name}", rows)
            fills.append((f"_rescoring_{name}", rows))
        return Tables(**scratch), fills

    def _expressions(self, as_of: date) -> tuple[ir.Table, ir.Table]:
        tables = self._inputs
        computed = compute_features(
            tables, _in_query, as_of, self.thresholds.rfm_cuts, self.config.rfm_grid
        )
        features = computed.table.select(*self._feature_schema.names)
        # The flags read the features :meth:`_features` has just written, rather than
        # computing them a second time in their own query.
        values = rule_values(self.config.parameters, self.thresholds.statistics)
        flags, _ = membership_flags(self.config.segments, self._rescored, tables, as_of, values)
        return features, flags.select("customer_id", *self.slugs)

    def _memberships(self, flags: pa.Table) -> dict[str, tuple[str, ...]]:
        columns = {slug: flags[slug].to_pylist() for slug in self.slugs}
        out = {}
        for row, customer_id in enumerate(flags["customer_id"].to_pylist()):
            out[customer_id] = tuple(s for s in self.slugs if columns[s][row])
        return out


@dataclass(frozen=True)
class Change:
    """A customer entering or leaving a segment."""

    customer_id: str
    segment: str
    change: str  # "enter" or "exit"


def save_rescored(
    store: Store,
    rescored: Rescored,
    refresh_id: int,
    families: dict[str, str | None],
    on_changes: Callable[[ir.Table], object] | None = None,
) -> list[Change]:
    """Replace the rescored customers' stored features and memberships, in one transaction;
    returns who entered and left which segment. ``on_changes`` (e.g. the webhook outbox's
    ``enqueue``) gets the changes as a table on ``store`` inside the same transaction."""
    ids = list(rescored.memberships)
    keys = store.stage(KEYS, pa.table({"customer_id": pa.array(ids, pa.string())}))
    rows = [
        (customer_id, slug, families.get(slug))
        for customer_id, slugs in rescored.memberships.items()
        for slug in slugs
    ]
    new = store.stage(
        "_rescored_members",
        pa.table(
            {
                "refresh_id": pa.array([refresh_id] * len(rows), pa.int64()),
                "customer_id": pa.array([r[0] for r in rows], pa.string()),
                "segment": pa.array([r[1] for r in rows], pa.string()),
                "family": pa.array([r[2] for r in rows], pa.string()),
            }
        ),
    )
    members = store.table("segment_members")
    old = store.stage("_rescored_old", members.semi_join(keys, "customer_id"))
    changes = store.stage("_rescored_changes", membership_changes(old, new))
    with store.transaction():
        store.delete_where_key_in(FEATURES_TABLE, "customer_id", KEYS)
        with store.arrow("_rescored_arrow", rescored.features) as features:
            store.con.insert(FEATURES_TABLE, features)
        store.delete_where_key_in("segment_members", "customer_id", KEYS)
        store.insert("segment_members", new)
        if on_changes is not None:
            on_changes(changes)
    listed = store.run(changes.order_by("customer_id", "segment")).to_pylist()
    return [Change(r["customer_id"], r["segment"], r["change"]) for r in listed]


def _in_query(_: str, table: ir.Table) -> ir.Table:
    """The ``stage`` of a rescoring: nothing is materialized, the whole is one query."""
    return table
