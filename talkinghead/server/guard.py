"""Who may talk to the server: same-origin browsers only, and the token holders when a token is set.

An ASGI middleware in front of every HTTP request and WebSocket:

- **Cross-site requests are refused** (403; a WebSocket is closed with 1008 before it is accepted). A web
  page on another site can make a visitor's browser POST a form to this server or open its WebSocket
  (CORS does not stop either; it only hides the answer), so a request whose ``Origin`` is not this
  server's (nor one of ``allowed_origins``), or whose ``Sec-Fetch-Site`` says ``cross-site`` or
  ``same-site``, is refused unless it only reads (GET/HEAD: a link to the page still works). Clients
  that are not browsers send neither header and are not affected. No CORS headers are sent, so other
  sites cannot read any answer.
- **Token**: with ``--token`` (or ``TALKINGHEAD_TOKEN``), every request but ``/healthz`` must carry it, as
  ``Authorization: Bearer TOKEN``, the ``talkinghead_token`` cookie, or ``?token=TOKEN`` (which sets the
  cookie, so opening ``/?token=TOKEN`` once lets the web page work). Compared in constant time.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

COOKIE = "talkinghead_token"
OPEN_PATHS = ("/healthz",)
READ_ONLY = ("GET", "HEAD", "OPTIONS")
CROSS = ("cross-site", "same-site")
CLOSE_POLICY = 1008


class Guard:
    def __init__(self, app: Any, token: str | None = None, allowed_origins: list[str] | None = None) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.allowed = {origin.rstrip("/").lower() for origin in allowed_origins or []}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._cross_site(scope, headers) or self._unauthorised(scope, headers)
        if refusal is None:
            await self.app(scope, receive, self._cookie_setter(scope, send))
            return
        status, message = refusal
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": CLOSE_POLICY, "reason": message[:120]})
            return
        await JSONResponse({"detail": message}, status_code=status)(scope, receive, send)

    def _cross_site(self, scope: dict[str, Any], headers: Headers) -> tuple[int, str] | None:
        if scope["type"] == "http" and scope["method"] in READ_ONLY:
            return None
        origin = headers.get("origin")
        if origin is not None:
            netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
            if netloc != headers.get("host", "").lower() and origin.rstrip("/").lower() not in self.allowed:
                return 403, "cross-site request refused: this server only answers pages it serves itself"
        elif headers.get("sec-fetch-site", "").lower() in CROSS:
            return 403, "cross-site request refused: this server only answers pages it serves itself"
        return None

    def _unauthorised(self, scope: dict[str, Any], headers: Headers) -> tuple[int, str] | None:
        if self.token is None or scope["path"] in OPEN_PATHS:
            return None
        offered = [value for value in (_bearer(headers), _cookie(headers), _query_token(scope)) if value]
        if any(hmac.compare_digest(value.encode(), self.token) for value in offered):
            return None
        return 401, "a token is required: send 'Authorization: Bearer TOKEN' (see talkinghead serve --token)"

    def _cookie_setter(self, scope: dict[str, Any], send: Any) -> Any:
        """Answer a request that brought ``?token=`` with the cookie, so the web page's own calls carry it."""
        token = _query_token(scope)
        if self.token is None or scope["type"] != "http" or not hmac.compare_digest(token.encode(), self.token):
            return send

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        return send_with_cookie


def _bearer(headers: Headers) -> str:
    kind, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" else ""


def _cookie(headers: Headers) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is the client's problem: no token from it
        return ""
    return jar[COOKIE].value if COOKIE in jar else ""


def _query_token(scope: dict[str, Any]) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
    return values[0] if values else ""
