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

from mediahub.db.database import Database, Row
from mediahub.db.queries import profiles as queries
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
    def __init__(self, db: Database, profiles: ProfileService, lifetime: timedelta) -> None:
        self._db = db
        self._profiles = profiles
        self.lifetime = lifetime

    async def start(self, token: str | None) -> str:
        """A new session for `token` (401 if it is not one); returns the cookie value."""
        token_id, profile_id = await self._profiles.token_entry(token)
        cookie = secrets.token_urlsafe(32)
        now = utcnow()
        await queries.insert_session(self._db, hash_token(cookie), token_id, profile_id, now, now + self.lifetime)
        return cookie

    async def actor(self, cookie: str, profile_header: str | None = None) -> Actor:
        """Who the cookie acts as; 401 for an unknown, ended or expired session."""
        row = await self._row(cookie)
        if row["token_profile"] is not None:
            return Actor(profile_id=row["token_profile"], is_owner=False)
        return self._profiles.owner(profile_header or row["profile"])

    async def switch(self, cookie: str, profile_id: str) -> None:
        """The owner's session acts as `profile_id` from now on."""
        row = await self._row(cookie)
        if row["token_profile"] is not None:
            raise Forbidden("Only the owner can switch profiles; this session belongs to one profile.")
        try:
            self._profiles.owner(profile_id)
        except NotFound:
            raise NotFound("Profile not found.") from None
        await queries.switch_session(self._db, hash_token(cookie), profile_id)

    async def end(self, cookie: str) -> None:
        await queries.end_session(self._db, hash_token(cookie))

    def view(self, actor: Actor) -> SessionView:
        profile = SessionProfile(id=actor.profile_id, name=self._profiles.name(actor.profile_id))
        return SessionView(profile=profile, is_owner=actor.is_owner)

    async def _row(self, cookie: str) -> Row:
        row = await queries.session(self._db, hash_token(cookie))
        if row is None:
            raise Unauthorized("Your session has ended; sign in again with your token.")
        if row["expires_at"] <= utcnow():
            raise Unauthorized("Your session has expired; sign in again with your token.")
        return row
