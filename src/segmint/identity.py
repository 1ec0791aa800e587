"""Identity resolution: one customer per person across sources, as Ibis expressions.

Every imported record (an order, a customer row, an event's profile) comes with the
identifiers it carries (``shopify:7985351721238``, ``email:ann@example.com``,
``phone:+15005550006``). Records and existing customers that share an identifier form one
connected component, found by label propagation (a few joins and group-bys that run on any
engine). A component with no existing customer becomes a new customer with an id derived
from its smallest record key (stable across re-imports); a component that touches several
existing customers merges them into the oldest, and the others become redirects.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.errors import SegmintError
from segmint.normalize import normalize_email, normalize_phone
from segmint.store import Store

MAX_ROUNDS = 50
CUSTOMER_NODE = "0|"
RECORD_NODE = "1|"


@dataclass
class Resolution:
    """What identity resolution decided for one import batch (all staged tables)."""

    record_customers: ir.Table  # record_key, customer_id, is_new
    new_identities: ir.Table  # identity, kind, customer_id
    merges: ir.Table  # merged_id, surviving_id, via_identity


def customer_id_for(label: ir.StringValue) -> ir.StringValue:
    """A new customer's opaque id: ``c_`` and 16 hex digits of the component's label."""
    return "c_" + label.hexdigest("sha256").substr(0, 16)


def resolve(store: Store, links: ir.Table) -> Resolution:
    """Resolve ``links`` (record_key, identity, kind) against the workspace's identities."""
    links = store.stage("_id_links", links.filter(links.identity.notnull()).distinct())
    batch_identities = links.select("identity").distinct()
    known = store.table("identities").semi_join(batch_identities, "identity")
    customers = store.table("customers").select("customer_id", "first_import_id")
    known = store.stage(
        "_id_known",
        known.join(customers, "customer_id").select(
            "identity",
            "customer_id",
            node=CUSTOMER_NODE
            + customers.first_import_id.cast("string").lpad(12, "0")
            + "|"
            + known.customer_id,
        ),
    )
    edges = store.stage(
        "_id_edges",
        links.select("identity", node=RECORD_NODE + links.record_key).union(
            known.select("identity", "node")
        ),
    )
    labels = _propagate(store, edges)
    return _decide(store, links, known, labels)


def _propagate(store: Store, edges: ir.Table) -> ir.Table:
    """Label every node with the smallest node label in its connected component."""
    labels = store.stage("_id_labels", edges.select("node").distinct().mutate(label=edges.node))
    for _ in range(MAX_ROUNDS):
        by_identity = (
            edges.join(labels, "node").group_by("identity").aggregate(label=ibis._.label.min())
        )
        by_node = (
            edges.join(by_identity, "identity")
            .group_by("node")
            .aggregate(candidate=ibis._.label.min())
        )
        joined = labels.join(by_node, "node")
        updated = joined.select("node", label=ibis.least(joined.label, joined.candidate))
        changed = store.scalar(joined.filter(joined.candidate < joined.label).count())
        labels = store.stage("_id_labels", updated)
        if changed == 0:
            return labels
    raise SegmintError("identity resolution did not converge; please report this file")


def _decide(store: Store, links: ir.Table, known: ir.Table, labels: ir.Table) -> Resolution:
    existing = labels.label.startswith(CUSTOMER_NODE)
    component_customer = ibis.ifelse(
        existing, labels.label.split("|")[2], customer_id_for(labels.label)
    )
    nodes = store.stage(
        "_id_nodes",
        labels.mutate(customer_id=component_customer, is_new=~existing),
    )
    records = nodes.filter(nodes.node.startswith(RECORD_NODE))
    record_customers = store.stage(
        "_id_records",
        records.select(
            record_key=records.node.substr(len(RECORD_NODE)),
            customer_id=records.customer_id,
            is_new=records.is_new,
        ),
    )
    customer_nodes = nodes.filter(nodes.node.startswith(CUSTOMER_NODE))
    customer_nodes = customer_nodes.mutate(own_id=customer_nodes.node.split("|")[2])
    merged = customer_nodes.filter(customer_nodes.own_id != customer_nodes.customer_id)
    via = known.group_by("customer_id").aggregate(via_identity=known.identity.min())
    merges = store.stage(
        "_id_merges",
        merged.join(via, merged.own_id == via.customer_id).select(
            merged_id=merged.own_id,
            surviving_id=merged.customer_id,
            via_identity=via.via_identity,
        ),
    )
    first_link = links.join(record_customers, "record_key")
    new_identities = store.stage(
        "_id_new",
        first_link.anti_join(known, "identity")
        .group_by("identity")
        .aggregate(kind=ibis._.kind.min(), customer_id=ibis._.customer_id.min()),
    )
    return Resolution(record_customers, new_identities, merges)


def lookup_candidates(key: str, country: str, store: Store | None = None) -> list[str]:
    """The identity strings a lookup key could be: namespaced already, email, phone, or a
    source id (``shopify:``, ``uci:``); normalized on ``store``'s connection when given (a
    server thread's own), else on Ibis's default one."""
    if key.startswith("email:") or (":" in key and not key.startswith("+")):
        return [key]
    probe = ibis.memtable(pa.table({"key": [key]}))
    found = probe.select(
        email=normalize_email(probe.key), phone=normalize_phone(probe.key, country)
    )
    data = store.con.to_pyarrow(found) if store is not None else found.to_pyarrow()
    row = data.to_pylist()[0]
    out = [f"email:{row['email']}"] if row["email"] else []
    if row["phone"]:
        out.append(f"phone:{row['phone']}")
    return [*out, f"shopify:{key}", f"uci:{key}"]


def surviving_id(store: Store, customer_id: str) -> str:
    """Follow merge redirects from a segmint id to the customer it is now part of."""
    merges = store.table("merges")
    seen: set[str] = set()
    current = customer_id
    while current not in seen:
        seen.add(current)
        following = store.scalar(merges.filter(merges.merged_id == current).surviving_id.max())
        if not isinstance(following, str):  # None, or NaN from an empty max
            break
        current = following
    return current


def find_customer_id(store: Store, key: str, country: str) -> str | None:
    """The customer ``key`` names: a segmint id (a merged one leads to the survivor), or an
    identity (email, phone, namespaced or bare source id); None when nobody matches."""
    key = key.strip()
    if not key:
        return None
    customers = store.table("customers")
    if key.startswith("c_"):
        current = surviving_id(store, key)
        if store.scalar(customers.filter(customers.customer_id == current).count()):
            return current
    identities = store.table("identities")
    named = identities.filter(identities.identity.isin(lookup_candidates(key, country, store)))
    return store.scalar(customers.semi_join(named, "customer_id").customer_id.min())
