"""Events posted to the API change a customer's segments at once, through the same feature
and rule code as a refresh, and link or create profiles by identity resolution."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from segmint.api.index import build_index

CART = "engagement_cart_abandoners"


def features_of(api: Any, customer_id: str) -> dict[str, Any]:
    def query(store: Any) -> dict[str, Any]:
        table = store.table("customer_features")
        return table.filter(table.customer_id == customer_id).to_pyarrow().to_pylist()[0]

    return api.service.read(query)


def stored_segments(api: Any, customer_id: str) -> set[str]:
    def query(store: Any) -> set[str]:
        table = store.table("segment_members")
        rows = table.filter(table.customer_id == customer_id).segment.to_pyarrow().to_pylist()
        return set(rows)

    return api.service.read(query)


def lookup(api: Any, key: str) -> dict[str, Any]:
    answer = api.client.get(f"/v1/customers/{key}/segments", headers=api.headers("read"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(api: Any, body: Any) -> dict[str, Any]:
    answer = api.client.post("/v1/events", json=body, headers=api.headers("write"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def with_email_and_phone(api: Any, count: int) -> list[dict[str, Any]]:
    """``count`` customers that have an email and a phone identity (one row each)."""

    def query(store: Any) -> list[dict[str, Any]]:
        identities = store.table("identities")
        emails = identities.filter(identities.kind == "email").select(
            "customer_id", email=identities.identity
        )
        phones = identities.filter(identities.kind == "phone").select(
            "customer_id", phone=identities.identity
        )
        both = emails.join(phones, "customer_id").order_by("customer_id").limit(count)
        return both.to_pyarrow().to_pylist()

    return api.service.read(query)


def a_day_after_the_refresh(api: Any, hours: int) -> str:
    day = api.service.index.as_of + timedelta(days=1)
    return f"{day.isoformat()}T{hours:02d}:00:00Z"


def test_a_cart_then_an_order_enter_and_leave_cart_abandoners(api: Any) -> None:
    customers = api.service.read(lambda s: s.table("customers").to_pyarrow().to_pylist())
    buyer = next(
        c
        for c in customers
        if c["email"]
        and "lifecycle_repeat" in api.service.index.customers[c["customer_id"]]
        and CART not in api.service.index.customers[c["customer_id"]]
    )
    customer_id, orders_before = buyer["customer_id"], None
    orders_before = features_of(api, customer_id)["number_of_orders"]
    cart = {
        "event": "Added to Cart",
        "time": a_day_after_the_refresh(api, 10),
        "email": buyer["email"].upper(),
        "properties": {"product_id": "SKU-1"},
    }

    answer = post(api, cart)

    assert answer["customers"][0]["customer_id"] == customer_id
    assert CART in answer["customers"][0]["entered"]
    assert CART in {s["segment"] for s in lookup(api, buyer["email"])["segments"]}
    assert CART in stored_segments(api, customer_id)
    assert features_of(api, customer_id)["open_cart"] is True

    order = {
        "event": "Placed Order",
        "time": a_day_after_the_refresh(api, 11),
        "customer_id": customer_id,
        "value": 42.5,
        "properties": {"order_id": "API-ORDER-1"},
    }
    answer = post(api, [order])

    assert CART in answer["customers"][0]["exited"]
    assert CART not in {s["segment"] for s in lookup(api, customer_id)["segments"]}
    features = features_of(api, customer_id)
    assert features["open_cart"] is False
    assert features["number_of_orders"] == orders_before + 1


def test_a_new_email_creates_a_profile_and_a_phone_links_to_it(api: Any) -> None:
    email = "first.visit@example.com"
    viewed = {"event": "Viewed Product", "time": a_day_after_the_refresh(api, 9), "email": email}
    created = post(api, viewed)["customers"][0]
    assert lookup(api, email)["customer_id"] == created["customer_id"]
    assert created["segments"]  # scored at once (no orders yet: rfm_no_orders at least)

    both = {
        "event": "Active on Site",
        "time": a_day_after_the_refresh(api, 12),
        "email": email,
        "phone": "+1 415 555 0199",
    }
    linked = post(api, [both])["customers"][0]
    assert linked["customer_id"] == created["customer_id"]
    assert lookup(api, "+14155550199")["customer_id"] == created["customer_id"]


def test_the_same_request_twice_is_stored_once(api: Any) -> None:
    body = [
        {
            "event": "Viewed Product",
            "time": a_day_after_the_refresh(api, 8),
            "email": "twice@example.com",
        }
    ]
    count = lambda: api.service.read(lambda s: int(s.table("events").count().execute()))  # noqa: E731
    first = post(api, body)
    stored = count()
    again = post(api, body)
    assert first["accepted"] == 1 and again == {"accepted": 0, "duplicate": True, "customers": []}
    assert count() == stored


def test_an_event_naming_two_customers_merges_them_in_the_index(api: Any) -> None:
    first, second = with_email_and_phone(api, 2)
    email = first["email"].removeprefix("email:")
    phone = second["phone"].removeprefix("phone:")
    body = {"event": "Active on Site", "time": a_day_after_the_refresh(api, 10)}
    merged = post(api, {**body, "email": email, "phone": phone})["customers"]

    survivor = merged[0]["customer_id"]
    assert len(merged) == 1 and survivor in {first["customer_id"], second["customer_id"]}
    for key in (first["customer_id"], second["customer_id"], email, phone):
        assert lookup(api, key)["customer_id"] == survivor
    other = second["email"].removeprefix("email:")  # the merged customer's own email
    assert lookup(api, other)["customer_id"] == survivor


def test_a_chain_of_merges_keeps_the_first_merged_id_findable(api: Any) -> None:
    """y and z merge, then x and the survivor: the id merged first now redirects to the
    last survivor, in the live index as in one built afresh."""
    x, y, z = with_email_and_phone(api, 3)
    email = lambda c: c["email"].removeprefix("email:")  # noqa: E731
    phone = lambda c: c["phone"].removeprefix("phone:")  # noqa: E731
    body = {"event": "Active on Site", "time": a_day_after_the_refresh(api, 10)}
    first = post(api, {**body, "email": email(y), "phone": phone(z)})["customers"][0]
    survivor = first["customer_id"]
    merged = z if survivor == y["customer_id"] else y
    kept = y if merged is z else z
    body["time"] = a_day_after_the_refresh(api, 11)
    last = post(api, {**body, "email": email(x), "phone": phone(kept)})["customers"][0]

    rebuilt = api.service.read(build_index)
    assert rebuilt.customer_id(merged["customer_id"]) == last["customer_id"]
    for key in (merged["customer_id"], email(merged), x["customer_id"], kept["customer_id"]):
        assert lookup(api, key)["customer_id"] == last["customer_id"]
