"""Signatures: the header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">``, checked here
against an independent hmac computation; verify() rejects tampering, other secrets and stale
timestamps (replays)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmint.webhooks.signing import new_secret, parse_header, sign, verify
from webhooks.receiver import expected_signature

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"segment.enter"}'
T = 1_900_000_000


def test_sign_matches_an_independent_hmac() -> None:
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected_signature(SECRET, BODY, T)}"


def test_verify_accepts_a_fresh_signature() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + 10)
    assert verify(SECRET, BODY.decode(), sign(SECRET, BODY, T), now=T)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", BODY, T),  # another secret
        (SECRET, BODY + b" ", T),  # a changed body
        (SECRET, BODY, T + 301),  # too old: a replay
        (SECRET, BODY, T - 301),  # too far in the future
    ],
)
def test_verify_rejects(secret: str, body: bytes, now: int) -> None:
    assert not verify(secret, body, sign(SECRET, BODY, T), now=now)


def test_tolerance_is_configurable() -> None:
    header = sign(SECRET, BODY, T)
    assert verify(SECRET, BODY, header, tolerance_s=3600, now=T + 3000)
    assert not verify(SECRET, BODY, header, tolerance_s=5, now=T + 6)


@pytest.mark.parametrize(
    "header", ["", "t=abc,v1=00", f"t={T}", "v1=00", f"t={T},v0=00", "garbage"]
)
def test_verify_rejects_malformed_headers(header: str) -> None:
    assert not verify(SECRET, BODY, header, now=T)


def test_any_of_several_v1_signatures_may_match() -> None:
    """A receiver rotating secrets, or a future sender signing with two, still verifies."""
    good = expected_signature(SECRET, BODY, T)
    assert verify(SECRET, BODY, f"t={T},v1={'0' * 64},v1={good}", now=T)
    assert parse_header(f"t={T},v1=a, v1=b") == (T, ["a", "b"])


def test_new_secrets_are_prefixed_and_unique() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) >= 40 for s in secrets)


@given(body=st.binary(max_size=200), timestamp=st.integers(0, 2**40))
def test_sign_then_verify_round_trips(body: bytes, timestamp: int) -> None:
    header = sign(SECRET, body, timestamp)
    assert verify(SECRET, body, header, now=timestamp)
    assert header.split(",v1=")[1] == expected_signature(SECRET, body, timestamp)


def test_the_documented_receiver_snippet_verifies() -> None:
    """docs/webhooks.md's Python snippet accepts segmint's signatures and rejects others."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
    blocks = re.findall(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    [snippet] = [b for b in blocks if "def verify_segmint" in b]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102  (our own documentation)
    verify_segmint = namespace["verify_segmint"]
    now = int(time.time())
    assert verify_segmint(SECRET, BODY, sign(SECRET, BODY, now))
    assert not verify_segmint("whsec_other", BODY, sign(SECRET, BODY, now))
    assert not verify_segmint(SECRET, BODY, sign(SECRET, BODY, now - 3600))
    assert not verify_segmint(SECRET, BODY, "t=x,v1=00")
