"""Library items: finding one for a profile, lists, search, one item's downloads, add, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mediahub.db.database import Database, Row, Sql
from mediahub.db.queries.status import DOWNLOAD_STATUS, ITEM_PROGRESS, ITEM_STATUS, ROWS_ERROR, ROWS_PROGRESS, ROWS_STATUS

# An id names the item, or an item it was merged into (media_alias); the episode, when one is
# asked for, must be the item's own (else the episode columns are null).
_RESOLVE = Sql(
    "SELECT m.*, e.id AS e_id, e.download AS e_download, e.file_index AS e_file_index, "
    "e.file_path AS e_file_path, e.episode_number AS e_episode_number "
    "FROM media m LEFT JOIN episode e ON e.id = {} AND e.media = m.id "
    "WHERE m.profile = {} AND m.id IN ({}, (SELECT a.media FROM media_alias a WHERE a.id = {}))",
    point=True,
)


async def resolve(db: Database, profile_id: str, media_id: str, episode_id: str | None) -> Row | None:
    """The profile's item `media_id` (or the item it became), with `e_*` columns for `episode_id`."""
    return await db.one(_RESOLVE, episode_id, profile_id, media_id, media_id)


def _list(typed: bool, point: bool) -> Sql:
    """A page of a profile's items, newest first (the id breaks ties so pages never overlap),
    each with its downloads' combined status and progress."""
    where = "profile = {} AND type = {}" if typed else "profile = {}"
    return Sql(
        "WITH page AS (SELECT id, type, title, year, tmdb_id, poster_url, poster_cached, runtime, added_at "
        f"FROM media WHERE {where} ORDER BY added_at DESC, id DESC LIMIT {{}} OFFSET {{}}) "
        f"SELECT p.id, p.type, p.title, p.year, p.tmdb_id, p.poster_url, p.poster_cached, p.runtime, p.added_at, "
        f"{ITEM_STATUS} AS status, {ITEM_PROGRESS} AS progress "
        "FROM page p LEFT JOIN download d ON d.media = p.id LEFT JOIN torrent t ON t.infohash = d.infohash "
        "GROUP BY p.id, p.type, p.title, p.year, p.tmdb_id, p.poster_url, p.poster_cached, p.runtime, p.added_at "
        "ORDER BY p.added_at DESC, p.id DESC",
        point=point,
    )


_LIST = {(typed, point): _list(typed, point) for typed in (False, True) for point in (False, True)}
SMALL_PAGE = 100  # rows a page may have and still be a point read


async def page(db: Database, profile_id: str, media_type: str | None, limit: int, offset: int) -> list[Row]:
    args: tuple[Any, ...] = (profile_id, media_type) if media_type else (profile_id,)
    return await db.fetch(_LIST[media_type is not None, limit <= SMALL_PAGE], *args, limit, offset)


_COUNT = {
    False: Sql("SELECT COUNT(*) AS n FROM media WHERE profile = {}"),
    True: Sql("SELECT COUNT(*) AS n FROM media WHERE profile = {} AND type = {}"),
}


async def count(db: Database, profile_id: str, media_type: str | None) -> int:
    args: tuple[Any, ...] = (profile_id, media_type) if media_type else (profile_id,)
    return await db.value(_COUNT[media_type is not None], *args)


def _search(typed: bool) -> Sql:
    # The media_profile_title index (db/engine.py) holds LOWER(title): SQLite matches on it
    # instead of lower-casing every title of the profile. Title starts with q; then a word of
    # it does; then anywhere.
    where = "profile = {} AND type = {}" if typed else "profile = {}"
    return Sql(
        f"SELECT id, title, type, year FROM media WHERE {where} AND LOWER(title) LIKE {{}} ESCAPE '\\' "
        "ORDER BY CASE WHEN LOWER(title) = {} THEN 0 WHEN LOWER(title) LIKE {} ESCAPE '\\' THEN 1 "
        "WHEN LOWER(title) LIKE {} ESCAPE '\\' THEN 2 ELSE 3 END, LENGTH(title), added_at DESC LIMIT {}"
    )


_SEARCH = {False: _search(False), True: _search(True)}


async def search(db: Database, profile_id: str, media_type: str | None, q: str, limit: int) -> list[Row]:
    """Titles containing `q` (lower case), best match first."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prefix = pattern[1:]
    args: tuple[Any, ...] = (profile_id, media_type) if media_type else (profile_id,)
    return await db.fetch(_SEARCH[media_type is not None], *args, pattern, q, prefix, "% " + prefix, limit)


_DOWNLOADS = Sql(
    f"SELECT d.id, d.infohash, d.magnet_link, d.name, d.added_at, {DOWNLOAD_STATUS} AS status, "
    "COALESCE(t.progress, 0.0) AS progress, t.total_bytes, t.downloaded_bytes, t.error, "
    f"{ROWS_STATUS} AS item_status, {ROWS_PROGRESS} AS item_progress, {ROWS_ERROR} AS item_error, "
    "p.position AS play_position, p.duration AS play_duration "
    "FROM download d LEFT JOIN torrent t ON t.infohash = d.infohash "
    "LEFT JOIN position p ON p.media = d.media AND p.episode_key = '' "
    "WHERE d.media = {} ORDER BY d.added_at",
    point=True,
)


async def downloads(db: Database, media_id: str) -> list[Row]:
    """The item's downloads (status as its profile sees it), each with the item's combined
    `item_status`, `item_progress`, `item_error`, and a movie's own play position."""
    return await db.fetch(_DOWNLOADS, media_id)


_HOLDING = Sql(
    "SELECT d.media FROM download d JOIN media m ON m.id = d.media WHERE d.infohash = {} AND m.profile = {} LIMIT 1",
    point=True,
)
_SHOW = Sql(
    "SELECT id FROM media WHERE profile = {} AND type = 'tv' AND tmdb_id = {} ORDER BY added_at LIMIT 1", point=True
)


async def holding(db: Database, profile_id: str, infohash: str) -> str | None:
    """The profile's item that already holds this torrent."""
    return await db.value(_HOLDING, infohash, profile_id)


async def show_with_tmdb_id(db: Database, profile_id: str, tmdb_id: int) -> str | None:
    return await db.value(_SHOW, profile_id, tmdb_id)


_INSERT_MEDIA = Sql(
    "INSERT INTO media (id, profile, type, type_detected, title, year, overview, genres, certification, tmdb_id, "
    "imdb_id, poster_url, backdrop_url, poster_cached, backdrop_cached, added_at) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, NULL, {}, {}, FALSE, FALSE, {})"
)
_INSERT_DOWNLOAD = Sql(
    "INSERT INTO download (id, media, infohash, magnet_link, name, added_at, paused) VALUES ({}, {}, {}, {}, {}, {}, FALSE)"
)
_INSERT_TORRENT = Sql(
    "INSERT INTO torrent (infohash, magnet_link, name, status, progress, downloaded_bytes, added_at) "
    "VALUES ({}, {}, {}, 'added', 0.0, 0, {}) ON CONFLICT (infohash) DO NOTHING"
)


async def insert_media(db: Database, values: dict[str, Any]) -> None:
    """A new item; `values` has every column of _INSERT_MEDIA's list but the defaults."""
    await db.execute(
        _INSERT_MEDIA, values["id"], values["profile"], values["type"], values["type_detected"], values["title"],
        values["year"], values["overview"], values["genres"], values["certification"], values["tmdb_id"],
        values["poster_url"], values["backdrop_url"], values["added_at"],
    )  # fmt: skip


async def insert_download(
    db: Database, download_id: str, media_id: str, infohash: str, magnet_link: str, name: str | None, now: datetime
) -> None:
    """The item's download, and the shared torrent row unless another item has it already."""
    await db.write(
        (_INSERT_DOWNLOAD, (download_id, media_id, infohash, magnet_link, name, now)),
        (_INSERT_TORRENT, (infohash, magnet_link, name, now)),
    )


_HASHES = Sql("SELECT DISTINCT infohash FROM download WHERE media = {}")
_DELETE_MEDIA = Sql("DELETE FROM media WHERE id = {}")
_HELD = Sql("SELECT 1 AS held FROM download WHERE infohash = {} LIMIT 1")
_DELETE_TORRENT = Sql("DELETE FROM torrent WHERE infohash = {}")
_PROFILE_MEDIA = Sql("SELECT id FROM media WHERE profile = {}")


async def hashes(db: Database, media_id: str) -> set[str]:
    return {r["infohash"] for r in await db.fetch(_HASHES, media_id)}


async def delete(db: Database, media_id: str) -> None:
    """The item with everything hanging off it (downloads, seasons, episodes, positions)."""
    await db.execute(_DELETE_MEDIA, media_id)


async def release_if_unheld(db: Database, infohash: str) -> bool:
    """Delete the torrent row when no download holds it any more; True if it went."""
    async with db.transaction():
        if await db.one(_HELD, infohash) is not None:
            return False
        await db.execute(_DELETE_TORRENT, infohash)
        return True


async def of_profile(db: Database, profile_id: str) -> list[str]:
    return [r["id"] for r in await db.fetch(_PROFILE_MEDIA, profile_id)]
