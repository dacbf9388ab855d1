"""Who is calling: the `actor` dependency of every /api route.

`Authorization: Bearer <token>` everywhere; `?token=` only on GET/HEAD of the routes a
`<video>`/`<img>`/`<track>` element loads (they cannot send headers), which mark themselves
with `opt={"query_token": True}`; else the web app's session cookie. A request through
`hub.client` (in this process, see `mediahub.api.client`) that presents no token acts as the
owner.
"""

from __future__ import annotations

from typing import TypeAlias

from litestar import Request
from litestar.di import NamedDependency

from mediahub.api.client import is_in_process
from mediahub.api.security import TokenBrake
from mediahub.api.session_cookie import session_actor
from mediahub.errors import Unauthorized
from mediahub.hub import Hub
from mediahub.library.profiles import Actor

# Handler parameters say where their values come from (Litestar 3 style).
HubDep: TypeAlias = NamedDependency[Hub]
ActorDep: TypeAlias = NamedDependency[Actor]

QUERY_TOKEN = {"query_token": True}


async def provide_actor(request: Request) -> Actor:
    token = None
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    elif request.route_handler.opt.get("query_token") and request.method in {"GET", "HEAD"}:
        token = request.query_params.get("token")
    if not token and is_in_process(request.scope):
        hub: Hub = request.app.state.hub
        return await hub.profiles.authenticate_owner(request.headers.get("x-profile-id"))
    if not token and (actor := await session_actor(request)) is not None:
        return actor  # the web app's cookie (mediahub.api.session_cookie)
    return await authenticate(request, token)


async def authenticate(request: Request, token: str | None) -> Actor:
    """Check a presented token, braked against guessing (also the sign-in of POST /api/session)."""
    hub: Hub = request.app.state.hub
    brake: TokenBrake = request.app.state.token_brake  # only a presented token counts as a guess
    client = request.client.host if request.client else ""
    if token:
        brake.check(client)
    try:
        return await hub.profiles.authenticate(token, request.headers.get("x-profile-id"))
    except Unauthorized:
        if token:
            brake.failed(client)
        raise


def provide_hub(request: Request) -> Hub:
    return request.app.state.hub
