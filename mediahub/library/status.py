"""How the status and progress of an item follow from its torrents.

A movie has one download; a show may have several (season packs). The show is as far as
its least finished download, and its progress is weighted by bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mediahub.db.tables import Download, Torrent

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


async def torrents_by_media(media_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """media id -> its downloads, each merged with its shared torrent's state (two queries)."""
    if not media_ids:
        return {}
    downloads = await Download.select().where(Download.media.is_in(media_ids)).order_by(Download.added_at)
    hashes = list({d["infohash"] for d in downloads})
    torrents = {t["infohash"]: t for t in await Torrent.select().where(Torrent.infohash.is_in(hashes))} if hashes else {}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for download in downloads:
        torrent = torrents.get(download["infohash"], {})
        grouped.setdefault(download["media"], []).append(
            {
                **download,
                "status": torrent.get("status", "added"),
                "progress": torrent.get("progress", 0.0),
                "total_bytes": torrent.get("total_bytes"),
                "error": torrent.get("error"),
            }
        )
    return grouped
