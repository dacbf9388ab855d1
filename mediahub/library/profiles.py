"""Profiles and API tokens: who is acting, and as which profile.

Tokens are random 256-bit strings, stored as SHA-256 hashes and looked up by hash, so the
database never holds a usable token and lookups leak nothing about the secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from pathlib import Path

import msgspec
from piccolo.engine.postgres import PostgresEngine

from mediahub.db.tables import ApiToken, Profile
from mediahub.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from mediahub.files import SECRET_MODE, write_atomic
from mediahub.ids import iso, new_id, utcnow

log = logging.getLogger(__name__)

DEFAULT_PROFILE_NAME = "Default"
_BOOTSTRAP_LOCK = 0x6D65646961687562  # PostgreSQL advisory lock key ("mediahub")
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
    def __init__(self) -> None:
        # token hash -> (token id, profile id or None for the owner); cleared on every change.
        self._token_cache: dict[str, tuple[str, str | None]] = {}

    async def bootstrap(self, owner_token: str | None, token_file: Path) -> None:
        """First start: create `Default` and the owner token; honour MEDIAHUB_OWNER_TOKEN.

        In one transaction that one process at a time runs (SQLite: BEGIN IMMEDIATE; PostgreSQL:
        an advisory lock), so processes starting together on one database create both once.
        """
        engine = Profile._meta.db
        generated = None
        replaced = False
        async with engine.transaction():
            if isinstance(engine, PostgresEngine):
                await Profile.raw("SELECT pg_advisory_xact_lock({})", _BOOTSTRAP_LOCK)
            if await Profile.count() == 0:
                await Profile.insert(Profile(id=new_id(), name=DEFAULT_PROFILE_NAME, created_at=utcnow()))
                log.info("created profile %r", DEFAULT_PROFILE_NAME)
            if owner_token is not None:
                if not await ApiToken.exists().where(ApiToken.token_hash == hash_token(owner_token)):
                    await ApiToken.delete().where(ApiToken.is_owner == True)  # noqa: E712
                    await self._insert_owner(owner_token)
                    replaced = True
            elif not await ApiToken.exists().where(ApiToken.is_owner == True):  # noqa: E712
                generated = generate_token()
                await self._insert_owner(generated)
        if generated is not None:
            await asyncio.to_thread(write_atomic, token_file, generated + "\n", mode=SECRET_MODE, durable=True)
            log.warning("owner token written to %s", token_file)
        if replaced and await asyncio.to_thread(_remove, token_file):  # it holds the token just replaced
            log.warning("MEDIAHUB_OWNER_TOKEN replaced the owner token; removed the stale %s", token_file)

    async def _insert_owner(self, token: str) -> None:
        await ApiToken.insert(ApiToken(id=new_id(), is_owner=True, token_hash=hash_token(token), created_at=utcnow()))
        self._token_cache.clear()

    async def authenticate(self, token: str | None, profile_header: str | None) -> Actor:
        _, profile_id = await self.token_entry(token)
        if profile_id is not None:
            return Actor(profile_id=profile_id, is_owner=False)
        return await self.authenticate_owner(profile_header)

    async def token_entry(self, token: str | None) -> tuple[str, str | None]:
        """(token id, its profile id or None for the owner token); 401 for a missing or unknown token."""
        if not token:
            raise Unauthorized("Missing API token: send 'Authorization: Bearer <token>'.")
        key = hash_token(token)
        entry = self._token_cache.get(key)
        if entry is None:
            row = await ApiToken.select(ApiToken.id, ApiToken.profile).where(ApiToken.token_hash == key).first()
            if row is None:
                raise Unauthorized("Invalid API token.")
            entry = self._token_cache[key] = (row["id"], row["profile"])
        return entry

    async def authenticate_owner(self, profile_header: str | None = None) -> Actor:
        """The owner acting as a profile (the in-process caller of a notebook is the owner)."""
        return Actor(profile_id=await self._owner_profile(profile_header), is_owner=True)

    async def _owner_profile(self, header: str | None) -> str:
        if header:
            if await Profile.exists().where(Profile.id == header):
                return header
            raise NotFound(f"Profile {header!r} does not exist.")
        rows = await Profile.select(Profile.id, Profile.name).order_by(Profile.created_at)
        if not rows:
            raise Conflict("No profile exists; create one with POST /api/profiles.")
        named = [r["id"] for r in rows if r["name"] == DEFAULT_PROFILE_NAME]
        return named[0] if named else rows[0]["id"]

    async def list(self, actor: Actor) -> list[ProfileView]:
        query = Profile.select().order_by(Profile.created_at)
        if not actor.is_owner:
            query = query.where(Profile.id == actor.profile_id)
        return [_profile_view(r) for r in await query]

    async def create(self, actor: Actor, name: str) -> ProfileView:
        _require_owner(actor)
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise BadRequest(f"A profile name needs 1 to {MAX_NAME_LENGTH} characters.")
        row = Profile(id=new_id(), name=name, created_at=utcnow())
        await row.save()
        return _profile_view(row.to_dict())

    async def check_deletable(self, actor: Actor, profile_id: str) -> None:
        _require_owner(actor)
        if not await Profile.exists().where(Profile.id == profile_id):
            raise NotFound("Profile not found.")
        if await Profile.count() <= 1:
            raise Conflict("The last profile cannot be deleted.")

    async def delete(self, profile_id: str) -> None:
        """Remove the profile row (tokens go with it); `Hub.delete_profile` releases media first."""
        await Profile.delete().where(Profile.id == profile_id)
        self._token_cache.clear()

    async def create_token(self, actor: Actor, profile_id: str, label: str | None) -> TokenView:
        _require_owner(actor)
        if not await Profile.exists().where(Profile.id == profile_id):
            raise NotFound("Profile not found.")
        if label is not None and len(label) > 200:
            raise BadRequest("A token label has at most 200 characters.")
        token = generate_token()
        row = ApiToken(id=new_id(), profile=profile_id, token_hash=hash_token(token), label=label, created_at=utcnow())
        await row.save()
        return TokenView(id=row.id, label=label, created_at=iso(row.created_at) or "", token=token)

    async def delete_token(self, actor: Actor, token_id: str) -> None:
        _require_owner(actor)
        row = await ApiToken.select(ApiToken.is_owner).where(ApiToken.id == token_id).first()
        if row is None:
            raise NotFound("Token not found.")
        if row["is_owner"]:
            raise Conflict("The owner token cannot be deleted; set MEDIAHUB_OWNER_TOKEN to replace it.")
        await ApiToken.delete().where(ApiToken.id == token_id)
        self._token_cache.clear()


def _require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise Forbidden("Only the owner token can manage profiles and tokens.")


def _profile_view(row: dict) -> ProfileView:
    return ProfileView(id=row["id"], name=row["name"], created_at=iso(row["created_at"]) or "")


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
