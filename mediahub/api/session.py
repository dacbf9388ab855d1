"""Browser sessions: POST/GET/PUT/DELETE /api/session (API.md, "Browser sessions").

The web app signs in once with a token and from then on is recognised by an HttpOnly
cookie, so no token ever sits in a page, a script or a media URL. PUT is ours, beyond
API.md: the owner picks the profile the session acts as, since a `<video>` or an
`EventSource` cannot send `X-Profile-Id`.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from mediahub.api.auth import ActorDep, HubDep, authenticate
from mediahub.api.session_cookie import COOKIE, require_own_origin, session_cookie
from mediahub.errors import BadRequest
from mediahub.library.sessions import SessionView

SESSION_COOKIE_DOC = Cookie(
    key=COOKIE,
    documentation_only=True,
    httponly=True,
    samesite="strict",
    description="The session: sent back by the browser on every request; writes also need this origin's Origin",
)


class SignIn(msgspec.Struct, forbid_unknown_fields=False):
    token: str | None = None  # an owner or a profile token; missing -> 401 like a missing header


class SwitchProfile(msgspec.Struct, rename="camel"):
    profile_id: str


class SessionController(Controller):
    path = "/api/session"
    tags = ["session"]

    @post(
        "/",
        summary="Sign in: a token in, an HttpOnly session cookie out",
        status_code=HTTP_204_NO_CONTENT,
        security=[{}],
        response_cookies=[SESSION_COOKIE_DOC],
    )
    async def sign_in(self, hub: HubDep, request: Request, data: JSONBody[SignIn | None] = None) -> Response[None]:
        if "origin" in request.headers:  # a sign-in posted by another site's page (login CSRF)
            require_own_origin(request)
        token = data.token if data else None
        await authenticate(request, token)
        cookie = await hub.sessions.start(token)
        max_age = int(hub.sessions.lifetime.total_seconds())
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(request, cookie, max_age)])

    @get("/", summary="Who this session is: its profile, and whether it is the owner's")
    async def whoami(self, hub: HubDep, actor: ActorDep) -> SessionView:
        return hub.sessions.view(actor)

    @put("/", summary="Owner: act as another profile from now on (this session only)")
    async def switch_profile(
        self, hub: HubDep, actor: ActorDep, request: Request, data: JSONBody[SwitchProfile]
    ) -> SessionView:
        cookie = request.cookies.get(COOKIE)
        if cookie is None:
            raise BadRequest("Only a browser session has a profile to switch; send X-Profile-Id with the owner token.")
        await hub.sessions.switch(cookie, data.profile_id)
        return hub.sessions.view(await hub.sessions.actor(cookie))

    @delete("/", summary="Sign out: the session ends on the server and the cookie is cleared")
    async def sign_out(self, hub: HubDep, actor: ActorDep, request: Request) -> Response[None]:  # actor: 401 if none
        cookie = request.cookies.get(COOKIE)
        if cookie is not None:
            await hub.sessions.end(cookie)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[session_cookie(request, "", 0)])
