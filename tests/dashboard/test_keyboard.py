"""Usable with a keyboard and labelled for screen readers: every link, button and control of
a page is reached by Tab in order, the skip link leads into the content, every control has a
label and every chart is a labelled image."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

PAGES = ("/", "/segments", "/rules")
MAX_TABS = 600
FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]), select, textarea"


@pytest.mark.parametrize("path", PAGES)
def test_tab_reaches_every_control_and_everything_is_labelled(signed_in, path):
    visit = signed_in(path)
    page = visit.page
    wanted = page.eval_on_selector_all(
        FOCUSABLE,
        "els => els.filter(e => e.offsetParent !== null && !e.closest('.chart'))"
        ".map((e, i) => { e.dataset.tabIndexProbe = String(i); return i; })",
    )
    reached = []
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(MAX_TABS):  # the charts' own toolbar buttons are stops too
        page.keyboard.press("Tab")
        probe = page.evaluate("document.activeElement.dataset.tabIndexProbe")
        if probe is None:
            continue
        if reached and int(probe) <= reached[-1]:
            break  # round the page once
        reached.append(int(probe))
    assert sorted(set(reached)) == wanted  # every control, each reached
    assert reached == sorted(reached)  # in the order they appear

    unlabelled = page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))"
        ".map(e => e.name || e.id)",
    )
    assert unlabelled == []
    charts = page.eval_on_selector_all(
        ".chart", "els => els.map(e => [e.getAttribute('role'), e.getAttribute('aria-label')])"
    )
    assert all(role == "img" and label for role, label in charts)
    assert page.locator("main h1").count() == 1


def test_the_skip_link_leads_into_the_content(signed_in):
    page = signed_in("/segments").page
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
