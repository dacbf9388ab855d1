"""Torrent rows (the content shared across profiles) and the downloads that hold them."""

from __future__ import annotations

from typing import Any

from mediahub.db.database import Database, Row, Sql, placeholders

_ALL = Sql("SELECT infohash, magnet_link, name, status, progress, total_bytes, downloaded_bytes, error FROM torrent")
_ONE = Sql(
    "SELECT infohash, magnet_link, name, status, progress, total_bytes, downloaded_bytes, error, completed_at "
    "FROM torrent WHERE infohash = {}"
)
_HOLDERS = Sql("SELECT id, media, name, paused FROM download WHERE infohash = {} ORDER BY added_at")
_OF_DOWNLOAD = Sql(
    "SELECT d.infohash, t.status, t.progress, t.error FROM download d LEFT JOIN torrent t ON t.infohash = d.infohash "
    "WHERE d.id = {}",
    point=True,
)
_OF_MEDIA = Sql(
    "SELECT d.infohash, t.status, t.progress, t.error FROM download d LEFT JOIN torrent t ON t.infohash = d.infohash "
    "WHERE d.media = {} ORDER BY d.added_at LIMIT 1",
    point=True,
)
_READY = Sql("SELECT infohash FROM torrent WHERE status = 'ready'")
_EPISODE_PROGRESS = Sql(
    "UPDATE episode SET progress = {} WHERE file_index = {} AND download IN (SELECT id FROM download WHERE infohash = {})"
)


async def all_torrents(db: Database) -> list[Row]:
    """Every torrent's last recorded state (the download service keeps them in memory)."""
    return await db.fetch(_ALL)


async def of_download(db: Database, download_id: str) -> Row | None:
    """The torrent an episode's download holds (`status` etc. null until the row exists)."""
    return await db.one(_OF_DOWNLOAD, download_id)


async def of_media(db: Database, media_id: str) -> Row | None:
    """The torrent of a movie (its first download)."""
    return await db.one(_OF_MEDIA, media_id)


async def ready(db: Database) -> list[str]:
    return [r["infohash"] for r in await db.fetch(_READY)]


async def torrent(db: Database, infohash: str) -> Row | None:
    return await db.one(_ONE, infohash)


async def update(db: Database, infohash: str, changes: dict[str, Any]) -> None:
    await db.update("torrent", {"infohash": infohash}, changes)


async def holders(db: Database, infohash: str) -> list[Row]:
    """The downloads (one per item, across profiles) holding the torrent, oldest first."""
    return await db.fetch(_HOLDERS, infohash)


async def set_paused(db: Database, download_ids: list[str], paused: bool) -> None:
    sql = Sql(f"UPDATE download SET paused = {{}} WHERE id IN ({placeholders(len(download_ids))})")
    await db.execute(sql, paused, *download_ids)


async def episode_progress(db: Database, infohash: str, progress: dict[int, float]) -> None:
    """Per file index of the torrent, the progress of the episodes it holds."""
    await db.write(*[(_EPISODE_PROGRESS, (value, file_index, infohash)) for file_index, value in progress.items()])
