"""Play positions, continue-watching, and a show's seasons and episodes.

Positions are keyed by (media, episode_key): the episode id, or '' for a movie. The media row
remembers its last played key, so continue-watching is one indexed query however many
positions a profile has.
"""

from __future__ import annotations

from datetime import datetime

from mediahub.db.database import Database, Row, Sql
from mediahub.db.queries.status import DOWNLOAD_STATUS

_READ = Sql("SELECT position, duration FROM position WHERE media = {} AND episode_key = {}", point=True)
_UPSERT = Sql(
    "INSERT INTO position (id, media, episode, episode_key, position, duration, updated_at) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (media, episode_key) DO UPDATE SET "
    "position = excluded.position, duration = excluded.duration, updated_at = excluded.updated_at"
)
_PLAYED = Sql("UPDATE media SET last_played_at = {}, last_episode_key = {} WHERE id = {}")


async def read(db: Database, media_id: str, key: str) -> Row | None:
    return await db.one(_READ, media_id, key)


async def save(
    db: Database, new_id: str, media_id: str, key: str, position: float, duration: float | None, now: datetime
) -> None:
    """Store the position and make the item the most recently played, together."""
    await db.write((_UPSERT, (new_id, media_id, key or None, key, position, duration, now)), (_PLAYED, (now, key, media_id)))


_CONTINUE = Sql(
    "SELECT m.id, m.type, m.title, m.year, m.poster_url, m.poster_cached, m.last_played_at, "
    "p.position, p.duration, p.episode_key, e.episode_number, e.title AS episode_title, s.season_number "
    "FROM media m "
    "JOIN position p ON p.media = m.id AND p.episode_key = m.last_episode_key "
    "LEFT JOIN episode e ON e.id = p.episode "
    "LEFT JOIN season s ON s.id = e.season "
    "WHERE m.profile = {} AND m.last_played_at IS NOT NULL AND p.position > 0 "
    "AND (p.duration IS NULL OR p.position < {} * p.duration) "
    "ORDER BY m.last_played_at DESC LIMIT {}",
    point=True,
)


async def continue_watching(db: Database, profile_id: str, finished_fraction: float, limit: int) -> list[Row]:
    """Started, unfinished items, most recently played first (a show for its last episode)."""
    return await db.fetch(_CONTINUE, profile_id, finished_fraction, limit)


_SEASONS = Sql("SELECT id, season_number, name FROM season WHERE media = {} ORDER BY season_number", point=True)
_EPISODES = Sql(
    "SELECT e.id, e.season, e.episode_number, e.title, e.file_path, e.file_index, e.file_size, e.progress, "
    f"e.download, CASE WHEN e.download IS NULL THEN 'added' ELSE {DOWNLOAD_STATUS} END AS status, "
    "p.position AS play_position, p.duration AS play_duration "
    "FROM episode e JOIN season s ON s.id = e.season "
    "LEFT JOIN download d ON d.id = e.download LEFT JOIN torrent t ON t.infohash = d.infohash "
    "LEFT JOIN position p ON p.media = e.media AND p.episode_key = e.id "
    "WHERE e.media = {} ORDER BY s.season_number, e.episode_number",
    point=True,
)


async def seasons(db: Database, media_id: str) -> list[Row]:
    return await db.fetch(_SEASONS, media_id)


async def episodes(db: Database, media_id: str) -> list[Row]:
    """Every episode of the show in viewing order, with its download's status and its position."""
    return await db.fetch(_EPISODES, media_id)
