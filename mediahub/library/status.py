"""How the status and progress of an item follow from its torrents.

A movie has one download; a show may have several (season packs). The show is as far as
its least finished download, and its progress is weighted by bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mediahub.db.tables import Download

# Earlier in this tuple wins when downloads of one show disagree.
_PRECEDENCE = ("downloading", "added", "paused", "error", "completed", "ready")


def combine_status(statuses: Iterable[str]) -> str:
    present = set(statuses)
    for status in _PRECEDENCE:
        if status in present:
            return status
    return "added"


def combine_progress(torrents: Iterable[Mapping[str, Any]]) -> float:
    rows = list(torrents)
    if not rows:
        return 0.0
    total = sum(r["total_bytes"] or 0 for r in rows)
    if total and all(r["total_bytes"] for r in rows):
        done = sum(r["total_bytes"] * r["progress"] / 100 for r in rows)
        return round(100 * done / total, 2)
    return round(sum(r["progress"] for r in rows) / len(rows), 2)


_DOWNLOADS_WITH_TORRENTS = (
    "SELECT d.id, d.media, d.infohash, d.magnet_link, d.name, d.added_at, "
    "t.status, t.progress, t.total_bytes, t.error "
    "FROM download d JOIN media m ON m.id = d.media LEFT JOIN torrent t ON t.infohash = d.infohash "
)


async def torrents_by_media(media_id: str | None = None, *, profile_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """media id -> its downloads, each merged with its shared torrent's state.

    One joined query, for one item or for a whole profile's library: never a list of ids as
    parameters (SQLite refuses more than 32,766 of them, and building them cost most of a
    10,000-item list's time).
    """
    where, value = ("d.media = {}", media_id) if media_id is not None else ("m.profile = {}", profile_id)
    rows = await Download.raw(_DOWNLOADS_WITH_TORRENTS + f"WHERE {where} ORDER BY d.added_at", value)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["status"] = row["status"] or "added"  # no torrent row (yet): as just added
        row["progress"] = row["progress"] or 0.0
        grouped.setdefault(row["media"], []).append(row)
    return grouped
