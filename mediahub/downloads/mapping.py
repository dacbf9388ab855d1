"""Once a torrent's file list is known: which files each item holding it wants, and its rows.

Every item holding the torrent picks its files (`selection.py`): a movie its feature, a
show its episodes, and subtitles beside them. The movie's file, a show's seasons and
episodes are written; the union of wanted files is what the torrent downloads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from mediahub.db.database import Database, Row
from mediahub.db.queries import files as queries
from mediahub.downloads.selection import select
from mediahub.ids import new_id
from mediahub.library import layout
from mediahub.metadata.release import EpisodeFile, detect_type, parse_release
from mediahub.torrents.models import TorrentFile
from mediahub.torrents.paths import without_format_characters

log = logging.getLogger(__name__)

# Called with a show's id once its episode rows changed (enrichment names them).
EpisodesChanged = Callable[[str], None]


async def map_items(
    db: Database, infohash: str, name: str | None, files: tuple[TorrentFile, ...], episodes_changed: EpisodesChanged
) -> tuple[set[int], list[int]]:
    """Write every holding item's file rows; returns the union of wanted file indexes and the
    video files in viewing order (a movie's feature, a show's first episode). Raises
    `NoVideo` when the torrent has nothing to play."""
    wanted: set[int] = set()
    videos: list[int] = []
    for item in await queries.holding_items(db, infohash):
        item = await _name_unnamed(db, item, infohash, name)
        item = await _detect_type_again(db, item, item["download_name"] or name, files)
        hint = item["download_name"] or name or item["title"]
        selection = await asyncio.to_thread(select, files, item["type"], hint)
        wanted |= selection.wanted
        videos += [selection.movie.index] if selection.movie else [e.file_index for e in selection.episodes]
        if selection.movie is not None:
            planned = layout.virtual(layout.movie_file(item["title"], item["year"], PurePosixPath(selection.movie.path).suffix))
            await queries.map_movie(db, item["id"], selection.movie.index, planned, selection.movie.size)
        else:
            await _map_show(db, item, selection.episodes)
            episodes_changed(item["id"])
    return wanted, videos


async def _name_unnamed(db: Database, item: Row, infohash: str, name: str | None) -> Row:
    """An item added from a magnet without a name gets one from the torrent."""
    if item["title"] != infohash or not name:
        return item
    release = parse_release(name)
    title = release.title or without_format_characters(name).strip() or infohash
    await queries.update_media(db, item["id"], {"title": title, "year": release.year})
    return {**item, "title": title, "year": release.year}


async def _detect_type_again(db: Database, item: Row, name: str | None, files: tuple[TorrentFile, ...]) -> Row:
    """A type guessed from the magnet's name alone gets a second look at the file names
    (S01E02, 1x02, Season 1): a season pack named like a movie becomes a show. A movie
    match TMDB found meanwhile was for the wrong kind: it goes, and is looked up again."""
    if not item["type_detected"] or item["type"] != "movie":
        return item
    if await asyncio.to_thread(detect_type, name, [f.path for f in files]) != "tv":
        return item
    changes: dict[str, Any] = {"type": "tv", "tmdb_id": None, "imdb_id": None, "overview": None,
                               "certification": None, "runtime": None, "genres": "[]"}  # fmt: skip
    await queries.update_media(db, item["id"], changes)
    log.info("%s is a show after all (its file names say so)", item["id"])
    return {**item, **changes}


async def _map_show(db: Database, item: Row, episodes: tuple[EpisodeFile, ...]) -> None:
    media_id, download_id = item["id"], item["download_id"]
    seasons = await queries.seasons(db, media_id)
    existing = await queries.episodes(db, media_id)
    for file in episodes:
        if file.season not in seasons:
            seasons[file.season] = new_id()
            await queries.insert_season(db, seasons[file.season], media_id, file.season)
        planned = layout.virtual(layout.episode_file(
            item["title"], item["year"], file.season, file.episodes, None, PurePosixPath(file.path).suffix))  # fmt: skip
        for number in file.episodes:
            row = existing.get((seasons[file.season], number))
            if row is None:
                await queries.insert_episode(
                    db, new_id(), media_id, seasons[file.season], number, download_id, file.file_index, file.size, planned
                )
            elif row["download"] in (None, download_id):  # another download's episode stays its own
                changes: dict[str, Any] = {"download": download_id, "file_index": file.file_index,
                                           "file_path": row["file_path"] or planned}  # fmt: skip
                if not row["file_path"]:  # planned or placed already: a finalized file has its own size
                    changes["file_size"] = file.size
                await queries.update_episode(db, row["id"], changes)
    await queries.count_seasons(db, media_id)
