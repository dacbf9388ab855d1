"""Opaque ids and timestamps shared by every table and response."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone


def new_id() -> str:
    """A short random id; opaque to clients, unguessable across profiles."""
    return secrets.token_hex(8)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`, as API.md asks."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
