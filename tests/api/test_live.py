"""End to end: a real ``segmint serve``, a real webhook receiver. An Added to Cart puts a
customer in cart abandoners, seen through the API and through a signed webhook delivered
exactly once more after two failures; a killed server loses no pending delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.serving import Server, segmint, start_server
from webhooks.receiver import Receiver, signature_is_valid, wait_until

CART = "engagement_cart_abandoners"


@pytest.fixture(scope="module")
def live(served_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("live") / "shop.duckdb"
    path.write_bytes(served_template.read_bytes())
    for key, value in (("webhook_retry_base_s", "0.3"), ("webhook_timeout_s", "2")):
        assert segmint(path, "settings", "set", key, value).returncode == 0
    created = segmint(path, "api-key", "create", "--scope", "admin")
    assert created.returncode == 0, created.stderr
    server = start_server(path, created.stdout.strip().splitlines()[-1])
    yield server
    if server.process.poll() is None:
        server.stop()


def client(server: Server) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def buyers_without_a_cart(api: httpx.Client) -> list[dict[str, Any]]:
    members = api.get("/v1/segments/lifecycle_repeat/members?limit=200").json()["members"]
    out = []
    for member in members:
        segments = api.get(f"/v1/customers/{member['customer_id']}/segments").json()
        if member["email"] and CART not in {s["segment"] for s in segments["segments"]}:
            out.append({**member, "as_of": segments["as_of"]})
    return out


def add_to_cart(api: httpx.Client, person: dict[str, Any], hour: int) -> dict[str, Any]:
    from datetime import date

    day = date.fromisoformat(person["as_of"]) + timedelta(days=1)
    event = {"event": "Added to Cart", "time": f"{day}T{hour:02d}:00:00Z", "email": person["email"]}
    answer = api.post("/v1/events", json=event)
    assert answer.status_code == 200, answer.text
    return answer.json()


def add_webhook(api: httpx.Client, url: str) -> str:
    answer = api.post("/v1/webhooks", json={"url": url, "segments": [CART], "on": ["enter"]})
    assert answer.status_code == 201, answer.text
    return answer.json()["webhook"]["secret"]


def test_a_cart_is_seen_by_the_api_and_a_signed_webhook_after_two_failures(live: Server):
    receiver = Receiver(script=[500, 503])  # fails twice, then 200
    try:
        with client(live) as api:
            secret = add_webhook(api, receiver.url)
            person = buyers_without_a_cart(api)[0]

            answer = add_to_cart(api, person, hour=10)

            assert CART in answer["customers"][0]["entered"]
            looked_up = api.get(f"/v1/customers/{person['email']}/segments").json()
            assert CART in {s["segment"] for s in looked_up["segments"]}
        wait_until(lambda: receiver.successes(), timeout=30)
        body = json.loads(receiver.successes()[0])
        assert (body["customer_id"], body["segment"], body["change"]) == (
            person["customer_id"],
            CART,
            "enter",
        )
        assert body["type"] == "segment.enter" and body["id"].startswith("evt_")
        assert len(receiver.requests) == 3
        assert {json.loads(r.body)["id"] for r in receiver.requests} == {body["id"]}
        assert all(signature_is_valid(secret, r) for r in receiver.requests)
        assert not signature_is_valid("whsec_wrong", receiver.requests[-1])
        time.sleep(1.5)  # later polls must not send it again
        assert len(receiver.successes()) == 1 and len(receiver.requests) == 3
    finally:
        receiver.close()


def test_a_killed_server_loses_no_pending_delivery(live: Server):
    receiver = Receiver(default=503)  # down for now: every attempt fails and is retried
    try:
        with client(live) as api:
            add_webhook(api, receiver.url)
            person = buyers_without_a_cart(api)[0]
            add_to_cart(api, person, hour=11)
        wait_until(lambda: len(receiver.requests) >= 1, timeout=30)
        live.stop(kill=True)  # SIGKILL: no clean shutdown of anything
        receiver.default = 200
        attempts_before = len(receiver.requests)
        restarted = start_server(live.path, live.key)
        try:
            wait_until(lambda: receiver.successes(), timeout=30)
            body = json.loads(receiver.successes()[0])
            assert body["customer_id"] == person["customer_id"]
            assert len(receiver.requests) > attempts_before
        finally:
            restarted.stop()
    finally:
        receiver.close()
