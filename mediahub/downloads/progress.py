"""Download progress of a library item, as `GET /api/media/{id}/progress` shows it.

Live numbers (speeds, peers, bytes) come from the engine while a torrent is loaded; the
database row gives the status and the last known figures otherwise. A show sums its
downloads: bytes-weighted progress, summed speeds, the latest ETA. A queued download nobody
seeds says so: `peers: 0` and `stalledSince`, since when it has had no peer (null otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from mediahub.ids import iso
from mediahub.library.status import combine_error, combine_progress, combine_status
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


def summarise(torrents: Sequence[dict[str, Any]], live: Sequence[TorrentStatus | None], file_path: str | None) -> ProgressView:
    """One view from the item's torrent rows and, per row, the engine's status (or None)."""
    rows = []
    for row, status in zip(torrents, live):
        active = row["status"] in ACTIVE_STATUSES
        if status is not None and active and status.total_bytes:
            row = {**row, "progress": status.progress, "total_bytes": status.total_bytes,
                   "downloaded_bytes": status.downloaded_bytes}  # fmt: skip
        rows.append((row, status if active else None))
    status = combine_status(row["status"] for row, _ in rows)
    live_now = [s for _, s in rows if s is not None]
    etas = [s.eta for s in live_now]
    error = combine_error(status, (row for row, _ in rows))
    totals = [row["total_bytes"] for row, _ in rows]
    return ProgressView(
        status=status,
        progress=100.0 if status == "ready" else combine_progress(row for row, _ in rows),
        download_speed=sum(s.download_rate for s in live_now),
        upload_speed=sum(s.upload_rate for s in live_now),
        peers=sum(s.peers for s in live_now),
        seeds=sum(s.seeds for s in live_now),
        is_active=status in ACTIVE_STATUSES,
        file_path=file_path if status == "ready" else None,
        downloaded_bytes=sum(row["downloaded_bytes"] or 0 for row, _ in rows),
        total_bytes=sum(totals) if totals and all(totals) else None,
        eta=_eta(status, etas),
        stalled_since=_stalled_since(status, live_now),
        error=msgspec.UNSET if error is None else error,
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
