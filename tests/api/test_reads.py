"""Lookups, segments, members, previews and exports, checked against the workspace's own
tables read independently (pyarrow on the stored rows, hashlib for the hashes)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from typing import Any

import pyarrow.compute as pc

from segmint.api.index import build_index


def stored(api: Any, table: str) -> list[dict[str, Any]]:
    return api.service.read(lambda store: store.table(table).to_pyarrow().to_pylist())


def memberships(api: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in stored(api, "segment_members"):
        out.setdefault(row["customer_id"], set()).add(row["segment"])
    return out


def test_lookup_by_every_kind_of_key(api: Any) -> None:
    members = memberships(api)
    customers = stored(api, "customers")
    person = next(
        c for c in customers if c["email"] and c["phone"] and members.get(c["customer_id"])
    )
    expected = members[person["customer_id"]]
    digits = person["phone"][2:] if person["phone"].startswith("+1") else None
    email_hash = hashlib.sha256(person["email"].strip().lower().encode()).hexdigest()
    keys = [
        person["customer_id"],
        person["email"],
        f"  {person['email'].upper()} ",
        person["phone"],
        f"sha256:{email_hash}",
        f"sha256:{email_hash.upper()}",
    ]
    if digits:  # a US number as people write it: normalized like an import would
        keys.append(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")
    for key in keys:
        answer = api.client.get(f"/v1/customers/{key}/segments", headers=api.headers("read"))
        assert answer.status_code == 200, (key, answer.text[:200])
        body = answer.json()
        assert body["customer_id"] == person["customer_id"]
        assert {s["segment"] for s in body["segments"]} == expected
        assert body["refresh_id"] == api.service.index.refresh_id


def test_lookup_with_features(api: Any) -> None:
    features = {r["customer_id"]: r for r in stored(api, "customer_features")}
    customer_id, row = next((c, r) for c, r in features.items() if r["number_of_orders"] >= 2)
    path = f"/v1/customers/{customer_id}/segments?features=number_of_orders,amount_spent,rfm_group"
    body = api.client.get(path, headers=api.headers("storefront")).json()
    assert body["features"] == {
        "number_of_orders": row["number_of_orders"],
        "amount_spent": float(row["amount_spent"]),
        "rfm_group": row["rfm_group"],
    }


def test_every_customer_is_indexed_with_their_segments(api: Any) -> None:
    index = api.service.index
    members = memberships(api)
    customers = {c["customer_id"] for c in stored(api, "customers")}
    assert set(index.customers) == customers
    assert all(set(index.customers[c]) == members.get(c, set()) for c in customers)
    for merge in stored(api, "merges"):
        assert index.customer_id(merge["merged_id"]) == merge["surviving_id"]


def test_segments_list_and_one_segment(api: Any) -> None:
    body = api.client.get("/v1/segments", headers=api.headers("read")).json()
    sizes = Counter(r["segment"] for r in stored(api, "segment_members"))
    features = stored(api, "customer_features")
    spent = {f["customer_id"]: float(f["amount_spent"]) for f in features}
    total_spent = sum(spent.values())
    assert body["refresh"]["customers"] == len(features)
    assert [s["segment"] for s in body["segments"]] == list(api.service.index.segments)
    for segment in body["segments"]:
        slug = segment["segment"]
        assert segment["customers"] == sizes.get(slug, 0), slug
        assert segment["share_of_customers"] == round(sizes.get(slug, 0) / len(features), 4)
        revenue = (
            sum(
                spent[r["customer_id"]]
                for r in stored(api, "segment_members")
                if r["segment"] == slug
            )
            if slug == "rfm_champions"
            else None
        )
        if revenue is not None:
            assert abs(segment["share_of_revenue"] - revenue / total_spent) < 1e-4
    one = api.client.get("/v1/segments/rfm_champions", headers=api.headers("read")).json()
    assert one["rule"] == "rfm_group = 'champions'"
    assert one["customers"] == sizes["rfm_champions"]
    assert one["refresh"]["refresh_id"] == body["refresh"]["refresh_id"]


def test_members_pages_cover_the_segment_once_and_csv_streams_it(api: Any) -> None:
    expected = {
        r["customer_id"] for r in stored(api, "segment_members") if r["segment"] == "rfm_champions"
    }
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=17" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(
            "/v1/segments/rfm_champions/members" + query, headers=api.headers("read")
        ).json()
        seen += [m["customer_id"] for m in page["members"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(expected)
    streamed = api.client.get(
        "/v1/segments/rfm_champions/members?format=csv", headers=api.headers("read")
    )
    assert streamed.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed.text)))
    assert [r["customer_id"] for r in rows] == sorted(expected)
    emails = {c["customer_id"]: c["email"] or "" for c in stored(api, "customers")}
    assert all(r["email"] == emails[r["customer_id"]] for r in rows)


def test_preview_counts_like_an_independent_filter(api: Any) -> None:
    rule = "number_of_orders >= 3 AND amount_spent > 500"
    body = api.client.post(
        "/v1/segments/preview", json={"rule": rule, "sample": 5}, headers=api.headers("read")
    ).json()
    features = api.service.read(lambda store: store.table("customer_features").to_pyarrow())
    chosen = pc.and_(
        pc.greater_equal(features["number_of_orders"], 3),
        pc.greater(features["amount_spent"].cast("float64"), 500),
    )
    assert body["customers"] == pc.sum(chosen.cast("int64")).as_py() > 0
    assert len(body["sample"]) == 5
    assert all(s["number_of_orders"] >= 3 and s["amount_spent"] > 500 for s in body["sample"])


def test_an_export_streams_the_recorded_file(api: Any) -> None:
    answer = api.client.get("/v1/exports/rfm_loyal?to=meta", headers=api.headers("write"))
    assert answer.status_code == 200
    export_id = int(answer.headers["segmint-export-id"])
    record = next(e for e in stored(api, "exports") if e["export_id"] == export_id)
    assert hashlib.sha256(answer.content).hexdigest() == record["checksum"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert len(rows) - 1 == record["exported"] == int(answer.headers["segmint-exported"])
    steps = ["no-consent", "suppressed", "excluded", "no-identifier", "exported"]
    assert sum(int(answer.headers[f"segmint-{s}"]) for s in steps) == record["members"]
    assert "@" not in answer.text  # a Meta list holds hashes only


def test_a_refresh_job_swaps_the_index(api: Any) -> None:
    import time

    before = api.service.index.refresh_id
    started = api.client.post("/v1/refresh", headers=api.headers("write"))
    assert started.status_code == 202
    location = started.headers["location"]
    while True:
        job = api.client.get(location, headers=api.headers("read")).json()["job"]
        lookup = api.client.get("/v1/segments/rfm_champions", headers=api.headers("read"))
        assert lookup.status_code == 200  # the server keeps answering during the refresh
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["result"]["refresh_id"] == before + 1 == api.service.index.refresh_id
    rebuilt = api.service.read(build_index)
    assert rebuilt.customers == api.service.index.customers


def test_docs_are_served_without_a_cdn(api: Any) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # every asset is a local path
    assert api.client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    spec = api.client.get("/openapi.json").json()
    assert "/v1/customers/{key}/segments" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
