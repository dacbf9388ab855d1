"""The web app's session cookie: reading it for the `actor` dependency, and making it.

The cookie is HttpOnly (no script can read it) and SameSite=Strict (no other site's page
makes the browser send it). But SameSite counts every port of a host as one site: a page
on localhost:8888 (a notebook, any local dev server) is "same-site" with us on
localhost:8000 and its forms would carry our cookie. So a write authenticated by the cookie
must also show our own origin in `Origin` (or, when a browser sends none, `Sec-Fetch-Site:
same-origin`), else 403. Bearer and `?token=` requests are not concerned: no browser
attaches those by itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import Cookie

from mediahub.errors import Forbidden, Unauthorized
from mediahub.hub import Hub
from mediahub.library.profiles import Actor

COOKIE = "mediahub_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}


async def session_actor(request: Request) -> Actor | None:
    """The actor of the request's session cookie; None when it carries none; 401 when it is bad.

    A bad cookie is not counted by the token brake: it is 256 random bits, nothing to guess,
    and a browser with an expired one would otherwise brake its own user's next sign-in.
    """
    cookie = request.cookies.get(COOKIE)
    if cookie is None:
        return None
    hub: Hub = request.app.state.hub
    try:
        actor = await hub.sessions.actor(cookie, request.headers.get("x-profile-id"))
    except Unauthorized as exc:  # and tell the browser to stop sending it
        raise Unauthorized(exc.message, headers={"Set-Cookie": session_cookie(request, "", 0).to_header(header="")})
    if request.method not in SAFE_METHODS:
        require_own_origin(request)
    return actor


def require_own_origin(request: Request) -> None:
    """403 unless the request came from a page of this app's own origin."""
    origin = request.headers.get("origin")
    if origin is None:
        same = request.headers.get("sec-fetch-site") == "same-origin"
    else:
        scheme = urlsplit(origin).scheme
        same = scheme in DEFAULT_PORTS and _address(origin, scheme) == _address("//" + request.headers.get("host", ""), scheme)
    if not same:
        raise Forbidden("Refused: a change signed in by the session cookie must come from this app's own pages.")


def session_cookie(request: Request, value: str, max_age: int) -> Cookie:
    """The cookie as API.md has it (max_age 0 deletes it); `Secure` when reached over https."""
    return Cookie(
        key=COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _address(url: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) of an origin or a `//host[:port]`; a missing port is the scheme's default."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.rstrip("."), port or DEFAULT_PORTS[scheme]
