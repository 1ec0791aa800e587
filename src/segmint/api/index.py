"""The in-memory membership index behind ``GET /v1/customers/{key}/segments``.

Built from the workspace (segment memberships of the latest refresh, identities, merges) by
Ibis queries, then answered from dictionaries: a lookup costs a few dictionary probes, not a
query. The server swaps in a new index after a refresh (readers see the old one or the new
one, never a mix) and updates one customer's entry after an event.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.segments import latest_refresh, latest_versions
from segmint.store import Store

#: Prefix of a lookup key that is the SHA-256 of a normalized email (as ad platforms hash).
SHA256_PREFIX = "sha256:"


@dataclass(frozen=True)
class SegmentInfo:
    slug: str
    name: str
    family: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.slug, "name": self.name, "family": self.family}


@dataclass
class MembershipIndex:
    """Who is in which segment, by every key a customer can be looked up by."""

    refresh_id: int | None
    as_of: date | None
    segments: dict[str, SegmentInfo]  # slug -> info, in evaluation order
    customers: dict[str, tuple[str, ...]]  # customer id -> slugs of their segments
    keys: dict[str, str]  # identity, merged id, sha256:<hash> -> customer id
    namespaces: tuple[str, ...] = ()  # source id kinds, to try a bare source id
    _interned: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def customer_id(self, key: str) -> str | None:
        """The customer a lookup key names, for keys written the usual ways (an exact id, a
        namespaced identity, an email in any case, an E.164 phone, ``sha256:HEX``)."""
        key = key.strip()
        if key.startswith(SHA256_PREFIX):
            return self.keys.get(SHA256_PREFIX + key[len(SHA256_PREFIX) :].lower())
        if key in self.customers:
            return key
        found = self.keys.get(key)
        if found is not None:
            return found
        if "@" in key:
            return self.keys.get("email:" + key.lower())
        if key.startswith("+"):
            digits = "".join(ch for ch in key if ch.isdigit())
            return self.keys.get("phone:+" + digits)
        for namespace in self.namespaces:
            found = self.keys.get(f"{namespace}:{key}")
            if found is not None:
                return found
        return None

    def segments_of(self, customer_id: str) -> list[SegmentInfo]:
        """The customer's segments, in evaluation order; unknown segments are skipped."""
        slugs = self.customers.get(customer_id, ())
        return [self.segments[s] for s in slugs if s in self.segments]

    def set_customer(self, customer_id: str, slugs: tuple[str, ...]) -> None:
        """Replace one customer's memberships (after a real-time update)."""
        order = self._order
        ordered = tuple(sorted(slugs, key=lambda s: order.get(s, len(order))))
        self.customers[customer_id] = self._interned.setdefault(ordered, ordered)

    @functools.cached_property
    def _order(self) -> dict[str, int]:
        """Each segment's place in evaluation order (the segments never change)."""
        return {slug: i for i, slug in enumerate(self.segments)}

    def add_keys(self, keys: dict[str, str]) -> None:
        """Make more lookup keys find their customers (identities seen in events)."""
        self.keys.update(keys)

    @property
    def size(self) -> int:
        return len(self.customers)


def build_index(store: Store) -> MembershipIndex:
    """The index of the workspace's current memberships and identities."""
    refresh = _latest_refresh_or_none(store)
    segments = _segment_infos(store) if refresh else {}
    index = MembershipIndex(
        refresh_id=refresh["refresh_id"] if refresh else None,
        as_of=refresh["as_of"] if refresh else None,
        segments=segments,
        customers={},
        keys={},
    )
    _add_memberships(store, index)
    _add_lookup_keys(store, index)
    return index


def _latest_refresh_or_none(store: Store) -> dict | None:
    if not store.table("refreshes").count().to_pyarrow().as_py():
        return None
    return latest_refresh(store)


def _segment_infos(store: Store) -> dict[str, SegmentInfo]:
    rows = latest_versions(store).select("segment", "name", "family").to_pyarrow().to_pylist()
    return {r["segment"]: SegmentInfo(r["segment"], r["name"], r["family"]) for r in rows}


def _add_memberships(store: Store, index: MembershipIndex) -> None:
    """Every customer (members of no segment too), with their segments in evaluation order."""
    order = ibis.memtable(
        {"segment": list(index.segments), "_order": list(range(len(index.segments)))},
        schema={"segment": "string", "_order": "int64"},  # typed even when empty
    )
    members = store.table("segment_members").join(order, "segment")
    grouped = members.group_by("customer_id").aggregate(
        slugs=members.segment.collect(order_by=members._order)
    )
    customers = store.table("customers").select("customer_id")
    rows = customers.left_join(grouped, "customer_id").select("customer_id", "slugs")
    data = rows.to_pyarrow()
    interned = index._interned
    for customer_id, slugs in zip(
        data["customer_id"].to_pylist(), data["slugs"].to_pylist(), strict=True
    ):
        key = tuple(slugs or ())
        index.customers[customer_id] = interned.setdefault(key, key)


def _add_lookup_keys(store: Store, index: MembershipIndex) -> None:
    """Identities, merged ids and the SHA-256 of each normalized email, to customer ids."""
    identities = store.table("identities").select("identity", "kind", "customer_id")
    index.add_keys(_keys(store.run(lookup_keys(identities, store.table("merges")))))
    kinds = identities.select("kind").distinct().kind.to_pyarrow().to_pylist()
    index.namespaces = tuple(sorted(k for k in kinds if k not in ("email", "phone")))


def lookup_keys(identities: ir.Table, merges: ir.Table) -> ir.Table:
    """``key, customer_id``: each identity, each merged id, and ``sha256:`` + the SHA-256 of
    each normalized email."""
    hashed = identities.filter(identities.kind == "email").select(
        key=SHA256_PREFIX + identities.identity.substr(len("email:")).hexdigest("sha256"),
        customer_id=identities.customer_id,
    )
    return (
        identities.select(key=identities.identity, customer_id=identities.customer_id)
        .union(merges.select(key=merges.merged_id, customer_id=merges.surviving_id))
        .union(hashed)
    )


def _keys(data: pa.Table) -> dict[str, str]:
    return dict(zip(data["key"].to_pylist(), data["customer_id"].to_pylist(), strict=True))


def update_index(
    index: MembershipIndex,
    store: Store,
    memberships: dict[str, tuple[str, ...]],
    import_id: int,
) -> None:
    """Bring ``index`` in step with customers rescored after the import ``import_id``: their
    segments, the import's new identities, and for the customers it merged into others
    every identity and merged id they now have."""
    for customer_id, slugs in memberships.items():
        index.set_customer(customer_id, slugs)
    identities = store.table("identities")
    merges = store.table("merges")
    mine = merges.filter(merges.import_id == import_id)
    survivors = mine.select(customer_id=mine.surviving_id)  # their identities moved,
    identities = identities.filter(identities.import_id == import_id).union(
        identities.semi_join(survivors, "customer_id")
    )
    # and so did the ids merged earlier into the customers merged now (redirected)
    merges = merges.semi_join(survivors, merges.surviving_id == survivors.customer_id)
    index.add_keys(_keys(store.run(lookup_keys(identities, merges))))
    for merged in store.run(merges.select("merged_id")).column("merged_id").to_pylist():
        index.customers.pop(merged, None)
