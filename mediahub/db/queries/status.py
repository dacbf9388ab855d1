"""How an item's status and progress follow from its downloads: the one rule, in SQL.

A movie has one download; a show may have several (season packs). A download's status is
its shared torrent's, except `paused` when this profile paused it while others keep it
running. An item is as far as its least finished download (the precedence below), its
progress is weighted by bytes, and its error is a failed download's reason, shown only while
the item as a whole is `error`. Lists aggregate per item (GROUP BY); one item's downloads
carry the same aggregates as window functions, so a detail reads rows and totals at once.
"""

from __future__ import annotations

# Earlier wins when the downloads of one show disagree.
PRECEDENCE = ("downloading", "added", "paused", "error", "completed", "ready")

# One download's status as its profile sees it (`download d LEFT JOIN torrent t`).
DOWNLOAD_STATUS = (
    "CASE WHEN d.paused AND COALESCE(t.status, 'added') IN ('added', 'downloading') "
    "THEN 'paused' ELSE COALESCE(t.status, 'added') END"
)
_RANK = f"CASE {DOWNLOAD_STATUS} " + " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(PRECEDENCE)) + " END"


def _combined(over: str) -> tuple[str, str, str]:
    """(status, progress, error) aggregates; `over` is "" in a GROUP BY, " OVER ()" as windows."""
    rank = f"MIN({_RANK}){over}"
    status = "CASE " + " ".join(f"WHEN {rank} = {n} THEN '{s}'" for n, s in enumerate(PRECEDENCE)) + " ELSE 'added' END"
    progress = (
        f"CASE WHEN MIN(COALESCE(t.total_bytes, 0)){over} > 0 "
        f"THEN SUM(t.total_bytes * t.progress){over} / CAST(SUM(t.total_bytes){over} AS DOUBLE PRECISION) "
        f"ELSE COALESCE(AVG(COALESCE(t.progress, 0.0)){over}, 0.0) END"
    )
    error = f"CASE WHEN {rank} = {PRECEDENCE.index('error')} THEN MIN(CASE WHEN t.status = 'error' THEN t.error END){over} END"
    return status, progress, error


ITEM_STATUS, ITEM_PROGRESS, ITEM_ERROR = _combined("")
ROWS_STATUS, ROWS_PROGRESS, ROWS_ERROR = _combined(" OVER ()")
