"""Download progress of a library item, as `GET /api/media/{id}/progress` shows it.

Status, progress and error are the item's, as the database's one rule combines its downloads
(`mediahub.db.queries.status`); live numbers (speeds, peers, ETA) come from the engine for
the downloads that run. A show sums its downloads' bytes and speeds and takes the latest ETA. A queued download nobody
seeds says so: `peers: 0` and `stalledSince`, since when it has had no peer (null otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from mediahub.ids import iso
from mediahub.library.views import ACTIVE_STATUSES, View
from mediahub.torrents.models import TorrentStatus

TERMINAL_STATUSES = frozenset({"ready", "error"})


class ProgressView(View):
    status: str
    progress: float
    download_speed: int
    upload_speed: int
    peers: int
    seeds: int
    is_active: bool
    file_path: str | None
    downloaded_bytes: int
    total_bytes: int | None
    eta: float | None
    stalled_since: str | None
    error: str | msgspec.UnsetType = msgspec.UNSET

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def summarise(rows: Sequence[dict[str, Any]], live: Sequence[TorrentStatus | None], file_path: str | None) -> ProgressView:
    """One view from the item's download rows (`queries.media.downloads`, with the item's
    combined `item_status`, `item_progress`, `item_error`) and, per row, the engine's status."""
    first = rows[0] if rows else {}
    status = first.get("item_status", "added")
    running = [s for row, s in zip(rows, live) if s is not None and row["status"] in ACTIVE_STATUSES]
    totals = [row["total_bytes"] for row in rows]
    return ProgressView(
        status=status,
        progress=100.0 if status == "ready" else round(first.get("item_progress") or 0.0, 2),
        download_speed=sum(s.download_rate for s in running),
        upload_speed=sum(s.upload_rate for s in running),
        peers=sum(s.peers for s in running),
        seeds=sum(s.seeds for s in running),
        is_active=status in ACTIVE_STATUSES,
        file_path=file_path if status == "ready" else None,
        downloaded_bytes=sum(row["downloaded_bytes"] or 0 for row in rows),
        total_bytes=sum(totals) if totals and all(totals) else None,
        eta=_eta(status, [s.eta for s in running]),
        stalled_since=_stalled_since(status, running),
        error=first.get("item_error") or msgspec.UNSET,
    )


def _stalled_since(status: str, live: list[TorrentStatus]) -> str | None:
    """When every running download of the item lost (or never had) its peers, the latest of those times."""
    since = [s.stalled_since for s in live]
    if status not in ACTIVE_STATUSES or not since or None in since:
        return None
    return iso(max(since))  # type: ignore[type-var]


def _eta(status: str, etas: list[float | None]) -> float | None:
    if status in ("completed", "ready"):
        return 0.0
    if status not in ACTIVE_STATUSES or not etas or None in etas:
        return None
    return round(max(e for e in etas if e is not None), 1)
