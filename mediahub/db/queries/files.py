"""Which file of a torrent each item plays: the rows written when files are chosen and placed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mediahub.db.database import Database, Row, Sql, placeholders

_HOLDING_ITEMS = Sql(
    "SELECT d.id AS download_id, d.name AS download_name, m.id, m.type, m.type_detected, m.title, m.year, "
    "m.file_index FROM download d JOIN media m ON m.id = d.media WHERE d.infohash = {} ORDER BY d.added_at"
)


async def holding_items(db: Database, infohash: str) -> list[Row]:
    """Each item holding the torrent, with the download it holds it by."""
    return await db.fetch(_HOLDING_ITEMS, infohash)


async def update_media(db: Database, media_id: str, changes: dict[str, Any]) -> None:
    await db.update("media", {"id": media_id}, changes)


_MAP_MOVIE = Sql(
    "UPDATE media SET file_index = {}, file_size = CASE WHEN file_path IS NULL THEN {} ELSE file_size END, "
    "file_path = COALESCE(file_path, {}) WHERE id = {}"
)


async def map_movie(db: Database, media_id: str, file_index: int, planned: str, size: int) -> None:
    """The movie plays this file; path and size once planned (or placed, with its own size) stay."""
    await db.execute(_MAP_MOVIE, file_index, size, planned, media_id)


_SEASONS = Sql("SELECT id, season_number FROM season WHERE media = {}")
_EPISODES = Sql("SELECT id, season, episode_number, download, file_path FROM episode WHERE media = {}")
_INSERT_SEASON = Sql("INSERT INTO season (id, media, season_number) VALUES ({}, {}, {})")
_INSERT_EPISODE = Sql(
    "INSERT INTO episode (id, media, season, episode_number, download, file_index, file_size, file_path, progress) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 0.0)"
)
_COUNTS = Sql(
    "UPDATE media SET season_count = (SELECT COUNT(*) FROM season WHERE media = {}), "
    "episode_count = (SELECT COUNT(*) FROM episode WHERE media = {}) WHERE id = {}"
)


async def seasons(db: Database, media_id: str) -> dict[int, str]:
    """Season number -> season id."""
    return {r["season_number"]: r["id"] for r in await db.fetch(_SEASONS, media_id)}


async def episodes(db: Database, media_id: str) -> dict[tuple[str, int], Row]:
    """(season id, episode number) -> the episode row."""
    return {(r["season"], r["episode_number"]): r for r in await db.fetch(_EPISODES, media_id)}


async def insert_season(db: Database, season_id: str, media_id: str, number: int) -> None:
    await db.execute(_INSERT_SEASON, season_id, media_id, number)


async def insert_episode(
    db: Database, episode_id: str, media_id: str, season_id: str, number: int, download_id: str, file_index: int,
    size: int, planned: str,
) -> None:  # fmt: skip
    await db.execute(_INSERT_EPISODE, episode_id, media_id, season_id, number, download_id, file_index, size, planned)


async def update_episode(db: Database, episode_id: str, changes: dict[str, Any]) -> None:
    await db.update("episode", {"id": episode_id}, changes)


async def count_seasons(db: Database, media_id: str) -> None:
    await db.execute(_COUNTS, media_id, media_id, media_id)


_EPISODE_FILES = Sql(
    "SELECT e.id, e.file_index, e.episode_number, e.title, s.season_number FROM episode e "
    "JOIN season s ON s.id = e.season WHERE e.download = {} AND e.file_index IS NOT NULL ORDER BY e.episode_number"
)


async def episode_files(db: Database, download_id: str) -> list[tuple[int, list[int], int, str | None, list[str]]]:
    """Per file of a download: (file index, episode numbers, season, title if one episode, episode ids)."""
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in await db.fetch(_EPISODE_FILES, download_id):
        grouped[row["file_index"]].append(row)
    return [
        (index, [r["episode_number"] for r in group], group[0]["season_number"],
         group[0]["title"] if len(group) == 1 else None, [r["id"] for r in group])
        for index, group in grouped.items()
    ]  # fmt: skip


async def placed(db: Database, media_ids: list[str], episode_ids: list[str], path: str, size: int) -> None:
    """The library file at `path` now plays these movies and episodes (episodes are complete)."""
    if media_ids:
        sql = Sql(f"UPDATE media SET file_path = {{}}, file_size = {{}} WHERE id IN ({placeholders(len(media_ids))})")
        await db.execute(sql, path, size, *media_ids)
    if episode_ids:
        sql = Sql(
            "UPDATE episode SET file_path = {}, file_size = {}, progress = 100.0 "
            f"WHERE id IN ({placeholders(len(episode_ids))})"
        )
        await db.execute(sql, path, size, *episode_ids)

