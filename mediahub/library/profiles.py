"""Profiles and API tokens: who is acting, and as which profile.

Tokens are random 256-bit strings, stored as SHA-256 hashes and looked up by hash, so the
database never holds a usable token and lookups leak nothing about the secret. Tokens and
profiles are few and change only through this service, so it keeps them in memory: an
authenticated request costs no statement.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from pathlib import Path

import msgspec

from mediahub.db.database import Database, Row
from mediahub.db.queries import profiles as queries
from mediahub.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from mediahub.files import SECRET_MODE, write_atomic
from mediahub.ids import iso, new_id, utcnow

log = logging.getLogger(__name__)

DEFAULT_PROFILE_NAME = "Default"
MAX_NAME_LENGTH = 100


class Actor(msgspec.Struct, frozen=True):
    """The caller of a request: which profile it acts as, and whether it holds the owner token."""

    profile_id: str
    is_owner: bool


class ProfileView(msgspec.Struct, rename="camel"):
    id: str
    name: str
    created_at: str


class TokenView(msgspec.Struct, rename="camel"):
    id: str
    label: str | None
    created_at: str
    token: str | None = None  # only in the answer that creates it


def hash_token(token: str) -> str:
    """SHA-256 of a token: what the database stores and what every lookup compares.

    This is why no `hmac.compare_digest` is needed: the secret never takes part in a
    comparison. The index lookup (and the token cache's dict probe) compares SHA-256(guess)
    with stored hashes, so its timing could at most reveal how many leading characters of
    the guess's hash match a stored hash — and steering guesses towards a hash prefix says
    nothing about the token behind it (that would need SHA-256 preimages).
    """
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return "mh_" + secrets.token_urlsafe(32)


class ProfileService:
    def __init__(self, db: Database) -> None:
        self._db = db
        # token hash -> (token id, profile id or None for the owner); cleared on every change.
        self._token_cache: dict[str, tuple[str, str | None]] = {}
        self._profiles: list[Row] = []  # every profile, oldest first
        self.default_id = ""  # whom the owner acts as without X-Profile-Id

    async def bootstrap(self, owner_token: str | None, token_file: Path) -> None:
        """First start: create `Default` and the owner token; honour MEDIAHUB_OWNER_TOKEN.

        In one transaction that one process at a time runs (SQLite: BEGIN IMMEDIATE; PostgreSQL:
        an advisory lock), so processes starting together on one database create both once.
        """
        generated = None
        replaced = False
        async with self._db.transaction():
            await queries.lock_bootstrap(self._db)
            if not await queries.profiles(self._db):
                await queries.insert_profile(self._db, new_id(), DEFAULT_PROFILE_NAME, utcnow())
                log.info("created profile %r", DEFAULT_PROFILE_NAME)
            if owner_token is not None:
                if await queries.token(self._db, hash_token(owner_token)) is None:
                    await queries.delete_owner_tokens(self._db)
                    await self._insert_owner(owner_token)
                    replaced = True
            elif not await queries.has_owner_token(self._db):
                generated = generate_token()
                await self._insert_owner(generated)
        if generated is not None:
            await asyncio.to_thread(write_atomic, token_file, generated + "\n", mode=SECRET_MODE, durable=True)
            log.warning("owner token written to %s", token_file)
        if replaced and await asyncio.to_thread(_remove, token_file):  # it holds the token just replaced
            log.warning("MEDIAHUB_OWNER_TOKEN replaced the owner token; removed the stale %s", token_file)
        await self._load_profiles()

    async def _insert_owner(self, token: str) -> None:
        await queries.insert_token(self._db, new_id(), None, hash_token(token), None, utcnow())
        self._token_cache.clear()

    async def authenticate(self, token: str | None, profile_header: str | None) -> Actor:
        _, profile_id = await self.token_entry(token)
        if profile_id is not None:
            return Actor(profile_id=profile_id, is_owner=False)
        return self.owner(profile_header)

    async def token_entry(self, token: str | None) -> tuple[str, str | None]:
        """(token id, its profile id or None for the owner token); 401 for a missing or unknown token."""
        if not token:
            raise Unauthorized("Missing API token: send 'Authorization: Bearer <token>'.")
        key = hash_token(token)
        entry = self._token_cache.get(key)
        if entry is None:
            row = await queries.token(self._db, key)
            if row is None:
                raise Unauthorized("Invalid API token.")
            entry = self._token_cache[key] = (row["id"], None if row["is_owner"] else row["profile"])
        return entry

    def owner(self, profile_id: str | None = None) -> Actor:
        """The owner acting as `profile_id` (default: the default profile)."""
        if profile_id is None:
            if not self.default_id:
                raise Conflict("No profile exists; create one with POST /api/profiles.")
            return Actor(profile_id=self.default_id, is_owner=True)
        if not any(p["id"] == profile_id for p in self._profiles):
            raise NotFound(f"Profile {profile_id!r} does not exist.")
        return Actor(profile_id=profile_id, is_owner=True)

    def name(self, profile_id: str) -> str:
        return next((p["name"] for p in self._profiles if p["id"] == profile_id), "")

    def list(self, actor: Actor) -> list[ProfileView]:
        return [_profile_view(p) for p in self._profiles if actor.is_owner or p["id"] == actor.profile_id]

    async def create(self, actor: Actor, name: str) -> ProfileView:
        _require_owner(actor)
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise BadRequest(f"A profile name needs 1 to {MAX_NAME_LENGTH} characters.")
        profile_id = new_id()
        await queries.insert_profile(self._db, profile_id, name, utcnow())
        await self._load_profiles()
        return next(view for view in self.list(actor) if view.id == profile_id)

    async def check_deletable(self, actor: Actor, profile_id: str) -> None:
        _require_owner(actor)
        if not any(p["id"] == profile_id for p in self._profiles):
            raise NotFound("Profile not found.")
        if len(self._profiles) <= 1:
            raise Conflict("The last profile cannot be deleted.")

    async def delete(self, profile_id: str) -> None:
        """Remove the profile row (its tokens and sessions go with it); the library releases
        its media first (`Library.delete_profile`)."""
        await queries.delete_profile(self._db, profile_id)
        self._token_cache.clear()
        await self._load_profiles()

    async def create_token(self, actor: Actor, profile_id: str, label: str | None) -> TokenView:
        _require_owner(actor)
        if not any(p["id"] == profile_id for p in self._profiles):
            raise NotFound("Profile not found.")
        if label is not None and len(label) > 200:
            raise BadRequest("A token label has at most 200 characters.")
        token, token_id, now = generate_token(), new_id(), utcnow()
        await queries.insert_token(self._db, token_id, profile_id, hash_token(token), label, now)
        return TokenView(id=token_id, label=label, created_at=iso(now) or "", token=token)

    async def delete_token(self, actor: Actor, token_id: str) -> None:
        _require_owner(actor)
        row = await queries.token_by_id(self._db, token_id)
        if row is None:
            raise NotFound("Token not found.")
        if row["is_owner"]:
            raise Conflict("The owner token cannot be deleted; set MEDIAHUB_OWNER_TOKEN to replace it.")
        await queries.delete_token(self._db, token_id)
        self._token_cache.clear()

    async def _load_profiles(self) -> None:
        self._profiles = await queries.profiles(self._db)
        named = [p["id"] for p in self._profiles if p["name"] == DEFAULT_PROFILE_NAME]
        self.default_id = (named or [p["id"] for p in self._profiles] or [""])[0]


def _require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise Forbidden("Only the owner token can manage profiles and tokens.")


def _profile_view(row: Row) -> ProfileView:
    return ProfileView(id=row["id"], name=row["name"], created_at=iso(row["created_at"]) or "")


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
