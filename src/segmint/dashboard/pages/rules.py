"""Rule editor (``/rules``): type a rule, see as you type the caret error with its suggestion or
the audience's size and a sample, and save it as a segment into ``segments.yaml``.

The page works without JavaScript (the form previews on submit); with it, ``rules.js`` asks
``/rules/preview`` as the rule changes. Saving needs a write key; the segment is evaluated
from the next refresh on.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from segmint.dashboard.session import Session
from segmint.dashboard.web import (
    TWIN_PREFIX,
    csrf_ok,
    form_fields,
    read_view,
    render,
    service_of,
    signed_in,
    twin,
    twin_key,
)
from segmint.errors import SegmintError
from segmint.segments import preview
from segmint.segments.config import config_path, save_segment
from segmint.store import Store

router = APIRouter()
TWIN = f"{TWIN_PREFIX}/rules"
SAMPLE = 10
EXAMPLE = "number_of_orders >= 3 AND amount_spent > 500"
SLUG = re.compile(r"[a-z][a-z0-9_]{1,62}")


def rule_preview(store: Store, rule: str) -> dict[str, Any]:
    """The audience of ``rule`` against the latest refresh (size, share, a sample), or where
    and why it is wrong (message, position, the caret lines, the suggestion)."""
    if not rule.strip():
        return {"rule": rule, "valid": False, "error": None}
    try:
        result = preview(store, rule)
    except SegmintError as error:  # a RuleError carries the position of the mistake
        return {"rule": rule, "valid": False, "error": _error(error, rule)}
    size = int(store.scalar(result.members.count()))
    sample = store.run(result.members.order_by("customer_id").limit(SAMPLE)).to_pylist()
    return {
        "rule": rule,
        "valid": True,
        "as_of": result.as_of,
        "customers": size,
        "share_of_customers": size / result.customers if result.customers else 0.0,
        "sample": sample,
        "error": None,
    }


def _error(error: SegmintError, rule: str) -> dict[str, Any]:
    position = getattr(error, "position", None)
    return {
        "message": error.message,
        "position": position,
        "caret": _caret(rule, position) if position is not None else None,
        "suggestion": error.hint,
    }


def _caret(rule: str, position: int) -> dict[str, Any]:
    """The line of the rule holding ``position`` and the column under it."""
    start = rule.rfind("\n", 0, position) + 1
    end = rule.find("\n", position)
    line = rule[start : end if end >= 0 else len(rule)]
    return {"line": line, "column": position - start}


@router.get("/rules", include_in_schema=False)
def rules_page(
    request: Request, rule: str = "", session: Session = Depends(signed_in)
) -> HTMLResponse:
    view = read_view(request, rule_preview, rule) if rule else {"rule": "", "valid": False}
    return _page(request, session, view)


@router.get("/rules/preview", include_in_schema=False)
def rules_preview(
    request: Request, rule: str = "", session: Session = Depends(signed_in)
) -> JSONResponse:
    """What the page's script asks as the rule changes (the session's cookie is its key)."""
    return twin(read_view(request, rule_preview, rule))


@router.get(TWIN, dependencies=[twin_key], tags=["views"], summary="A rule's preview")
def rules_twin(request: Request, rule: str) -> JSONResponse:
    return twin(read_view(request, rule_preview, rule))


@router.post("/rules", include_in_schema=False)
async def save_rule(request: Request, session: Session = Depends(signed_in)) -> HTMLResponse:
    """Save the rule as a segment (write keys only)."""
    fields = await form_fields(request)
    rule, slug = fields.get("rule", ""), fields.get("slug", "").strip()
    if not csrf_ok(request, session, fields):
        return _page(request, session, {"rule": rule}, "the form's CSRF token is missing", 403)
    view = read_view(request, rule_preview, rule)
    if not session.allows("write"):
        return _page(request, session, view, "saving a segment needs a write key", 403)
    if not view["valid"]:
        return _page(request, session, view, "fix the rule before saving it", 400)
    if not SLUG.fullmatch(slug):
        problem = "the slug must be 2-63 lowercase letters, digits or _, starting with a letter"
        return _page(request, session, view, problem, 400)
    entry = {"slug": slug, "name": fields.get("name", "").strip() or slug, "rule": rule}
    if fields.get("description", "").strip():
        entry["description"] = fields["description"].strip()
    try:
        path = save_segment(service_of(request).path, entry)
    except SegmintError as error:
        return _page(request, session, view, error.message, 400)
    saved = f"Saved {slug} to {path}: it is evaluated from the next refresh."
    return _page(request, session, view, saved=saved)


def _page(
    request: Request,
    session: Session,
    view: dict[str, Any],
    problem: str | None = None,
    status: int = 200,
    saved: str | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "rules.html",
        session,
        view,
        TWIN,
        "Rule editor",
        example=EXAMPLE,
        problem=problem,
        saved=saved,
        config=config_path(service_of(request).path),
    )
    response.status_code = status
    return response
