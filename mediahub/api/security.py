"""Request-level defences of the HTTP API: a Host allow-list and a brake on token guessing.

CORS stays off: Litestar sends CORS headers only when given a `cors_config`, and the app gets
none, so a page on another origin can neither read our answers nor get a preflight approved.
Tokens travel in a header (or `?token=` on media-element routes), which no cross-site form
can send; the web app's session cookie is guarded by SameSite=Strict and an Origin check
(`mediahub.api.session_cookie`).

The token brake (`TokenBrake`). Every presented token is checked at once, and a valid one is
answered at once, whatever its address did before: behind a reverse proxy all users share one
address, so a brake that refused (or delayed) every token of a guessing address would lock
everyone out, and an attacker could renew that lock for ever without any token.

The slowing is in how wrong tokens are answered. The first `free` (10) wrong tokens of an
address within `window` (60 s) get their 401 at once: typos, a stale client. After that the
address's 401s are *held* and go out one per `interval` (2 s), the first one `interval` after
it arrived. An immediate 401 (or 429) would let a guesser that waits for its answers -- every
off-the-shelf brute-forcer, a script in a loop, many of them in parallel -- test thousands of
tokens a second while valid ones pass; held answers give it one per `interval` instead.
At most `max_held` (64) answers wait per address and `max_held_total` (1024, about 26 KiB
each) in all; a wrong token beyond that is answered 429 at once, with Retry-After. Held
answers are timers in the event loop (`asyncio.sleep`), never a blocked loop, and a held slot
is not given back when the client hangs up, so abandoning requests buys no more of them.
Memory is bounded: at most `max_clients` addresses are remembered (the least recently failing
one without a held answer is forgotten first), plus the held answers.

What no brake can do: since a valid guess is answered at once, a guesser that does not wait
for answers but counts "no 200 within a round trip" as wrong learns as fast as it can open
connections. Only delaying valid tokens too would stop that -- the lock-out removed here.
Against it the defence is the token itself: generated tokens hold 256 random bits, so a
preset MEDIAHUB_OWNER_TOKEN should be as long.

Failures are counted per client address as the server sees it (headers like X-Forwarded-For
are not trusted: anyone can send them), IPv6 addresses per /64, the block one customer
usually holds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

import msgspec
from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from mediahub.api.client import is_in_process
from mediahub.errors import BadRequest, MediahubError

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
SECRET_PARAMETERS = frozenset({"token", "sig"})  # query parameters that grant access
REDACTED = "[redacted]"
MAX_JSON_DEPTH = 32  # our bodies nest 2 deep (AddMedia.genres)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)')  # unterminated: to the end, in linear time
_OPENERS = frozenset(b"[{")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


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


async def refuse_malformed(request: Request) -> None:
    """`before_request`: 400 for a NUL in the path, the query or a body, and for a body
    nested deeper than MAX_JSON_DEPTH.

    No id, name or text of ours holds a NUL, and PostgreSQL text cannot (asyncpg raises), so
    a `%00` in an id or a `\\u0000` in a title would otherwise be a 500 there -- and stored
    as is on SQLite. JSON can carry a NUL only as that escape, so the raw body is enough to
    look at. Litestar decodes a JSON body into plain objects before checking its shape, and
    that recursion overflows on 20,000 nested `[` (a RecursionError, a 500) unless refused here.
    """
    if "\x00" in request.scope["path"] or b"%00" in request.scope.get("query_string", b""):
        raise BadRequest("The request's path or query contains a NUL character.")
    if request.method in {"POST", "PUT", "PATCH"}:
        body = await request.body()
        if b"\\u0000" in body:
            raise BadRequest("The request body contains a NUL character (\\u0000).")
        if _nesting_exceeds(body, MAX_JSON_DEPTH):
            raise BadRequest(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")


def _nesting_exceeds(body: bytes, limit: int) -> bool:
    """True when `body`, read as JSON, nests arrays and objects (closed or not) deeper than
    `limit`. Strings go first (they may hold brackets), then everything but brackets."""
    if b"[" not in body and b"{" not in body:
        return False
    depth = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENERS else -1
        if depth > limit:
            return True
    return False


class RedactSecrets(logging.Filter):
    """Logging filter: `token=` and `sig=` query values become `[redacted]` in the access log.

    uvicorn logs every request target with its query, and `<video>`/`<img>` URLs carry a
    profile token (`?token=`) or a signed grant (`?sig=`) there. Parameter names are compared
    as the app decodes them (`%74oken=` is `token=` to Litestar, so it is redacted too).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redact_query(target: str) -> str:
    """`/path?token=abc&x=1` -> `/path?token=[redacted]&x=1`."""
    path, question, query = target.partition("?")
    if not question:
        return target
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).lower() in SECRET_PARAMETERS:
            parts[index] = f"{name}={REDACTED}"
    return f"{path}?{'&'.join(parts)}"


class TooManyRequests(MediahubError):
    status_code = 429


@dataclass(slots=True)
class _Guesser:
    """What the brake remembers of one address: its latest failures and its held answers."""

    failures: deque[float]  # times of the latest `free` wrong tokens
    next_answer: float = 0.0  # when its next held 401 may go out
    held: int = 0  # 401s waiting to be sent


class TokenBrake:
    """Slows token guessing down without ever refusing a valid token (see the module notes)."""

    def __init__(
        self,
        free: int = 10,
        window: float = 60.0,
        interval: float = 2.0,
        max_held: int = 64,
        max_held_total: int = 1024,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.window = window
        self.interval = interval
        self.max_held = max_held
        self.max_held_total = max_held_total
        self._max_clients = max_clients
        self._clock = clock
        self._guessers: dict[str, _Guesser] = {}  # least recently failing first
        self._held = 0

    async def failed(self, client: str) -> None:
        """Count a wrong token from `client`; return when its 401 may be sent (or raise 429)."""
        key = _address_block(client)
        now = self._clock()
        guesser = self._guessers.pop(key, None) or self._new_guesser()
        self._guessers[key] = guesser  # now the most recently failing
        over = len(guesser.failures) == self.free and guesser.failures[0] > now - self.window
        guesser.failures.append(now)
        if not over:
            return
        if guesser.held >= self.max_held or self._held >= self.max_held_total:
            wait = max(1, math.ceil(guesser.next_answer - now))
            raise TooManyRequests(
                f"Too many invalid API tokens from your address; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        guesser.next_answer = max(now, guesser.next_answer) + self.interval
        guesser.held += 1
        self._held += 1
        try:
            await asyncio.sleep(guesser.next_answer - now)
        finally:
            guesser.held -= 1
            self._held -= 1

    def _new_guesser(self) -> _Guesser:
        if len(self._guessers) >= self._max_clients:
            self._forget_one()
        return _Guesser(failures=deque(maxlen=self.free))

    def _forget_one(self) -> None:
        """Drop the least recently failing address that has no answer waiting."""
        for key, guesser in self._guessers.items():
            if not guesser.held:
                del self._guessers[key]
                return


def _address_block(host: str) -> str:
    """The address a guesser is counted by: itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


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
