"""``/v1/snippet.js`` and ``/v1/storefront/segments``: a public script, and segments only for
a customer token the theme signed; ``segmint storefront`` makes and rotates the secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

import segmint.cli.storefront  # noqa: F401  (registers ``segmint storefront``)
from api.conftest import Api
from segmint.api.keys import create_key
from segmint.storefront import check_token, ensure_secret, hmac_sha256_hex, sign
from segmint.workspace import Workspace

ORIGIN = "https://shop.example.com"
ROUTE = "/v1/storefront/segments"


@pytest.fixture(scope="module")
def shop(api: Api) -> dict[str, Any]:
    """The secret, a storefront key for the route, and two customers' Shopify ids."""
    with api.service.writing() as store:
        secret = ensure_secret(store)
        api.keys["shop"] = create_key(
            store, "read", "storefront", routes=["storefront-segments"], origins=[ORIGIN]
        )[1]
    api.service.keys.reload()
    index = api.service.index
    shopify = sorted(k for k in index.keys if k.startswith("shopify:"))
    vip = next(k for k in shopify if "value_vip" in index.customers[index.keys[k]])
    other = next(
        k for k in shopify if index.customers[index.keys[k]] != index.customers[index.keys[vip]]
    )
    return {"secret": secret, "vip": vip.split(":", 1)[1], "other": other.split(":", 1)[1]}


def liquid_token(secret: str, customer: str, expires: int) -> str:
    """``{{ customer.id | append: ':' | append: expires | hmac_sha256: secret }}``, computed
    here without segmint."""
    message = f"{customer}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def lookup(api: Api, key: str | None, headers: dict[str, str] | None = None, **params: Any):
    sent = {**(headers or {}), **({"Authorization": f"Bearer {api.keys[key]}"} if key else {})}
    return api.client.get(ROUTE, params=params, headers=sent)


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and error["code"] == code and error["message"]
    if field is not None:
        assert error["field"] == field


def test_the_token_is_the_liquid_hmac_sha256() -> None:
    # Shopify's documented example: {{ 'Polyjuice' | hmac_sha256: 'Polina' }}
    assert hmac_sha256_hex("Polina", "Polyjuice") == (
        "8e0d5d65cff1242a4af66c8f4a32854fd5fb80edcc8aabe9b302b29c7c71dc20"
    )
    assert sign("s3cret", "6900000074369", 1767225600) == liquid_token(
        "s3cret", "6900000074369", 1767225600
    )
    assert (
        check_token("s3cret", "42", 2000, liquid_token("s3cret", "42", 2000).upper(), 1999) is None
    )
    assert check_token("s3cret", "42", 2000, liquid_token("s3cret", "42", 2000), 2000) is not None


def test_a_valid_token_gives_the_same_segments_as_the_customer_lookup(
    api: Api, shop: dict[str, Any]
) -> None:
    expires = int(time.time()) + 600
    token = liquid_token(shop["secret"], shop["vip"], expires)
    answer = lookup(
        api, "shop", {"Origin": ORIGIN}, customer=shop["vip"], expires=expires, token=token
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["cache-control"] == "private, no-store"
    full = api.client.get(f"/v1/customers/{shop['vip']}/segments", headers=api.headers("read"))
    body = answer.json()
    assert set(body) == {"customer_id", "segments", "as_of"}
    assert body["customer_id"] == full.json()["customer_id"]
    assert body["segments"] == [s["segment"] for s in full.json()["segments"]]
    assert "value_vip" in body["segments"]
    assert body["as_of"] == full.json()["as_of"]
    # any read key will do, restricted to the route or not
    assert (
        lookup(api, "read", customer=shop["vip"], expires=expires, token=token).status_code == 200
    )


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("forged", "invalid_customer_token", "token"),
        ("another customer", "invalid_customer_token", "token"),
        ("later expiry", "invalid_customer_token", "token"),
        ("expired", "expired_customer_token", "expires"),
    ],
)
def test_a_forged_or_expired_token_is_refused(
    api: Api, shop: dict[str, Any], case: str, code: str, field: str
) -> None:
    now = int(time.time())
    customer, expires = shop["vip"], now + 600
    token = liquid_token(shop["secret"], customer, expires)
    if case == "forged":
        token = liquid_token("not the store secret", customer, expires)
    elif case == "another customer":
        customer = shop["other"]  # the VIP's token, sent for someone else
    elif case == "later expiry":
        expires += 3600
    else:
        expires = now - 1
        token = liquid_token(shop["secret"], customer, expires)
    answer = lookup(api, "shop", customer=customer, expires=expires, token=token)
    assert_error(answer, 403, code, field)
    assert "segments" not in answer.text


def test_missing_or_malformed_parameters_are_refused(api: Api, shop: dict[str, Any]) -> None:
    expires = int(time.time()) + 600
    token = liquid_token(shop["secret"], shop["vip"], expires)
    assert_error(
        lookup(api, "shop", customer=shop["vip"], expires=expires), 422, "invalid", "token"
    )
    assert_error(lookup(api, "shop", expires=expires, token=token), 422, "invalid", "customer")
    assert_error(lookup(api, "shop", customer=shop["vip"], token=token), 422, "invalid", "expires")
    answer = lookup(api, "shop", customer=shop["vip"], expires="soon", token=token)
    assert_error(answer, 422, "invalid", "expires")
    answer = lookup(api, "shop", customer=shop["vip"], expires=expires, token="é" * 64)
    assert_error(answer, 403, "invalid_customer_token", "token")


def test_keys_that_may_not_use_the_route_are_refused(api: Api, shop: dict[str, Any]) -> None:
    expires = int(time.time()) + 600
    params = {
        "customer": shop["vip"],
        "expires": expires,
        "token": liquid_token(shop["secret"], shop["vip"], expires),
    }
    assert_error(lookup(api, None, **params), 401, "unauthorized")
    assert_error(lookup(api, "revoked", **params), 401, "unauthorized")
    # the fixture's storefront key is restricted to customer-segments only
    assert_error(lookup(api, "storefront", **params), 403, "forbidden")
    elsewhere = lookup(api, "shop", {"Origin": "https://evil.example.com"}, **params)
    assert_error(elsewhere, 403, "forbidden")


def test_a_signed_id_that_matches_no_customer_is_a_404(api: Api, shop: dict[str, Any]) -> None:
    expires = int(time.time()) + 600
    token = liquid_token(shop["secret"], "1", expires)
    assert_error(lookup(api, "shop", customer="1", expires=expires, token=token), 404, "not_found")


def test_the_preflight_allows_the_authorization_header(api: Api) -> None:
    answer = api.client.options(
        ROUTE,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in answer.headers["access-control-allow-headers"]


def test_the_snippet_is_public_cacheable_javascript(api: Api) -> None:
    answer = api.client.get("/v1/snippet.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in answer.headers["cache-control"]
    assert "/v1/storefront/segments" in answer.text and "segmint:segments" in answer.text
    assert len(answer.content) < 4096
    assert "/v1/storefront/segments" in api.client.get("/openapi.json").text


def test_a_rotated_secret_takes_over_within_seconds(api: Api, shop: dict[str, Any]) -> None:
    from segmint.storefront import rotate_secret

    expires = int(time.time()) + 600
    old = liquid_token(shop["secret"], shop["vip"], expires)
    with api.service.writing() as store:
        new_secret = rotate_secret(store)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = lookup(api, "shop", customer=shop["vip"], expires=expires, token=old)
            if answer.status_code == 403:
                break
            time.sleep(0.2)
        assert_error(answer, 403, "invalid_customer_token")
        new = liquid_token(new_secret, shop["vip"], expires)
        assert (
            lookup(api, "shop", customer=shop["vip"], expires=expires, token=new).status_code == 200
        )
    finally:
        with api.service.writing() as store:
            store.set_setting("storefront_secret", shop["secret"])
        api.client.app.state.storefront_secret = None  # read again by the next request


def test_the_cli_shows_and_rotates_the_secret(tmp_path: Path, segmint_cli: Any) -> None:
    path = tmp_path / "shop.duckdb"
    Workspace(path).close()
    first = json.loads(segmint_cli(path, "storefront", "secret", "--json").stdout)
    again = json.loads(segmint_cli(path, "storefront", "secret", "--json").stdout)
    assert first == again and len(first[0]["secret"]) == 64
    rotated = json.loads(segmint_cli(path, "storefront", "secret", "--rotate", "--json").stdout)
    assert rotated[0]["secret"] != first[0]["secret"]
    signed = json.loads(segmint_cli(path, "storefront", "token", "42", "--json").stdout)[0]
    assert signed["token"] == liquid_token(rotated[0]["secret"], "42", signed["expires"])
    assert 0 < signed["expires"] - time.time() <= 86_400
    table = segmint_cli(path, "storefront", "secret").stdout
    assert rotated[0]["secret"] in table
    refused = segmint_cli(path, "storefront", "token", "42", "--ttl", "0", code=2)
    assert refused.stderr.startswith("Error: ")
