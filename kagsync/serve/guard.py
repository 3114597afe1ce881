"""What every request passes through: methods, hosts, the access token, security headers.

- Only GET and HEAD: anything else is refused with 405 before reaching a page.
- Hosts: bound to loopback, only requests naming a loopback host (or the host given)
  are served, so a web page elsewhere cannot read the scoreboard through a DNS
  rebinding trick.
- The token (optional): ``?token=T`` once sets a cookie and redirects to the same URL
  without it (so it does not stay in the address bar, the history or a Referer);
  then the cookie opens every page. Without it, every page answers 401.
- Headers on every answer: a strict Content-Security-Policy (scripts, styles and
  connections from this server only; no inline script or style; no frames), no
  referrer, no MIME sniffing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "kagsync_token"
ALLOWED_METHODS = ("GET", "HEAD")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


@dataclass(frozen=True)
class GuardConfig:
    """``token``: needed by every page when set. ``hosts``: the Host names served (None: any)."""

    token: str | None = None
    hosts: tuple[str, ...] | None = None


def _host_name(value: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` -> ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """ASGI middleware applying the rules above."""

    def __init__(self, app: ASGIApp, config: GuardConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        request = Request(scope)
        if request.method not in ALLOWED_METHODS:
            return PlainTextResponse(
                "405 Method Not Allowed: this scoreboard is read-only (GET and HEAD only)\n",
                status_code=405,
                headers={"Allow": ", ".join(ALLOWED_METHODS)},
            )
        if self.config.hosts is not None:
            host = _host_name(request.headers.get("host", ""))
            if host not in self.config.hosts:
                return PlainTextResponse("400 Bad Request: unknown host\n", status_code=400)
        token = self.config.token
        if token is None:
            return None
        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _unauthorized(request)
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            root, path = scope.get("root_path", ""), scope["path"]
            # ASGI servers differ on whether the path already holds the root path.
            target = (path if path.startswith(root) else root + path) + (("?" + urlencode(rest)) if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/")
            return response
        cookie = request.cookies.get(COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), token.encode()):
            return None
        return _unauthorized(request)


def _unauthorized(request: Request) -> Response:
    return PlainTextResponse(
        "401 Unauthorized: this scoreboard needs its access token. Open the link you were given "
        "(it ends in ?token=...); the browser then remembers it.\n",
        status_code=401,
        headers={"Cache-Control": "no-store"},
    )
