"""Signing in to the dashboard: only valid, unrestricted keys; forms need their CSRF token;
sessions end with their expiry, their key's revocation, or a forged signature."""

from __future__ import annotations

import httpx
import pytest

from segmint.api.keys import ApiKey
from segmint.dashboard.session import LIFETIME_S, Sessions, SignInRefused

pytestmark = pytest.mark.slow


def _client(dashboard) -> httpx.Client:
    return httpx.Client(base_url=dashboard.url)


def _sign_in(client: httpx.Client, key: str, token: str | None = "from-cookie") -> httpx.Response:
    client.get("/signin")
    if token == "from-cookie":
        token = client.cookies.get("segmint_signin")
    data = {"key": key, "next": "/segments"}
    if token is not None:
        data["token"] = token
    return client.post("/signin", data=data)


def test_pages_need_a_session(dashboard):
    with _client(dashboard) as client:
        for path in ("/", "/segments", "/segments/rfm_champions?page=2", "/rules"):
            answer = client.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/signin?next=")
        forged = client.get("/", cookies={"segmint_session": "key_x.9999999999.deadbeef"})
        assert forged.status_code == 303


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
def test_a_valid_key_signs_in_and_lands_where_it_was_going(dashboard, scope):
    with _client(dashboard) as client:
        answer = _sign_in(client, dashboard.keys[scope])
        assert answer.status_code == 303 and answer.headers["location"] == "/segments"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert client.get("/segments").status_code == 200


def test_wrong_keys_and_missing_tokens_are_refused(dashboard):
    with _client(dashboard) as client:
        wrong = _sign_in(client, "sgm_0000_not-a-key")
        assert wrong.status_code == 401 and "not valid" in wrong.text
        restricted = _sign_in(client, dashboard.keys["storefront"])
        assert restricted.status_code == 401 and "restricted" in restricted.text
        no_token = _sign_in(client, dashboard.keys["read"], token=None)
        assert no_token.status_code == 403
        other_token = _sign_in(client, dashboard.keys["read"], token="guessed")
        assert other_token.status_code == 403
        assert "segmint_session" not in client.cookies
        outside = client.post(
            "/signin",
            data={
                "key": dashboard.keys["read"],
                "token": client.cookies.get("segmint_signin"),
                "next": "//evil.example.com/",
            },
        )
        assert outside.headers["location"] == "/"  # never an open redirect


def test_signing_out_needs_the_sessions_csrf_token(dashboard):
    with _client(dashboard) as client:
        _sign_in(client, dashboard.keys["read"])
        page = client.get("/segments").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert client.post("/signout", data={"csrf": "wrong"}).status_code == 403
        assert client.get("/segments").status_code == 200
        out = client.post("/signout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/signin"
        assert client.get("/segments").status_code == 303


def test_exports_need_a_write_session(dashboard):
    with _client(dashboard) as client:
        _sign_in(client, dashboard.keys["read"])
        csrf = client.get("/segments/rfm_champions").text.split('name="csrf" value="')[1][:64]
        refused = client.post("/segments/rfm_champions/export", data={"csrf": csrf, "to": "csv"})
        assert refused.status_code == 403
    with _client(dashboard) as client:
        _sign_in(client, dashboard.keys["write"])
        page = client.get("/segments/rfm_champions").text
        csrf = page.split('name="csrf" value="')[1][:64]
        assert client.post("/segments/rfm_champions/export", data={"to": "csv"}).status_code == 403
        file = client.post("/segments/rfm_champions/export", data={"csrf": csrf, "to": "csv"})
        assert file.status_code == 200
        assert file.headers["content-disposition"] == 'attachment; filename="rfm_champions-csv.csv"'
        assert int(file.headers["segmint-exported"]) == len(file.text.splitlines()) - 1


class _Ring:
    """A key ring holding given keys (what the server's KeyRing answers)."""

    def __init__(self, keys: dict[str, ApiKey]):
        self.keys = keys

    def find(self, key: str) -> ApiKey | None:
        return self.keys.get(key)

    def by_id(self, key_id: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.key_id == key_id), None)


def test_sessions_expire_and_end_with_their_key():
    ring = _Ring(
        {
            "secret-read": ApiKey("key_r", "read"),
            "shop": ApiKey("key_s", "read", routes=("customer-segments",)),
        }
    )
    sessions = Sessions(ring, secret=b"k" * 32)  # type: ignore[arg-type]
    cookie = sessions.sign_in("secret-read", now=1000)
    assert sessions.current(cookie, now=1000 + LIFETIME_S - 1).key.key_id == "key_r"
    assert sessions.current(cookie, now=1000 + LIFETIME_S) is None
    assert Sessions(ring, secret=b"x" * 32).current(cookie, now=1000) is None  # type: ignore[arg-type]
    key_id, expires, signature = cookie.split(".")
    assert sessions.current(f"{key_id}.{int(expires) + 999}.{signature}", now=1000) is None
    with pytest.raises(SignInRefused):
        sessions.sign_in("shop")
    del ring.keys["secret-read"]  # revoked: the session ends at once
    assert sessions.current(cookie, now=1000) is None
