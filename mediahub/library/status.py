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


def combine_error(status: str, torrents: Iterable[Mapping[str, Any]]) -> str | None:
    """The reason to show with the item's combined `status`: a failed download's, and only
    while the item as a whole is `error` (a show whose other downloads still run is not)."""
    if status != "error":
        return None
    return next((r["error"] for r in torrents if r["status"] == "error" and r["error"]), None)


def combine_progress(torrents: Iterable[Mapping[str, Any]]) -> float:
    rows = list(torrents)
    if not rows:
        return 0.0
    total = sum(r["total_bytes"] or 0 for r in rows)
    if total and all(r["total_bytes"] for r in rows):
        done = sum(r["total_bytes"] * r["progress"] / 100 for r in rows)
        return round(100 * done / total, 2)
    return round(sum(r["progress"] for r in rows) / len(rows), 2)


# A download's status as its profile sees it (`download d LEFT JOIN torrent t`): the shared
# torrent's, except `paused` when this profile paused it while others keep it running.
DOWNLOAD_STATUS_SQL = (
    "CASE WHEN d.paused AND COALESCE(t.status, 'added') IN ('added', 'downloading') "
    "THEN 'paused' ELSE COALESCE(t.status, 'added') END"
)

# The same two rules in SQL, for summarising a whole list in one query: the MIN of
# STATUS_RANK_SQL over an item's downloads is the index in _PRECEDENCE of what
# combine_status picks; PROGRESS_SQL is combine_progress before rounding.
STATUS_RANK_SQL = (
    f"MIN(CASE {DOWNLOAD_STATUS_SQL} "
    + " ".join(f"WHEN '{status}' THEN {rank}" for rank, status in enumerate(_PRECEDENCE))
    + " END)"
)
PROGRESS_SQL = (
    "CASE WHEN MIN(COALESCE(t.total_bytes, 0)) > 0 "
    "THEN SUM(t.total_bytes * t.progress) / CAST(SUM(t.total_bytes) AS DOUBLE PRECISION) "
    "ELSE AVG(COALESCE(t.progress, 0.0)) END"
)


def status_of_rank(rank: int | None) -> str:
    """The status a STATUS_RANK_SQL value stands for (None: no download, or none known)."""
    return _PRECEDENCE[rank] if rank is not None else "added"


_DOWNLOADS_WITH_TORRENTS = (
    f"SELECT d.id, d.media, d.infohash, d.magnet_link, d.name, d.added_at, d.paused, {DOWNLOAD_STATUS_SQL} AS status, "
    "t.progress, t.total_bytes, t.downloaded_bytes, t.error "
    "FROM download d LEFT JOIN torrent t ON t.infohash = d.infohash "
)


async def torrents_by_media(media_id: str) -> dict[str, list[dict[str, Any]]]:
    """media id -> the item's downloads, each merged with its shared torrent's state, in one
    joined query. (A whole list summarises its items with STATUS_RANK_SQL and PROGRESS_SQL.)"""
    rows = await Download.raw(_DOWNLOADS_WITH_TORRENTS + "WHERE d.media = {} ORDER BY d.added_at", media_id)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["progress"] = row["progress"] or 0.0  # no torrent row (yet): as just added
        grouped.setdefault(row["media"], []).append(row)
    return grouped
