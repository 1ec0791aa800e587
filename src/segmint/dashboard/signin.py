"""``/signin`` and ``/signout``: a key in, a session cookie out (and back)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from segmint.dashboard.session import COOKIE, LIFETIME_S, SIGN_IN_COOKIE, Session, SignInRefused
from segmint.dashboard.session import new_sign_in_token as new_token
from segmint.dashboard.web import csrf_ok, form_fields, signed_in, templates

router = APIRouter(include_in_schema=False)


@router.get("/signin")
def sign_in_form(request: Request, next: str = "/") -> HTMLResponse:
    return _form(request, _local(next))


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    fields = await form_fields(request)
    wanted = _local(fields.get("next", "/"))
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or fields.get("token") != expected:
        return _form(request, wanted, "the form expired: please sign in again", status=403)
    try:
        cookie = request.app.state.sessions.sign_in(fields.get("key", ""))
    except SignInRefused as refused:
        return _form(request, wanted, str(refused), status=401)
    response = RedirectResponse(wanted, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=LIFETIME_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(SIGN_IN_COOKIE)
    return response


@router.post("/signout")
async def sign_out(request: Request, session: Session = Depends(signed_in)) -> Response:
    if not csrf_ok(request, session, await form_fields(request)):
        return HTMLResponse("Error: the form's CSRF token is missing or wrong", status_code=403)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _form(
    request: Request, next_path: str, error: str | None = None, status: int = 200
) -> Response:
    token = new_token()
    response = templates.TemplateResponse(
        request,
        "signin.html",
        {"next": next_path, "token": token, "error": error, "title": "Sign in"},
        status_code=status,
    )
    response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="strict")
    return response


def _local(path: str) -> str:
    """Only a path on this server (no ``//host`` or ``https://``): never an open redirect."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"
