"""Request-level defences of the HTTP API: a Host allow-list and a brake on token guessing.

CORS stays off: Litestar sends CORS headers only when given a `cors_config`, and the app gets
none, so a page on another origin can neither read our answers nor get a preflight approved.
Tokens travel in a header (or `?token=` on media-element routes), which no cross-site form
can send; the web app's session cookie is guarded by SameSite=Strict and an Origin check
(`mediahub.api.session_cookie`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import msgspec
from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from mediahub.api.client import is_in_process
from mediahub.errors import BadRequest, MediahubError

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class HostGuard:
    """ASGI middleware: 400 for any request whose `Host` header is not one of ours.

    DNS rebinding: a page on `evil.example` re-points its name at 127.0.0.1 (or the LAN
    address of this machine) and then reads our API from the victim's browser — same origin
    as far as the browser knows. Those requests still say `Host: evil.example`, so we answer
    only the names the operator lists in MEDIAHUB_ALLOWED_HOSTS (`*` for any, `*.example.org`
    for subdomains) or, when that is empty, the local names plus the address the client
    connected to. That address is the ASGI `server` scope, which uvicorn fills per connection
    with the socket's local address: a server bound to 0.0.0.0 is reachable as
    `http://<its LAN IP>:port`, never under a foreign name. Behind a reverse proxy, list the
    public name in MEDIAHUB_ALLOWED_HOSTS. Requests through `hub.client` come from no browser
    and pass.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.app = app
        self._any = "*" in allowed_hosts
        names = {_strip_brackets(h) for h in allowed_hosts} or set(LOCAL_HOSTS)
        self._exact = {n for n in names if not n.startswith("*.")}
        self._suffixes = tuple(n[1:] for n in names if n.startswith("*."))
        self._with_bind_address = not allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and not (self._any or is_in_process(scope) or self._allows(scope)):
            await _reject(scope, send)
            return
        await self.app(scope, receive, send)

    def _allows(self, scope: Scope) -> bool:
        host = _hostname(_header(scope, b"host"))
        if host is None:
            return False
        if host in self._exact or host.endswith(self._suffixes):
            return True
        server = scope.get("server")
        return self._with_bind_address and bool(server) and host == _strip_brackets(str(server[0]).lower())


async def refuse_nul(request: Request) -> None:
    """`before_request`: 400 for a NUL in the path, the query or a JSON body.

    No id, name or text of ours holds one, and PostgreSQL text cannot (asyncpg raises), so a
    `%00` in an id or a `\\u0000` in a title would otherwise be a 500 there — and stored as is
    on SQLite. JSON can carry a NUL only as that escape, so the raw body is enough to look at.
    """
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise BadRequest("The request's path or query contains a NUL character.")
    if request.method in {"POST", "PUT", "PATCH"} and b"\\u0000" in await request.body():
        raise BadRequest("The request body contains a NUL character (\\u0000).")


class TooManyRequests(MediahubError):
    status_code = 429


class TokenBrake:
    """Slows token guessing: after `limit` bad tokens from one address within `window` seconds,
    that address gets 429 (with Retry-After) until the oldest failure ages out.

    While braked, every token from that address is refused, right or wrong, so the answer is
    no oracle for a guess. Counted per client address as the server sees it (behind a reverse
    proxy that is the proxy; headers like X-Forwarded-For are not trusted, anyone can send them).
    Memory stays bounded: at most `max_clients` addresses are remembered.
    """

    def __init__(
        self, limit: int = 20, window: float = 60.0, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._max_clients = max_clients
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, client: str) -> None:
        """Raise `TooManyRequests` while `client` is braked."""
        failures = self._recent(client)
        if failures is not None and len(failures) >= self.limit:
            wait = max(1, math.ceil(failures[0] + self.window - self._clock()))
            raise TooManyRequests(
                f"Too many invalid API tokens from your address; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, client: str) -> None:
        failures = self._recent(client)
        if failures is None:
            if len(self._failures) >= self._max_clients:
                self._forget_oldest()
            failures = self._failures[client] = deque(maxlen=self.limit)
        failures.append(self._clock())

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def _forget_oldest(self) -> None:
        horizon = self._clock() - self.window
        for client in [c for c, f in self._failures.items() if f[-1] <= horizon]:
            del self._failures[client]
        if len(self._failures) >= self._max_clients:
            del self._failures[next(iter(self._failures))]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _hostname(host: str | None) -> str | None:
    """`Host` header -> lower-case name or address without port; None when unusable."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
    else:
        name, colon, port = host.rpartition(":")
        if not colon:
            name = host
        elif not port.isdigit():
            return None
    name = name.rstrip(".")
    if not name or not all(c.isalnum() or c in ".-_:" for c in name) or not name.isascii():
        return None
    return name


def _strip_brackets(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


async def _reject(scope: Scope, send: Send) -> None:
    body = msgspec.json.encode({"message": "This server does not answer to that host name; see MEDIAHUB_ALLOWED_HOSTS."})
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
