"""The rule editor: caret errors and audience sizes as you type, saving with a write key."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from segmint.segments.config import parse_config, with_segment

pytestmark = pytest.mark.slow


def _typed(visit, rule: str) -> None:
    box = visit.page.locator("#rule")
    box.fill("")
    box.type(rule, delay=5)


def test_typing_shows_the_caret_error_then_the_audience(signed_in, dashboard):
    visit = signed_in("/rules")
    _typed(visit, "numbr_of_orders > 3")
    caret = visit.page.locator("[data-role=caret]")
    caret.wait_for(timeout=10_000)
    assert caret.text_content().splitlines() == ["numbr_of_orders > 3", "^"]
    assert "number_of_orders" in visit.page.text_content("[data-role=suggestion]")

    _typed(visit, "number_of_orders >= 3 AND amount_spent > 500")
    size = visit.page.locator("[data-role=size]")
    size.wait_for(timeout=10_000)
    with duckdb.connect(str(dashboard.reference), read_only=True) as con:
        expected = con.execute(
            "select count(*) from customer_features"
            " where number_of_orders >= 3 and amount_spent > 500"
        ).fetchone()[0]
    assert expected > 0
    assert size.text_content() == f"{expected:,}"
    assert visit.console_errors == [] and visit.outside_requests == []
    visit.page.screenshot(path=str(dashboard.shots / "rules.png"), full_page=True)


def _session(dashboard, scope: str) -> httpx.Client:
    client = httpx.Client(base_url=dashboard.url, follow_redirects=True)
    client.get("/signin")
    token = client.cookies.get("segmint_signin")
    signed = client.post(
        "/signin", data={"key": dashboard.keys[scope], "token": token, "next": "/"}
    )
    assert signed.status_code == 200 and "Sign out" in signed.text
    return client


def _csrf(page: str) -> str:
    marker = 'name="csrf" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def test_saving_needs_a_write_key_and_a_csrf_token(dashboard):
    config = Path(dashboard.server.path).parent / "segments.yaml"
    rule = "number_of_orders >= 4"
    form = {"rule": rule, "slug": "four_plus", "name": "Four or more orders"}
    reader, writer = _session(dashboard, "read"), _session(dashboard, "write")
    try:
        csrf = _csrf(reader.get("/rules").text)
        refused = reader.post("/rules", data={**form, "csrf": csrf})
        assert refused.status_code == 403 and "write key" in refused.text
        no_token = writer.post("/rules", data=form)
        assert no_token.status_code == 403
        csrf = _csrf(writer.get("/rules").text)
        bad = writer.post("/rules", data={**form, "rule": "numbr_of_orders > 3", "csrf": csrf})
        assert bad.status_code == 400 and not config.exists()
        saved = writer.post("/rules", data={**form, "csrf": csrf})
        assert saved.status_code == 200 and "Saved four_plus" in saved.text
        again = writer.post("/rules", data={**form, "csrf": csrf})
        assert again.status_code == 400 and "four_plus" in again.text
        user = [s for s in parse_config(config.read_text(), config).segments if s.origin == "user"]
        assert [(s.slug, s.name, s.rule) for s in user] == [
            ("four_plus", "Four or more orders", rule)
        ]
    finally:
        reader.close()
        writer.close()
        config.unlink(missing_ok=True)


def test_a_saved_segment_keeps_the_file_as_written(tmp_path: Path):
    text = (
        "# our segments\n"
        "parameters:\n"
        "  vip_spent: 800  # raised in March\n"
        "segments:\n"
        "    - slug: boots_fans  # the autumn campaign\n"
        "      rule: \"products_purchased(category: 'boots')\"\n"
        "\n"
        "plays:\n"
        "  boots_fans:\n"
        "    play: New boots are in\n"
    )
    updated = with_segment(text, {"slug": "big", "rule": "amount_spent > 1000"})
    assert updated.startswith(text.split("\nplays:")[0])  # everything before, comments included
    assert updated.endswith("\nplays:\n  boots_fans:\n    play: New boots are in\n")
    assert "    - slug: big\n      rule: amount_spent > 1000\n" in updated
    path = tmp_path / "segments.yaml"
    slugs = [s.slug for s in parse_config(updated, path).segments if s.origin == "user"]
    assert slugs == ["boots_fans", "big"]
    fresh = with_segment("", {"slug": "big", "rule": "amount_spent > 1000"})
    assert fresh == "segments:\n  - slug: big\n    rule: amount_spent > 1000\n"
