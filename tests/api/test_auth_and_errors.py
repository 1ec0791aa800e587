"""Every route without a key, with a wrong, revoked or too-small key; and bad input: each
answer is the one error shape, and the workspace is unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from segmint.schema import TABLES

#: Every route: method, path, the scope it needs, a valid body.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", "/v1/customers/{customer}/segments", "read", None),
    ("GET", "/v1/segments", "read", None),
    ("GET", "/v1/segments/rfm_champions", "read", None),
    ("GET", "/v1/segments/rfm_champions/members", "read", None),
    ("POST", "/v1/segments/preview", "read", {"rule": "number_of_orders >= 1"}),
    ("POST", "/v1/refresh", "write", None),
    (
        "POST",
        "/v1/events",
        "write",
        {"event": "Viewed Product", "time": "2026-11-01T10:00:00Z", "email": "x@example.com"},
    ),
    ("GET", "/v1/jobs/job_1", "read", None),
    ("POST", "/v1/webhooks", "admin", {"url": "https://hooks.example.com", "segments": ["x"]}),
    ("GET", "/v1/webhooks", "admin", None),
    ("DELETE", "/v1/webhooks/1", "admin", None),
    ("GET", "/v1/webhooks/log", "admin", None),
    ("GET", "/v1/exports/rfm_champions?to=csv", "write", None),
]


def customer(api: Any) -> str:
    return next(c for c, slugs in api.service.index.customers.items() if slugs)


def call(api: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    path = path.format(customer=customer(api))
    return api.client.request(method, path, json=body, headers=headers)


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "field", "position"}
    if field is not None:
        assert error.get("field") == field
    return error


def row_counts(api: Any) -> dict[str, int]:
    tables = [t for t in TABLES if t != "api_keys"]
    return api.service.read(
        lambda store: {t: int(store.table(t).count().to_pyarrow().as_py()) for t in tables}
    )


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_no_key_wrong_key_revoked_key(api: Any, method: str, path: str, scope: str, body: Any):
    missing = call(api, method, path, body, {})
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer sgm_0000_not-a-key"}
    assert_error(call(api, method, path, body, wrong), 401, "unauthorized")
    assert_error(call(api, method, path, body, api.headers("revoked")), 401, "unauthorized")
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert_error(call(api, method, path, body, basic), 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_a_key_of_too_small_a_scope(api: Any, method: str, path: str, scope: str, body: Any):
    if scope == "admin":
        smaller = api.headers("write")
    elif scope == "write":
        smaller = api.headers("read")
    elif "/customers/" in path:  # the storefront key, used from an origin it does not list
        smaller = {**api.headers("storefront"), "Origin": "https://evil.example.com"}
    else:  # a read key restricted to the customer lookup
        smaller = api.headers("storefront")
    assert_error(call(api, method, path, body, smaller), 403, "forbidden")


def test_bad_input_gets_the_shape_with_the_field_and_changes_nothing(api: Any) -> None:
    before = row_counts(api)
    read, write = api.headers("read"), api.headers("write")
    client = api.client
    json_headers = {**read, "Content-Type": "application/json"}

    assert_error(
        client.get("/v1/customers/nobody@example.com/segments", headers=read),
        404,
        "not_found",
        "key",
    )
    lookup = f"/v1/customers/{customer(api)}/segments?features=amount_spent,no_such_feature"
    assert_error(client.get(lookup, headers=read), 400, "bad_request", "features")
    assert_error(client.get("/v1/segments/no_such", headers=read), 404, "not_found", "name")
    members = "/v1/segments/no_such/members"
    assert_error(client.get(members, headers=read), 404, "not_found", "name")
    members = "/v1/segments/rfm_champions/members"
    assert_error(client.get(members + "?limit=0", headers=read), 422, "invalid", "limit")
    assert_error(client.get(members + "?limit=5000", headers=read), 422, "invalid", "limit")
    assert_error(client.get(members + "?cursor=%%%", headers=read), 400, "bad_request", "cursor")
    assert_error(client.get(members + "?format=xml", headers=read), 422, "invalid", "format")

    preview = "/v1/segments/preview"
    error = assert_error(
        client.post(preview, json={"rule": "amount_spnt > 5"}, headers=read),
        400,
        "invalid_rule",
        "rule",
    )
    assert error["position"] == 0 and "amount_spent" in error["message"]
    error = assert_error(
        client.post(preview, json={"rule": "number_of_orders >= "}, headers=read),
        400,
        "invalid_rule",
        "rule",
    )
    assert error["position"] == len("number_of_orders >= ")
    assert_error(
        client.post(preview, content=b'{"rule": ', headers=json_headers), 400, "invalid_json"
    )
    assert_error(client.post(preview, json={"rule": 5}, headers=read), 422, "invalid", "rule")
    assert_error(
        client.post(preview, json={"rule": "x", "sample": "many"}, headers=read),
        422,
        "invalid",
        "sample",
    )
    assert_error(client.post(preview, json={}, headers=read), 422, "invalid", "rule")
    big = b'{"rule": "' + b"a" * (70 * 1024) + b'"}'
    assert_error(
        client.post(preview, content=big, headers=json_headers), 413, "payload_too_large", "body"
    )

    exports = "/v1/exports/rfm_champions"
    assert_error(client.get(exports + "?to=metta", headers=write), 400, "bad_request", "to")
    assert_error(client.get(exports, headers=write), 422, "invalid", "to")
    assert_error(
        client.get("/v1/exports/no_such?to=csv", headers=write), 404, "not_found", "segment"
    )
    assert_error(
        client.get(exports + "?to=csv&channel=sms", headers=write), 400, "bad_request", "channel"
    )
    assert_error(client.get("/v1/jobs/job_404", headers=read), 404, "not_found", "job_id")
    assert_error(client.get("/v1/no-such-route", headers=read), 404, "not_found")
    assert_error(client.delete("/v1/segments", headers=read), 405, "method_not_allowed")

    events = "/v1/events"
    write_json = {**write, "Content-Type": "application/json"}
    cart = {"event": "Added to Cart", "time": "2026-11-01T10:00:00Z", "email": "a@example.com"}
    assert_error(client.post(events, content=b"[{", headers=write_json), 400, "invalid_json")
    error = assert_error(
        client.post(events, json={**cart, "event": "Added to Kart"}, headers=write),
        422,
        "invalid",
        "event",
    )
    assert "added to cart" in error["message"]
    assert_error(
        client.post(events, json=[cart, {**cart, "time": "yesterday"}], headers=write),
        422,
        "invalid",
        "events.1.time",
    )
    assert_error(
        client.post(events, json=[{**cart, "value": "ten"}], headers=write),
        422,
        "invalid",
        "events.0.value",
    )
    assert_error(
        client.post(events, json=[{**cart, "value": -5}], headers=write),
        422,
        "invalid",
        "events.0.value",
    )
    assert_error(
        client.post(events, json=[{**cart, "email": None}], headers=write),
        422,
        "invalid",
        "events.0.customer_id",
    )
    assert_error(
        client.post(events, json=[cart, {**cart, "email": "not an email"}], headers=write),
        422,
        "invalid",
        "events.1.email",
    )
    assert_error(
        client.post(events, json=[{**cart, "colour": "red"}], headers=write),
        422,
        "invalid",
        "events.0.colour",
    )
    assert_error(client.post(events, json=[], headers=write), 422, "invalid", "events")
    assert_error(client.post(events, json=[cart] * 51, headers=write), 422, "invalid", "events")
    assert_error(client.post(events, json="Added to Cart", headers=write), 422, "invalid")

    admin = api.headers("admin")
    hooks = "/v1/webhooks"
    hook = {"url": "https://hooks.example.com/x", "segments": ["rfm_champions"]}
    assert_error(
        client.post(hooks, json={**hook, "url": "ftp://x"}, headers=admin),
        400,
        "bad_request",
        "url",
    )
    assert_error(
        client.post(hooks, json={**hook, "segments": ["no_such"]}, headers=admin),
        400,
        "bad_request",
        "segments",
    )
    assert_error(
        client.post(hooks, json={**hook, "segments": []}, headers=admin), 422, "invalid", "segments"
    )
    assert_error(
        client.post(hooks, json={**hook, "on": ["leave"]}, headers=admin), 400, "bad_request", "on"
    )
    assert_error(client.delete(hooks + "/999", headers=admin), 404, "not_found", "webhook_id")
    assert_error(client.delete(hooks + "/abc", headers=admin), 422, "invalid", "webhook_id")

    assert row_counts(api) == before


def test_rate_limit_answers_429_with_retry_after(api: Any) -> None:
    from segmint.api.keys import create_key

    with api.service.writing() as store:
        key = create_key(store, "read", rate_limit=2)[1]
    api.service.keys.reload()
    api.service.keys.clock = lambda: 1000.0  # three requests in the same instant, however slow
    headers = {"Authorization": f"Bearer {key}"}
    answers = [api.client.get("/v1/segments/rfm_champions", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_error(answers[2], 429, "rate_limited")
    assert int(answers[2].headers["retry-after"]) >= 1


def test_cors_preflight_and_response_for_a_listed_origin(api: Any) -> None:
    path = f"/v1/customers/{customer(api)}/segments"
    ask = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = api.client.options(path, headers={**ask, "Origin": "https://shop.example.com"})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    refused = api.client.options(path, headers={**ask, "Origin": "https://evil.example.com"})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    headers = {**api.headers("storefront"), "Origin": "https://shop.example.com"}
    answer = api.client.get(path, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://shop.example.com"
