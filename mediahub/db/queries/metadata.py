"""What enrichment reads and fills in: an item's fields, its seasons and episodes, artwork,
and the merge of a show added twice."""

from __future__ import annotations

from typing import Any

from mediahub.db.database import Database, Row, Sql

_MEDIA = Sql("SELECT * FROM media WHERE id = {}")
_UNFINISHED = Sql(
    "SELECT id, tmdb_id, poster_url, poster_cached, backdrop_url, backdrop_cached FROM media "
    "WHERE tmdb_id IS NULL OR (poster_url IS NOT NULL AND NOT poster_cached) "
    "OR (backdrop_url IS NOT NULL AND NOT backdrop_cached)"
)
_RELEASE_NAMES = Sql("SELECT name, infohash FROM download WHERE media = {}")


async def media(db: Database, media_id: str) -> Row | None:
    return await db.one(_MEDIA, media_id)


async def unfinished(db: Database) -> list[Row]:
    """Items without a TMDB id, or with artwork not cached yet."""
    return await db.fetch(_UNFINISHED)


async def release_names(db: Database, media_id: str) -> list[Row]:
    """The names and info-hashes of the item's downloads (a title derived from them is ours to replace)."""
    return await db.fetch(_RELEASE_NAMES, media_id)


async def fill(db: Database, media_id: str, media_type: str, changes: dict[str, Any]) -> None:
    """Write TMDB's fields, unless the item changed type meanwhile (a movie's match on a show)."""
    await db.update("media", {"id": media_id, "type": media_type}, changes)


async def update(db: Database, table: str, row_id: str, changes: dict[str, Any]) -> None:
    """Set `changes` on one season or episode row (by id)."""
    await db.update(table, {"id": row_id}, changes)


_SEASONS = Sql("SELECT * FROM season WHERE media = {} ORDER BY season_number")
_EPISODES = Sql("SELECT * FROM episode WHERE media = {}")


async def seasons_with_episodes(db: Database, media_id: str) -> list[tuple[Row, list[Row]]]:
    episodes = await db.fetch(_EPISODES, media_id)
    return [(s, [e for e in episodes if e["season"] == s["id"]]) for s in await db.fetch(_SEASONS, media_id)]


_IMAGE = {
    kind: Sql(f"UPDATE media SET {kind}_cached = TRUE, {kind}_url = {{}} WHERE id = {{}}")
    for kind in ("poster", "backdrop")
}
_EXISTS = Sql("SELECT id FROM media WHERE id = {}")


async def image_cached(db: Database, media_id: str, kind: str, source: str) -> bool:
    """Record the stored artwork; False when the item was deleted meanwhile."""
    await db.execute(_IMAGE[kind], source, media_id)
    return await db.one(_EXISTS, media_id) is not None


_TWIN = Sql(
    "SELECT id FROM media WHERE profile = {} AND type = 'tv' AND tmdb_id = {} AND id <> {} ORDER BY added_at LIMIT 1"
)
_SEASON_NUMBERS = Sql("SELECT id, season_number FROM season WHERE media = {}")
_MOVE_SEASON = Sql("UPDATE season SET media = {} WHERE id = {}")
_MOVE_EPISODES = Sql("UPDATE episode SET media = {}, season = {} WHERE season = {}")
_DROP_SEASON = Sql("DELETE FROM season WHERE id = {}")
_MOVE_DOWNLOADS = Sql("UPDATE download SET media = {} WHERE media = {}")
_MOVE_POSITIONS = Sql("UPDATE position SET media = {} WHERE media = {}")
_MOVE_ALIASES = Sql("UPDATE media_alias SET media = {} WHERE media = {}")
_ALIAS = Sql("INSERT INTO media_alias (id, media) VALUES ({}, {})")
_DELETE = Sql("DELETE FROM media WHERE id = {}")


async def twin_show(db: Database, profile_id: str, tmdb_id: int, other_than: str) -> str | None:
    """The profile's older show with this TMDB id."""
    return await db.value(_TWIN, profile_id, tmdb_id, other_than)


async def merge_show(db: Database, source: str, into: str) -> None:
    """Fold show `source` into `into`: seasons (joined by number), episodes, downloads and
    positions move; `source` goes, and its id becomes an alias of `into`."""
    async with db.transaction():
        existing = {r["season_number"]: r["id"] for r in await db.fetch(_SEASON_NUMBERS, into)}
        for season in await db.fetch(_SEASON_NUMBERS, source):
            keep = existing.get(season["season_number"])
            await db.execute(_MOVE_EPISODES, into, keep or season["id"], season["id"])
            if keep is None:
                await db.execute(_MOVE_SEASON, into, season["id"])
            else:
                await db.execute(_DROP_SEASON, season["id"])
        await db.execute(_MOVE_DOWNLOADS, into, source)
        await db.execute(_MOVE_POSITIONS, into, source)
        await db.execute(_MOVE_ALIASES, into, source)
        await db.execute(_ALIAS, source, into)
        await db.execute(_DELETE, source)

