"""Browser sessions: what the web app's cookie stands for.

A session is made from a token (POST /api/session) and kept like one: the cookie holds a
random 256-bit value, the database only its SHA-256. It acts as the token's profile or, for
the owner token, as the owner with a profile of its choosing: a `<video>` or an
`EventSource` cannot send `X-Profile-Id`, so the choice lives in the session. Sessions end
on sign-out, after MEDIAHUB_SESSION_DAYS, or at once when their token is revoked or its
profile deleted (the rows cascade).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import msgspec

from mediahub.db.tables import BrowserSession, Profile
from mediahub.errors import Forbidden, NotFound, Unauthorized
from mediahub.ids import utcnow
from mediahub.library.profiles import Actor, ProfileService, hash_token


class SessionProfile(msgspec.Struct):
    id: str
    name: str


class SessionView(msgspec.Struct, rename="camel"):
    profile: SessionProfile
    is_owner: bool


class SessionService:
    def __init__(self, profiles: ProfileService, lifetime: timedelta) -> None:
        self._profiles = profiles
        self.lifetime = lifetime

    async def start(self, token: str | None) -> str:
        """A new session for `token` (401 if it is not one); returns the cookie value."""
        token_id, profile_id = await self._profiles.token_entry(token)
        cookie = secrets.token_urlsafe(32)
        now = utcnow()
        await BrowserSession.delete().where(BrowserSession.expires_at <= now)
        await BrowserSession.insert(
            BrowserSession(
                id=hash_token(cookie), token=token_id, profile=profile_id, created_at=now, expires_at=now + self.lifetime
            )
        )
        return cookie

    async def actor(self, cookie: str, profile_header: str | None = None) -> Actor:
        """Who the cookie acts as; 401 for an unknown, ended or expired session."""
        row = await self._row(cookie)
        if row["token_profile"] is not None:
            return Actor(profile_id=row["token_profile"], is_owner=False)
        return await self._profiles.authenticate_owner(profile_header or row["profile"])

    async def switch(self, cookie: str, profile_id: str) -> None:
        """The owner's session acts as `profile_id` from now on."""
        row = await self._row(cookie)
        if row["token_profile"] is not None:
            raise Forbidden("Only the owner can switch profiles; this session belongs to one profile.")
        if not await Profile.exists().where(Profile.id == profile_id):
            raise NotFound("Profile not found.")
        await BrowserSession.update({BrowserSession.profile: profile_id}).where(BrowserSession.id == hash_token(cookie))

    async def end(self, cookie: str) -> None:
        await BrowserSession.delete().where(BrowserSession.id == hash_token(cookie))

    async def view(self, actor: Actor) -> SessionView:
        row = await Profile.select(Profile.name).where(Profile.id == actor.profile_id).first()
        name = row["name"] if row else ""
        return SessionView(profile=SessionProfile(id=actor.profile_id, name=name), is_owner=actor.is_owner)

    async def _row(self, cookie: str) -> dict:
        row = await (
            BrowserSession.select(
                BrowserSession.profile,
                BrowserSession.expires_at,
                BrowserSession.token.profile.as_alias("token_profile"),
            )
            .where(BrowserSession.id == hash_token(cookie))
            .first()
        )
        if row is None:
            raise Unauthorized("Your session has ended; sign in again with your token.")
        if row["expires_at"] <= utcnow():
            raise Unauthorized("Your session has expired; sign in again with your token.")
        return row
