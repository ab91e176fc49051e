"""The two pages mailed links open, as the local stack serves them (``APP_BASE_URL`` is the stack).

Deployed, the web app at ``APP_BASE_URL`` serves ``/verify-email`` and ``/reset-password`` and POSTs
the token to the API. The local stack has no web app, so it answers those paths itself, through the
API like the app would (the request goes through the router to the auth function, as API Gateway
would send it):

- ``GET /verify-email?token=...`` verifies at once (``POST /api/v1/auth/verify-email``), so the
  link the dev server prints works from a browser or ``curl``;
- ``GET /reset-password?token=...`` shows a form for the new password, whose POST sends
  ``POST /api/v1/auth/password/reset``.

A verification done by a GET is a convenience of the local stack only: mail scanners open links,
so a real app's page should send the POST from a button or its script, never on load.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

VERIFY_PAGE = "/verify-email"
RESET_PAGE = "/reset-password"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
_STYLE = "body{font-family:sans-serif;max-width:32rem;margin:3rem auto;line-height:1.5}"


def _html(title: str, content: str) -> bytes:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{content}</body></html>").encode()


async def _answer(send: Send, status: int, body: bytes, allow: str | None = None) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               (b"content-security-policy", _CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def call_api(api: ASGIApp, scope: Scope, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST ``payload`` as JSON to ``path`` through ``api`` (the router), from the same client as
    ``scope``; the status and the decoded envelope."""
    body = json.dumps(payload).encode()
    inner = {**scope, "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    sent = False
    answer: dict[str, Any] = {"status": 500, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def capture(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await api(inner, receive, capture)  # type: ignore[arg-type]
    try:
        envelope = json.loads(answer["body"] or b"{}")
    except ValueError:
        envelope = {}
    return int(answer["status"]), envelope if isinstance(envelope, dict) else {}


def _token_of(query: bytes | str) -> str:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    return (parse_qs(text).get("token") or [""])[0]


def _refusal(envelope: dict[str, Any]) -> str:
    errors = envelope.get("errors") or [{}]
    return str(errors[0].get("message") or envelope.get("message") or "Something went wrong")


def verify_page(api: ASGIApp) -> ASGIApp:
    """``GET /verify-email?token=``: verify through the API and say how it went."""

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "GET":
            await _answer(send, 405, _html("Method not allowed", ""), allow="GET")
            return
        status, envelope = await call_api(api, scope, "/api/v1/auth/verify-email",
                                          {"token": _token_of(scope.get("query_string", b""))})
        if status == 200:
            await _answer(send, 200, _html("Email verified", "<p>Your email address is confirmed.</p>"))
        else:
            await _answer(send, status, _html("Link not accepted", f"<p>{html.escape(_refusal(envelope))}</p>"))

    return page


def reset_page(api: ASGIApp) -> ASGIApp:
    """``GET /reset-password?token=``: a form for the new password; its POST resets through the API."""

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if method == "GET":
            token = html.escape(_token_of(scope.get("query_string", b"")), quote=True)
            form = (f"<form method=\"post\" action=\"{RESET_PAGE}\"><input type=\"hidden\" name=\"token\" "
                    f"value=\"{token}\"><p><label>New password <input type=\"password\" name=\"new_password\" "
                    "minlength=\"8\" required autocomplete=\"new-password\"></label></p>"
                    "<p><button type=\"submit\">Change password</button></p></form>")
            await _answer(send, 200, _html("Choose a new password", form))
            return
        if method != "POST":
            await _answer(send, 405, _html("Method not allowed", ""), allow="GET, POST")
            return
        fields = parse_qs((await _read_body(receive)).decode("utf-8", "replace"))
        status, envelope = await call_api(api, scope, "/api/v1/auth/password/reset", {
            "token": (fields.get("token") or [""])[0], "new_password": (fields.get("new_password") or [""])[0]})
        if status == 200:
            await _answer(send, 200, _html("Password changed", "<p>Sign in with your new password.</p>"))
        else:
            await _answer(send, status, _html("Password not changed", f"<p>{html.escape(_refusal(envelope))}</p>"))

    return page


def account_pages(api: ASGIApp) -> dict[str, ASGIApp]:
    """The pages by path, for ``GatewayRouter(pages=...)``; ``api`` is the router they call."""
    return {VERIFY_PAGE: verify_page(api), RESET_PAGE: reset_page(api)}
