"""``segmint refresh``: compute every customer's features and segments as of a day, and store them.

A refresh reads the workspace folder's ``segments.yaml`` (library overrides and the user's
segments), computes the features, the store statistics and every segment's members, then in
one transaction replaces ``customer_features`` and ``segment_members`` and records itself in
``refreshes`` (as-of day, RFM cut points, statistics, configuration) and ``segment_versions``
(each segment's rule as evaluated, its version and its audience), so readers always see one
complete refresh.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.definitions import known_customers
from segmint.engine import DuckDBEngine, Engine
from segmint.features import FeatureSet, compute_features, default_as_of
from segmint.features.tables import Tables
from segmint.history import record_observation
from segmint.schema import FEATURES_TABLE
from segmint.segments.clusters import cluster_segments
from segmint.segments.config import SegmentConfig, load_config
from segmint.segments.guards import GuardWarning, audience_warnings
from segmint.segments.library import rule_values
from segmint.segments.membership import (
    Resolved,
    audiences_before_exclusions,
    members_from_flags,
    membership_flags,
)
from segmint.store import Store, utcnow
from segmint.webhooks.outbox import enqueue, membership_changes


@dataclass(frozen=True)
class RefreshResult:
    refresh_id: int | None  # None: a past-dated refresh, recorded in the history only
    as_of: date
    customers: int
    rfm_cut_points: dict[str, list[float]]
    segments: int = 0
    warnings: list[GuardWarning] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Whether it replaced the live features and memberships."""
        return self.refresh_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "refresh_id": self.refresh_id,
            "as_of": self.as_of,
            "live": self.live,
            "customers": self.customers,
            "segments": self.segments,
            "rfm_cut_points": json.dumps(self.rfm_cut_points),
            "warnings": len(self.warnings),
        }


def refresh(
    store: Store,
    as_of: date | None = None,
    config: SegmentConfig | None = None,
    engine: Engine | None = None,
) -> RefreshResult:
    """Recompute and store all features and segment memberships as of ``as_of``.

    ``engine`` computes them (default: the workspace's DuckDB; :class:`SparkEngine` runs the
    same expressions on Spark); the results are stored in the workspace either way. Every
    refresh is recorded in the membership history (:mod:`segmint.history`); one dated before
    the live refresh's day is recorded there only (:func:`refresh_history`).
    """
    live = live_as_of(store)
    if as_of is not None and live is not None and as_of < live:
        return refresh_history(store, as_of, config, engine)
    started = utcnow()
    config = with_cluster_segments(config or load_config(store.path), store)
    engine = engine or DuckDBEngine(store)
    computed = compute(engine, as_of, config)
    staged = engine.collect("_features_new", computed.features.table)
    flags = engine.collect("_flags_new", computed.flags)
    customers = int(staged.count().to_pyarrow().as_py())
    refresh_id = store.next_id("refreshes", "refresh_id")
    members = members_from_flags(flags, config.segments)
    members = store.stage("_members_new", members.mutate(refresh_id=ibis.literal(refresh_id)))
    sizes = _sizes(members)
    before = audiences_before_exclusions(flags)
    versions = _versions(store, refresh_id, config, computed.resolved, sizes, before)
    cuts = computed.features.rfm_cuts.as_dict()
    as_of = computed.features.as_of
    with store.transaction():
        store.con.create_table(FEATURES_TABLE, staged, overwrite=True)
        # Webhooks hear of every membership change: queued with the refresh, atomically.
        enqueue(store, membership_changes(store.table("segment_members"), members), utcnow())
        store.delete_all("segment_members")
        store.insert("segment_members", members)
        store.insert("segment_versions", versions)
        record_observation(store, computed.features.as_of, members, customers, refresh_id)
        store.insert(
            "refreshes",
            pa.table(
                {
                    "refresh_id": [refresh_id],
                    "as_of": [as_of],
                    "customers": [customers],
                    "rfm_cut_points": [json.dumps(cuts)],
                    "store_statistics": [json.dumps(computed.features.statistics)],
                    "configuration": [json.dumps(config.recorded(), sort_keys=True)],
                    "started_at": [started],
                    "finished_at": [utcnow()],
                }
            ),
        )
    warnings = audience_warnings(
        [s.slug for s in config.segments],
        sizes,
        before,
        config.min_audience,
        config.max_exclusion_shrink,
    )
    return RefreshResult(refresh_id, as_of, customers, cuts, len(sizes), warnings)


def refresh_history(
    store: Store,
    as_of: date,
    config: SegmentConfig | None = None,
    engine: Engine | None = None,
) -> RefreshResult:
    """Compute the segment memberships as they were on the past day ``as_of`` and record them
    in the history only: the live features and memberships stay, and no webhook fires."""
    config = with_cluster_segments(config or load_config(store.path), store)
    engine = engine or DuckDBEngine(store)
    computed = compute(engine, as_of, config)
    features = engine.collect("_features_past", computed.features.table)
    flags = engine.collect("_flags_past", computed.flags)
    members = store.stage("_members_past", members_from_flags(flags, config.segments))
    customers = store.scalar(features.count())
    record_observation(store, as_of, members, customers)
    cuts = computed.features.rfm_cuts.as_dict()
    return RefreshResult(None, as_of, customers, cuts, len(_sizes(members)))


def live_as_of(store: Store) -> date | None:
    """The as-of day of the live refresh (``None`` before the first refresh)."""
    return store.scalar(store.table("refreshes").as_of.max())


@dataclass(frozen=True)
class Computed:
    """Features (with the store statistics they were computed with) and memberships as
    expressions of the engine that computed them."""

    features: FeatureSet
    flags: ir.Table  # customer_id and one boolean per segment (see membership_flags)
    resolved: Resolved


def compute(engine: Engine, as_of: date | None, config: SegmentConfig) -> Computed:
    """Every feature, store statistic and segment membership, on ``engine``."""
    tables = past_population(engine.tables(), as_of).with_staged_lines(engine.stage)
    features = compute_features(
        tables, engine.stage, as_of, rfm_grid=config.rfm_grid, with_statistics=True
    )
    staged = engine.stage("_features_new", features.table)
    features = replace(features, table=staged)
    values = rule_values(config.parameters, features.statistics)
    flags, resolved = membership_flags(config.segments, staged, tables, features.as_of, values)
    return Computed(features, flags, resolved)


def past_population(tables: Tables, as_of: date | None) -> Tables:
    """``tables`` with only the customers the store knew on ``as_of`` when that day is
    before the latest order (:func:`~segmint.definitions.known_customers`): later customers
    did not exist yet."""
    if as_of is None:  # the latest order day: everyone
        return tables
    latest = default_as_of(tables.orders)
    if latest is None or as_of >= latest:
        return tables
    known = known_customers(tables.customers, tables.orders, tables.events, as_of)
    return replace(tables, customers=known)


def with_cluster_segments(config: SegmentConfig, store: Store) -> SegmentConfig:
    """``config`` plus the ``cluster`` family of the latest clustering (a segment of the
    user's with the same slug wins)."""
    taken = set(config.by_slug())
    extra = [s for s in cluster_segments(store) if s.slug not in taken]
    return replace(config, segments=[*config.segments, *extra]) if extra else config


def _sizes(members: ir.Table) -> dict[str, int]:
    counted = members.group_by("segment").aggregate(n=members.count()).to_pyarrow()
    return dict(zip(counted["segment"].to_pylist(), counted["n"].to_pylist(), strict=True))


def _fingerprint(definition: str, family: str | None, priority: int, name: str) -> str:
    """What a segment's version follows: its definition, group, priority and name."""
    text = json.dumps([definition, family, priority, name])
    return hashlib.sha256(text.encode()).hexdigest()


def _versions(
    store: Store,
    refresh_id: int,
    config: SegmentConfig,
    resolved: Resolved,
    sizes: dict[str, int],
    before: dict[str, int],
) -> pa.Table:
    """Every segment as this refresh evaluated it, with its version and audience.

    A segment's version goes up when its definition (rule with thresholds, group, priority,
    name) differs from the one its previous refresh recorded.
    """
    previous = _previous_versions(store)
    rows = []
    for segment in config.segments:
        definition = segment.definition(config.parameters)
        last = previous.get(segment.slug)
        if last is None:
            version = 1
        elif last["fingerprint"] == _fingerprint(
            definition, segment.family, segment.priority, segment.name
        ):
            version = last["version"]
        else:
            version = last["version"] + 1
        rows.append(
            {
                "refresh_id": refresh_id,
                "segment": segment.slug,
                "version": version,
                "family": segment.family,
                "priority": segment.priority,
                "origin": segment.origin,
                "name": segment.name,
                "definition": definition,
                "rule": resolved.rules[segment.slug],
                "description": segment.description,
                "action": segment.action,
                "customers": sizes.get(segment.slug, 0),
                "customers_before_exclusions": before.get(segment.slug),
            }
        )
    return pa.Table.from_pylist(rows)


def _previous_versions(store: Store) -> dict[str, dict[str, Any]]:
    """The latest recorded version and definition fingerprint of every segment."""
    versions = store.table("segment_versions")
    latest = versions.filter(versions.refresh_id == versions.refresh_id.max())
    rows = latest.select("segment", "version", "family", "priority", "name", "definition")
    return {
        row["segment"]: {
            "version": row["version"],
            "fingerprint": _fingerprint(
                row["definition"], row["family"], row["priority"], row["name"]
            ),
        }
        for row in rows.to_pyarrow().to_pylist()
        if row["definition"] is not None  # recorded before versions existed: start at 1
    }
