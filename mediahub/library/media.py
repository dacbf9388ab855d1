"""The library: a profile's items — list, search, detail, add, delete — and their positions.

Collection operations take the acting profile's id; operations on one item take the
`MediaRef` the resolver made, so every query is scoped to a profile by construction.
Adding is a command: the item's rows are written and its download started (or joined) by
a direct call, before the answer goes out.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from mediahub.db.database import Database
from mediahub.db.queries import media as queries
from mediahub.downloads.service import Downloads
from mediahub.errors import BadRequest
from mediahub.events import EventBus, MediaAdded, MediaRemoved
from mediahub.ids import iso, new_id, utcnow
from mediahub.library import positions
from mediahub.library.profiles import Actor, ProfileService
from mediahub.library.resolver import MediaRef, Resolver
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
from mediahub.library.vetting import Intake, vet
from mediahub.metadata.enrich import Enricher

LIST_LIMIT_MAX = 1000
SEARCH_LIMIT = 50
SEARCH_LIMIT_MAX = 100
_NO_LIMIT = 2**63 - 1  # "LIMIT ALL" in a form SQLite and PostgreSQL both accept as a parameter

# (title, year) -> TMDB id of that show, or None; bounded in time (the enricher's find_show).
FindShow = Callable[[str, int | None], Awaitable[int | None]]


class Added(msgspec.Struct):
    """Result of `Library.add`: the item, and whether it was created (201) or existed (200)."""

    media: MediaDetail
    created: bool


class Library:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        resolver: Resolver,
        profiles: ProfileService,
        downloads: Downloads,
        enricher: Enricher,
        images_dir: Path,
        add_lock: asyncio.Lock,
    ) -> None:
        self._db = db
        self._bus = bus
        self.resolver = resolver
        self._profiles = profiles
        self._downloads = downloads
        self._enricher = enricher
        self._images_dir = images_dir
        self._add_lock = add_lock  # shared with the enricher's merges
        self._whole: dict[tuple[str, str | None], tuple[int, bytes, int]] = {}  # see list_json
        self._counts: dict[tuple[str, str | None], tuple[int, int]] = {}  # see _count

    # ---- reading ---------------------------------------------------------------------

    async def list(
        self, profile_id: str, media_type: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> tuple[list[MediaListItem], int]:
        """A page of the profile's items, newest first, and how many there are in all."""
        media_type = _media_type(media_type)
        rows = await queries.page(self._db, profile_id, media_type, _page_limit(limit, LIST_LIMIT_MAX), _offset(offset))
        return [_list_item(r) for r in rows], await self._count(profile_id, media_type)

    async def _count(self, profile_id: str, media_type: str | None) -> int:
        """How many items the (filtered) list has: counting 10,000 takes ~0.6 ms, so the count
        is kept until the database changes, like the whole list."""
        key, writes = (profile_id, media_type), self._db.writes
        cached = self._counts.get(key)
        if cached is None or cached[0] != writes:
            cached = self._counts[key] = (writes, await queries.count(self._db, profile_id, media_type))
        return cached[1]

    async def list_json(self, profile_id: str, media_type: str | None = None) -> tuple[bytes, int, str]:
        """The whole list as JSON, its length and an ETag. Kept until the database next
        changes: a 10,000-item list takes ~100 ms to read, and clients ask for it often."""
        key = (profile_id, _media_type(media_type))
        writes = self._db.writes  # read before the query: a change meanwhile makes this copy stale
        cached = self._whole.get(key)
        if cached is None or cached[0] != writes:
            items, _ = await self.list(profile_id, media_type)
            cached = self._whole[key] = (writes, msgspec.json.encode(items), len(items))
        return cached[1], cached[2], f'W/"{cached[0]:x}"'

    async def detail(self, ref: MediaRef) -> MediaDetail:
        row = ref.row
        downloads = await queries.downloads(self._db, ref.id)
        first = downloads[0] if downloads else {}
        live = self._downloads.summary(downloads, row["file_path"])
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
            status=live.status,
            progress=live.progress,
            magnet_link=first.get("magnet_link"),
            infohash=first.get("infohash"),
            file_path=row["file_path"],
            file_size=row["file_size"],
            added_at=iso(row["added_at"]) or "",
            last_played_at=iso(row["last_played_at"]),
            # A show has no one position: each episode has its own, in /seasons.
            play_position=(first.get("play_position") or 0.0) if row["type"] == "movie" else None,
            play_duration=first.get("play_duration"),
            error=live.error if isinstance(live.error, str) else None,
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

    async def search(
        self, profile_id: str, q: str | None, media_type: str | None = None, *, limit: int | None = None
    ) -> list[SearchHit]:
        q = (q or "").strip().lower()
        if len(q) < 2:
            raise BadRequest("The search query 'q' needs at least 2 characters.")
        limit = SEARCH_LIMIT if limit is None else _page_limit(limit, SEARCH_LIMIT_MAX)
        rows = await queries.search(self._db, profile_id, _media_type(media_type), q, limit)
        return [SearchHit(id=r["id"], title=r["title"], type=r["type"], year=r["year"]) for r in rows]

    async def seasons(self, ref: MediaRef) -> list[SeasonView]:
        return await positions.seasons(self._db, ref)

    async def continue_watching(self, profile_id: str) -> list[ContinueItem]:
        return await positions.continue_watching(self._db, profile_id)

    async def position(self, ref: MediaRef) -> PositionView:
        return await positions.read(self._db, ref)

    async def set_position(self, ref: MediaRef, update: SetPosition) -> None:
        await positions.save(self._db, ref, update)

    # ---- changing ------------------------------------------------------------------------

    async def add(self, profile_id: str, request: AddMedia) -> Added:
        """Add a magnet: a new item (201), or the item that already holds it (200); a show
        with the same TMDB id gets the magnet as one more download (200)."""
        intake = vet(request)
        tmdb_id = request.tmdb_id
        if tmdb_id is None and intake.media_type == "tv" and intake.title:
            # A detected show may be one this profile has: look its TMDB id up (briefly) to merge.
            tmdb_id = await self._enricher.find_show(intake.title, intake.year)
        async with self._add_lock:  # no two items for one magnet, even from concurrent requests
            existing = await queries.holding(self._db, profile_id, intake.magnet.infohash)
            if existing is not None:
                return Added(media=await self._detail_of(profile_id, existing), created=False)
            show = await queries.show_with_tmdb_id(self._db, profile_id, tmdb_id) if intake.media_type == "tv" and tmdb_id else None
            media_id = show or new_id()
            await self._write(profile_id, media_id, intake, request, tmdb_id, new=show is None)
        await self._downloads.add(intake.magnet.infohash, intake.magnet.link, intake.magnet.display_name)
        if show is None:
            self._enricher.schedule(media_id)
            self._bus.publish(MediaAdded(profile_id=profile_id, media_id=media_id))
        return Added(media=await self._detail_of(profile_id, media_id), created=show is None)

    async def _write(
        self, profile_id: str, media_id: str, intake: Intake, request: AddMedia, tmdb_id: int | None, *, new: bool
    ) -> None:
        magnet, now = intake.magnet, utcnow()
        async with self._db.transaction():
            if new:
                await queries.insert_media(self._db, {
                    "id": media_id, "profile": profile_id, "type": intake.media_type,
                    "type_detected": request.type is None, "title": intake.title or magnet.display_name or magnet.infohash,
                    "year": intake.year, "overview": request.overview,
                    "genres": msgspec.json.encode(request.genres or []).decode(), "certification": request.certification,
                    "tmdb_id": tmdb_id, "poster_url": request.poster_url, "backdrop_url": request.backdrop_url,
                    "added_at": now,
                })  # fmt: skip
            await queries.insert_download(self._db, new_id(), media_id, magnet.infohash, magnet.link, magnet.display_name, now)

    async def _detail_of(self, profile_id: str, media_id: str) -> MediaDetail:
        return await self.detail(await self.resolver.resolve(profile_id, media_id))

    async def delete(self, ref: MediaRef) -> None:
        """Remove the item and its rows; torrents nobody else holds are released (files go)."""
        hashes = await queries.hashes(self._db, ref.id)
        await queries.delete(self._db, ref.id)
        await asyncio.to_thread(shutil.rmtree, self._images_dir / ref.id, True)
        for infohash in hashes:
            if await queries.release_if_unheld(self._db, infohash):
                await self._downloads.release(infohash)
            else:
                await self._downloads.holder_left(infohash)
        self._bus.publish(MediaRemoved(profile_id=ref.profile_id, media_id=ref.id))

    async def delete_profile(self, actor: Actor, profile_id: str) -> None:
        """A profile with its items; downloads it shares with other profiles survive for them."""
        await self._profiles.check_deletable(actor, profile_id)
        for media_id in await queries.of_profile(self._db, profile_id):
            await self.delete(await self.resolver.resolve(profile_id, media_id))
        await self._profiles.delete(profile_id)


def _list_item(r: dict) -> MediaListItem:
    return MediaListItem(
        id=r["id"],
        type=r["type"],
        title=r["title"],
        year=r["year"],
        status=r["status"],
        progress=round(r["progress"] or 0.0, 2),
        tmdb_id=r["tmdb_id"],
        poster_url=image_url(r, "poster"),
        runtime=r["runtime"],
        added_at=iso(r["added_at"]) or "",
    )


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


def _media_type(value: str | None) -> str | None:
    if value not in (None, "movie", "tv"):
        raise BadRequest("'type' must be 'movie' or 'tv'.")
    return value
