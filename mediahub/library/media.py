"""The library of one profile: add, list, read, delete, search, seasons.

A `Library` is bound to a profile id, so every query it runs is scoped to that profile by
construction; another profile's ids simply are not found (404, never 403).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec

from mediahub.db.tables import Download, Media, Torrent
from mediahub.errors import BadRequest
from mediahub.events import DownloadAdded, EventBus, MediaAdded, TorrentHolderLeft, TorrentReleased
from mediahub.ids import iso, new_id, utcnow
from mediahub.library import playback
from mediahub.library.progress import summarise
from mediahub.library.resolve import media_row
from mediahub.library.status import (
    PROGRESS_SQL,
    STATUS_RANK_SQL,
    combine_error,
    combine_progress,
    combine_status,
    status_of_rank,
    torrents_by_media,
)
from mediahub.library.views import (
    AddMedia,
    ContinueItem,
    DownloadView,
    MediaDetail,
    MediaListItem,
    PositionView,
    SearchHit,
    SeasonView,
    SetPosition,
    image_url,
)
from mediahub.metadata.release import detect_type, parse_release
from mediahub.torrents.magnet import InvalidMagnet, parse_magnet
from mediahub.torrents.models import TorrentStatus
from mediahub.torrents.paths import without_format_characters

MEDIA_TYPES = ("movie", "tv")
MAX_TITLE = 500
MAX_TEXT = 20_000
MAX_URL = 2048
MAX_TMDB_ID = 2**31 - 1  # the INTEGER column's range on PostgreSQL (SQLite takes 2**63 - 1)
LIST_LIMIT_MAX = 1000
SEARCH_LIMIT = 50
SEARCH_LIMIT_MAX = 100
_NO_LIMIT = 2**63 - 1  # "LIMIT ALL" in a form SQLite and PostgreSQL both accept as a parameter

# A list in one query: the page of media (newest first; the id breaks ties so pages never
# overlap), each with its downloads' combined status and progress (see status.py).
_LIST = (
    "WITH page AS ("
    "SELECT id, type, title, year, tmdb_id, poster_url, poster_cached, runtime, added_at FROM media "
    "WHERE {where} ORDER BY added_at DESC, id DESC LIMIT {{}} OFFSET {{}}) "
    f"SELECT p.*, {STATUS_RANK_SQL} AS status_rank, {PROGRESS_SQL} AS progress "
    "FROM page p LEFT JOIN download d ON d.media = p.id LEFT JOIN torrent t ON t.infohash = d.infohash "
    "GROUP BY p.id, p.type, p.title, p.year, p.tmdb_id, p.poster_url, p.poster_cached, p.runtime, p.added_at "
    "ORDER BY p.added_at DESC, p.id DESC"
)

# (title, year) -> TMDB id of that show, or None; bounded in time (the enricher's find_show).
FindShow = Callable[[str, int | None], Awaitable[int | None]]
# info-hash -> the engine's live status of that torrent, None when it is not running.
LiveStatus = Callable[[str], TorrentStatus | None]


class Added(msgspec.Struct):
    """Result of `Library.add`: the item, and whether it was created (201) or existed (200)."""

    media: MediaDetail
    created: bool


class Library:
    def __init__(
        self,
        profile_id: str,
        *,
        bus: EventBus,
        images_dir: Path,
        add_lock: asyncio.Lock,
        find_show: FindShow | None = None,
        live_status: LiveStatus | None = None,
    ) -> None:
        self.profile_id = profile_id
        self._bus = bus
        self._images_dir = images_dir
        self._add_lock = add_lock
        self._find_show = find_show
        self._live_status = live_status or (lambda infohash: None)

    # ---- reading ---------------------------------------------------------------------

    async def list(self, type: str | None = None, *, limit: int | None = None, offset: int = 0) -> list[MediaListItem]:
        """Newest first; `limit` and `offset` page through it (`count` gives the total)."""
        where, args = self._filter(type)
        page = [_page_limit(limit, LIST_LIMIT_MAX), _offset(offset)]
        rows = await Media.raw(_LIST.format(where=where), *args, *page)
        return [
            MediaListItem(
                id=r["id"],
                type=r["type"],
                title=r["title"],
                year=r["year"],
                status=status_of_rank(r["status_rank"]),
                progress=round(r["progress"] or 0.0, 2),
                tmdb_id=r["tmdb_id"],
                poster_url=image_url(r, "poster"),
                runtime=r["runtime"],
                added_at=iso(r["added_at"]) or "",
            )
            for r in rows
        ]

    async def count(self, type: str | None = None) -> int:
        where, args = self._filter(type)
        rows = await Media.raw(f"SELECT COUNT(*) AS n FROM media WHERE {where}", *args)
        return rows[0]["n"]

    async def get(self, media_id: str) -> MediaDetail:
        row = await media_row(self.profile_id, media_id)
        downloads = (await torrents_by_media(row["id"])).get(row["id"], [])
        position = await playback.read(row["id"], "") if row["type"] == "movie" else None
        live = summarise(downloads, [self._live_status(d["infohash"]) for d in downloads], row["file_path"])
        first = downloads[0] if downloads else None
        status = combine_status(d["status"] for d in downloads)
        detail = MediaDetail(
            id=row["id"],
            type=row["type"],
            title=row["title"],
            year=row["year"],
            overview=row["overview"],
            genres=msgspec.json.decode(row["genres"] or "[]", type=list[str]),
            certification=row["certification"],
            tmdb_id=row["tmdb_id"],
            imdb_id=row["imdb_id"],
            poster_url=image_url(row, "poster"),
            backdrop_url=image_url(row, "backdrop"),
            runtime=row["runtime"],
            status=status,
            progress=combine_progress(downloads),
            magnet_link=first["magnet_link"] if first else None,
            infohash=first["infohash"] if first else None,
            file_path=row["file_path"],
            file_size=row["file_size"],
            added_at=iso(row["added_at"]) or "",
            last_played_at=iso(row["last_played_at"]),
            # A show has no one position: each episode has its own, in /seasons.
            play_position=(position.position if position else 0.0) if row["type"] == "movie" else None,
            play_duration=position.duration if position else None,
            error=combine_error(status, downloads),
            peers=live.peers,
            stalled_since=live.stalled_since,
        )
        if row["type"] == "tv":
            detail.season_count = row["season_count"]
            detail.episode_count = row["episode_count"]
            detail.downloads = [
                DownloadView(
                    id=d["id"],
                    infohash=d["infohash"],
                    magnet_link=d["magnet_link"],
                    name=d["name"],
                    status=d["status"],
                    progress=d["progress"],
                    added_at=iso(d["added_at"]) or "",
                )
                for d in downloads
            ]
        return detail

    async def search(self, q: str | None, type: str | None = None, *, limit: int | None = None) -> list[SearchHit]:
        q = (q or "").strip().lower()
        if len(q) < 2:
            raise BadRequest("The search query 'q' needs at least 2 characters.")
        limit = SEARCH_LIMIT if limit is None else _page_limit(limit, SEARCH_LIMIT_MAX)
        where, args = self._filter(type)
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        prefix = pattern[1:]  # title starts with q; then a word of it does; then anywhere
        # The media_profile_title index (db/engine.py) holds LOWER(title): SQLite matches on it
        # instead of lower-casing every title of the profile.
        rows = await Media.raw(
            f"SELECT id, title, type, year FROM media WHERE {where} AND LOWER(title) LIKE {{}} ESCAPE '\\' "
            "ORDER BY CASE WHEN LOWER(title) = {} THEN 0 WHEN LOWER(title) LIKE {} ESCAPE '\\' THEN 1 "
            "WHEN LOWER(title) LIKE {} ESCAPE '\\' THEN 2 ELSE 3 END, LENGTH(title), added_at DESC LIMIT {}",
            *args,
            pattern,
            q,
            prefix,
            "% " + prefix,
            limit,
        )
        return [SearchHit(id=r["id"], title=r["title"], type=r["type"], year=r["year"]) for r in rows]

    async def seasons(self, media_id: str) -> list[SeasonView]:
        row = await media_row(self.profile_id, media_id)
        if row["type"] != "tv":
            raise BadRequest("Only a TV show has seasons.")
        return await playback.seasons(row["id"])

    # ---- playback positions -------------------------------------------------------------

    async def position(self, media_id: str, episode_id: str | None = None) -> PositionView:
        row = await media_row(self.profile_id, media_id)
        key = await playback.episode_key(row, episode_id)
        return await playback.read(row["id"], key) or PositionView(position=0.0, duration=None)

    async def set_position(self, media_id: str, update: SetPosition) -> None:
        row = await media_row(self.profile_id, media_id)
        if not 0 <= update.position <= playback.MAX_SECONDS:  # NaN fails both comparisons
            raise BadRequest(f"'position' must be a number of seconds from 0 to {playback.MAX_SECONDS}.")
        if update.duration is not None and not 0 < update.duration <= playback.MAX_SECONDS:
            raise BadRequest(f"'duration' must be a number of seconds above 0, at most {playback.MAX_SECONDS}.")
        key = await playback.episode_key(row, update.episode_id)
        await playback.write(row["id"], key, update.position, update.duration)

    async def continue_watching(self) -> list[ContinueItem]:
        return await playback.continue_watching(self.profile_id)

    # ---- changing ------------------------------------------------------------------------

    async def add(self, request: AddMedia | None = None, **fields: Any) -> Added:
        """Add a magnet; `fields` are `AddMedia`'s (snake_case) for in-process callers."""
        # from_attributes: match the Python (snake_case) names, not the camelCase wire names.
        request = request or msgspec.convert(SimpleNamespace(**fields), AddMedia, from_attributes=True)
        _validate(request)
        try:
            magnet = parse_magnet(request.magnet_link)
        except InvalidMagnet as exc:
            raise BadRequest(str(exc)) from None
        release = parse_release(magnet.display_name) if magnet.display_name else None
        media_type = request.type or detect_type(magnet.display_name, []) or "movie"
        tmdb_id = request.tmdb_id
        given_title = without_format_characters(request.title).strip() if request.title else None
        title = given_title or (release.title if release else None)
        if tmdb_id is None and media_type == "tv" and title and self._find_show is not None:
            # A detected show may be one this profile has: look its TMDB id up (briefly) to merge.
            year = request.year if request.year is not None else (release.year if release else None)
            tmdb_id = await self._find_show(title, year)
        async with self._add_lock:  # no two items for one magnet, even from concurrent requests
            existing = await self._media_with_infohash(magnet.infohash)
            if existing is not None:
                return Added(media=await self.get(existing), created=False)
            show = await self._show_with_tmdb_id(tmdb_id) if media_type == "tv" else None
            now = utcnow()
            if show is None:
                media = Media(
                    id=new_id(),
                    profile=self.profile_id,
                    type=media_type,
                    type_detected=request.type is None,
                    title=title or magnet.display_name or magnet.infohash,
                    year=request.year if request.year is not None else (release.year if release else None),
                    overview=request.overview,
                    genres=msgspec.json.encode(request.genres or []).decode(),
                    certification=request.certification,
                    tmdb_id=tmdb_id,
                    poster_url=request.poster_url,
                    backdrop_url=request.backdrop_url,
                    added_at=now,
                )
                await media.save()
                media_id = media.id
            else:
                media_id = show
            download = Download(
                id=new_id(),
                media=media_id,
                infohash=magnet.infohash,
                magnet_link=magnet.link,
                name=magnet.display_name,
                added_at=now,
            )
            await download.save()
            await Torrent.insert(
                Torrent(infohash=magnet.infohash, magnet_link=magnet.link, name=magnet.display_name, added_at=now)
            ).on_conflict(action="DO NOTHING")
        await self._bus.publish(
            DownloadAdded(
                profile_id=self.profile_id,
                media_id=media_id,
                media_type=media_type,
                download_id=download.id,
                infohash=magnet.infohash,
                magnet_link=magnet.link,
            )
        )
        if show is None:
            await self._bus.publish(MediaAdded(profile_id=self.profile_id, media_id=media_id))
        return Added(media=await self.get(media_id), created=show is None)

    async def delete(self, media_id: str) -> None:
        """Remove the item and its rows; torrents nobody else holds are released (files go)."""
        media_id = (await media_row(self.profile_id, media_id))["id"]  # an alias deletes what it names
        hashes = {d["infohash"] for d in await Download.select(Download.infohash).where(Download.media == media_id)}
        await Media.delete().where(Media.id == media_id)
        await asyncio.to_thread(shutil.rmtree, self._images_dir / media_id, True)
        for infohash in hashes:
            if not await Download.exists().where(Download.infohash == infohash):
                await Torrent.delete().where(Torrent.infohash == infohash)
                await self._bus.publish(TorrentReleased(infohash=infohash))
            else:
                await self._bus.publish(TorrentHolderLeft(infohash=infohash))

    # ---- helpers -------------------------------------------------------------------------

    def _filter(self, type: str | None) -> tuple[str, list[Any]]:
        """WHERE clause (and its values) for this profile's media, of one type if given."""
        if type is None:
            return "profile = {}", [self.profile_id]
        return "profile = {} AND type = {}", [self.profile_id, _media_type(type)]

    async def _media_with_infohash(self, infohash: str) -> str | None:
        row = await (
            Download.select(Download.media)
            .where((Download.infohash == infohash) & (Download.media.profile == self.profile_id))
            .first()
        )
        return row["media"] if row else None

    async def _show_with_tmdb_id(self, tmdb_id: int | None) -> str | None:
        if tmdb_id is None:
            return None
        row = await (
            Media.select(Media.id)
            .where((Media.profile == self.profile_id) & (Media.type == "tv") & (Media.tmdb_id == tmdb_id))
            .first()
        )
        return row["id"] if row else None


def _page_limit(limit: int | None, most: int) -> int:
    if limit is None:
        return _NO_LIMIT
    if not 1 <= limit <= most:
        raise BadRequest(f"'limit' must be a whole number from 1 to {most}.")
    return limit


def _offset(offset: int) -> int:
    if offset < 0:
        raise BadRequest("'offset' must be a whole number, zero or more.")
    return min(offset, _NO_LIMIT)  # past the end is an empty page, and fits a 64-bit parameter


def _media_type(value: str) -> str:
    if value not in MEDIA_TYPES:
        raise BadRequest("'type' must be 'movie' or 'tv'.")
    return value


def _validate(request: AddMedia) -> None:
    if request.title is not None and not 0 < len(request.title.strip()) <= MAX_TITLE:
        raise BadRequest(f"'title' needs 1 to {MAX_TITLE} characters.")
    if request.year is not None and not 1870 <= request.year <= 2100:
        raise BadRequest("'year' must be between 1870 and 2100.")
    if request.tmdb_id is not None and not 0 < request.tmdb_id <= MAX_TMDB_ID:
        raise BadRequest(f"'tmdbId' must be a whole number from 1 to {MAX_TMDB_ID}.")
    if request.overview is not None and len(request.overview) > MAX_TEXT:
        raise BadRequest(f"'overview' has at most {MAX_TEXT} characters.")
    if request.certification is not None and len(request.certification) > 32:
        raise BadRequest("'certification' has at most 32 characters.")
    if request.genres is not None and (len(request.genres) > 50 or any(not 0 < len(g) <= 100 for g in request.genres)):
        raise BadRequest("'genres' is a list of at most 50 names of 1 to 100 characters.")
    for name, url in (("posterUrl", request.poster_url), ("backdropUrl", request.backdrop_url)):
        if url is not None and (len(url) > MAX_URL or not url.lower().startswith(("http://", "https://"))):
            raise BadRequest(f"'{name}' must be an http(s) URL of at most {MAX_URL} characters.")
