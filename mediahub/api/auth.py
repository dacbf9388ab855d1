"""Who is calling: the `actor` dependency of every /api route.

`Authorization: Bearer <token>` everywhere; `?token=` only on GET/HEAD of the routes a
`<video>`/`<img>`/`<track>` element loads (they cannot send headers), which mark themselves
with `opt={"query_token": True}`, and only a profile token: the owner token, which can do
anything, never goes into a URL that logs and browser histories keep. Else the web app's
session cookie. A request through `hub.client` (in this process, see `mediahub.api.client`)
that presents no token acts as the owner.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from mediahub.api.client import is_in_process
from mediahub.api.security import TokenBrake
from mediahub.api.session_cookie import session_actor
from mediahub.errors import Unauthorized
from mediahub.hub import Hub
from mediahub.library.profiles import Actor
from mediahub.library.resolver import MediaRef

# Handler parameters say where their values come from (Litestar 3 style).
HubDep: TypeAlias = NamedDependency[Hub]
ActorDep: TypeAlias = NamedDependency[Actor]
ItemDep: TypeAlias = NamedDependency[MediaRef]  # the route's {media_id}, resolved for the actor
PlayableDep: TypeAlias = NamedDependency[MediaRef]  # the same, with ?episodeId= (a show needs one)
EpisodeParam = Annotated[str | None, QueryParameter(name="episodeId", description="Episode id (TV shows)")]

QUERY_TOKEN = {"query_token": True}
OWNER_IN_URL = (
    "The owner token is not accepted in a URL (?token=): URLs end up in logs and browser histories. "
    "Send it in the Authorization header, or give players a profile token."
)


async def provide_actor(request: Request, hub: HubDep) -> Actor:
    """Who is calling. It takes `hub` only to chain the dependencies (hub -> actor -> item):
    Litestar resolves dependencies of one level concurrently, in a task group per request."""
    token = None
    in_url = False
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
    elif request.route_handler.opt.get("query_token") and request.method in {"GET", "HEAD"}:
        token = request.query_params.get("token")
        in_url = True
    if not token and is_in_process(request.scope):
        return hub.profiles.owner(request.headers.get("x-profile-id"))
    if not token and (actor := await session_actor(request)) is not None:
        return actor  # the web app's cookie (mediahub.api.session_cookie)
    actor = await authenticate(request, token)
    if in_url and actor.is_owner:
        raise Unauthorized(OWNER_IN_URL)
    return actor


async def authenticate(request: Request, token: str | None) -> Actor:
    """Check a presented token (also the sign-in of POST /api/session); a wrong one counts as
    a guess for the token brake, which may hold its 401 back (`mediahub.api.security`)."""
    hub: Hub = request.app.state.hub
    try:
        return await hub.profiles.authenticate(token, request.headers.get("x-profile-id"))
    except Unauthorized:
        if token:
            brake: TokenBrake = request.app.state.token_brake
            await brake.failed(request.client.host if request.client else "")
        raise


def provide_hub(request: Request) -> Hub:
    return request.app.state.hub


async def provide_item(hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> MediaRef:
    return await hub.resolver.resolve(actor.profile_id, media_id)


async def provide_playable(
    hub: HubDep, actor: ActorDep, media_id: FromPath[str], episode_id: EpisodeParam = None
) -> MediaRef:
    return await hub.resolver.resolve(actor.profile_id, media_id, episode_id, episode_required=True)
