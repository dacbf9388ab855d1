"""Profiles, API tokens (stored as SHA-256 hashes) and browser sessions."""

from __future__ import annotations

from datetime import datetime

from mediahub.db.database import Database, Row, Sql

_BOOTSTRAP_LOCK = Sql("SELECT pg_advisory_xact_lock(7882817126550500706) AS locked")  # "mediahub"
_PROFILES = Sql("SELECT id, name, created_at FROM profile ORDER BY created_at, id")
_INSERT_PROFILE = Sql("INSERT INTO profile (id, name, created_at) VALUES ({}, {}, {})")
_DELETE_PROFILE = Sql("DELETE FROM profile WHERE id = {}")


async def lock_bootstrap(db: Database) -> None:
    """Inside a transaction: one process at a time sets up a new database (PostgreSQL; on
    SQLite the transaction's BEGIN IMMEDIATE already serialises it)."""
    if db.is_postgres:
        await db.execute(_BOOTSTRAP_LOCK)


async def profiles(db: Database) -> list[Row]:
    """Every profile, oldest first."""
    return await db.fetch(_PROFILES)


async def insert_profile(db: Database, profile_id: str, name: str, now: datetime) -> None:
    await db.execute(_INSERT_PROFILE, profile_id, name, now)


async def delete_profile(db: Database, profile_id: str) -> None:
    """The profile; its tokens, sessions and media go with it (foreign keys cascade)."""
    await db.execute(_DELETE_PROFILE, profile_id)


_TOKEN = Sql("SELECT id, profile, is_owner FROM api_token WHERE token_hash = {}", point=True)
_TOKEN_BY_ID = Sql("SELECT id, is_owner FROM api_token WHERE id = {}")
_HAS_OWNER = Sql("SELECT id FROM api_token WHERE is_owner LIMIT 1")
_INSERT_TOKEN = Sql(
    "INSERT INTO api_token (id, profile, is_owner, token_hash, label, created_at) VALUES ({}, {}, {}, {}, {}, {})"
)
_DELETE_OWNER_TOKENS = Sql("DELETE FROM api_token WHERE is_owner")
_DELETE_TOKEN = Sql("DELETE FROM api_token WHERE id = {}")


async def token(db: Database, token_hash: str) -> Row | None:
    return await db.one(_TOKEN, token_hash)


async def token_by_id(db: Database, token_id: str) -> Row | None:
    return await db.one(_TOKEN_BY_ID, token_id)


async def has_owner_token(db: Database) -> bool:
    return await db.one(_HAS_OWNER) is not None


async def insert_token(
    db: Database, token_id: str, profile_id: str | None, token_hash: str, label: str | None, now: datetime
) -> None:
    """A profile's token, or with `profile_id` None the owner token."""
    await db.execute(_INSERT_TOKEN, token_id, profile_id, profile_id is None, token_hash, label, now)


async def delete_owner_tokens(db: Database) -> None:
    await db.execute(_DELETE_OWNER_TOKENS)


async def delete_token(db: Database, token_id: str) -> None:
    await db.execute(_DELETE_TOKEN, token_id)


_SESSION = Sql(
    "SELECT s.profile, s.expires_at, t.profile AS token_profile "
    "FROM browser_session s JOIN api_token t ON t.id = s.token WHERE s.id = {}",
    point=True,
)
_INSERT_SESSION = Sql(
    "INSERT INTO browser_session (id, token, profile, created_at, expires_at) VALUES ({}, {}, {}, {}, {})"
)
_DROP_EXPIRED = Sql("DELETE FROM browser_session WHERE expires_at <= {}")
_SWITCH = Sql("UPDATE browser_session SET profile = {} WHERE id = {}")
_END = Sql("DELETE FROM browser_session WHERE id = {}")


async def session(db: Database, session_hash: str) -> Row | None:
    """A session with the profile its token is bound to (`token_profile`, None for the owner)."""
    return await db.one(_SESSION, session_hash)


async def insert_session(
    db: Database, session_hash: str, token_id: str, profile_id: str | None, now: datetime, expires: datetime
) -> None:
    """A new session; expired ones are cleared out on the way."""
    await db.execute(_DROP_EXPIRED, now)
    await db.execute(_INSERT_SESSION, session_hash, token_id, profile_id, now, expires)


async def switch_session(db: Database, session_hash: str, profile_id: str) -> None:
    await db.execute(_SWITCH, profile_id, session_hash)


async def end_session(db: Database, session_hash: str) -> None:
    await db.execute(_END, session_hash)
