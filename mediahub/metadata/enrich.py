"""Enrichment: fill in what an add did not say, from TMDB, and cache the artwork.

Runs in the background so an add answers at once: the library schedules a pass for a new
item, and the download side for a show whose episode rows changed. A pass that hits a TMDB
or image-host outage is retried later (MEDIAHUB_TMDB_RETRY), and a restart
picks up items still missing something. Request-given fields always win; only empty
fields, and a title/year that merely came from the release name, are filled.

Without a TMDB key only the artwork part runs (client-given poster/backdrop URLs are still
fetched and cached); one log line says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import msgspec

from mediahub.db.database import Database, Row
from mediahub.db.queries import metadata as queries
from mediahub.errors import NotFound
from mediahub.events import EventBus, MediaMerged
from mediahub.library.resolver import MediaRef
from mediahub.metadata.images import IMAGE_KINDS, ImageError, ImageKind, ImageRejected, ImageStore, ImageUnavailable
from mediahub.metadata.release import parse_release
from mediahub.metadata.tmdb import (
    MovieDetails,
    SearchResult,
    ShowDetails,
    TmdbClient,
    TmdbError,
    TmdbNotFound,
    TmdbUnavailable,
)
from mediahub.settings import Settings

log = logging.getLogger(__name__)


class Enricher:
    """Background metadata and artwork for library items; `hub.enricher`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        bus: EventBus,
        http: httpx.AsyncClient,
        *,
        add_lock: asyncio.Lock,
        concurrency: int = 2,
    ) -> None:
        self.tmdb = TmdbClient.from_settings(settings, http)
        self.images = ImageStore(settings, http)
        self._retry_delays = settings.tmdb_retry
        self._lookup_budget = settings.tmdb_add_lookup
        self._db = db
        self._bus = bus
        self._add_lock = add_lock
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # scheduled while a pass was running: run once more

    async def start(self) -> None:
        """Resume the items a previous run left unfinished."""
        if self.tmdb is None:
            log.info("TMDB enrichment is off (MEDIAHUB_TMDB_API_KEY is not set): titles come from release names")
        for media_id in await self._unfinished():
            self.schedule(media_id)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    @property
    def busy(self) -> bool:
        """A pass is running or waiting to retry."""
        return bool(self._tasks)

    def schedule(self, media_id: str) -> None:
        """Enrich `media_id` in the background (one pass at a time per item)."""
        running = self._tasks.get(media_id)
        if running is not None and not running.done():
            self._again.add(media_id)
            return
        task = asyncio.create_task(self._run(media_id), name=f"enrich-{media_id}")
        self._tasks[media_id] = task
        task.add_done_callback(lambda done: self._forget(media_id, done))

    def episodes_changed(self, media_id: str) -> None:
        """A show's episode rows appeared once its torrent's files were mapped: name them."""
        if self.tmdb is not None:
            self.schedule(media_id)

    def _forget(self, media_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(media_id) is task:
            del self._tasks[media_id]

    async def find_show(self, title: str, year: int | None) -> int | None:
        """TMDB id of a show, within MEDIAHUB_TMDB_ADD_LOOKUP seconds; None when unknown or slow.

        The library calls this while adding a TV magnet without `tmdbId`, so a second
        season lands in the show the profile already has (API.md) — but never waits long.
        """
        if self.tmdb is None:
            return None
        try:
            async with asyncio.timeout(self._lookup_budget):
                found = await self._search(self.tmdb, "tv", title, year)
        except (TimeoutError, TmdbError) as exc:
            log.info("TMDB lookup for %r skipped at add time: %s", title, exc or "too slow")
            return None
        return found.id if found else None

    async def cached_image(self, ref: MediaRef, kind: str) -> Path:
        """The stored poster/backdrop of one of a profile's items, else NotFound."""
        if kind not in IMAGE_KINDS:
            raise NotFound("Image not found.")
        path = self.images.path(ref.id, kind) if ref.row[f"{kind}_cached"] else None
        if path is None or not await asyncio.to_thread(path.is_file):
            raise NotFound("Image not found.")
        return path

    # --- one pass ------------------------------------------------------------------------

    async def enrich(self, media_id: str) -> None:
        """One enrichment pass. Raises TmdbUnavailable/ImageUnavailable when worth retrying."""
        row = await queries.media(self._db, media_id)
        if row is None:
            return
        retry: Exception | None = None
        details: MovieDetails | ShowDetails | None = None
        if self.tmdb is not None:
            try:
                details = await self._details(self.tmdb, row)
            except TmdbUnavailable as exc:
                retry = exc
            except TmdbError as exc:
                log.warning("no TMDB metadata for %r: %s", row["title"], exc)
            if details is not None:
                row = await self._store_details(row, details)
                if row is None:
                    return
                if row["type"] == "tv":
                    try:
                        await self.fill_episode_titles(row["id"])
                    except TmdbUnavailable as exc:
                        retry = exc
        try:
            await self._cache_images(row, details)
        except ImageUnavailable as exc:
            retry = retry or exc
        if retry is not None:
            raise retry

    async def fill_episode_titles(self, media_id: str) -> int:
        """Give a show's seasons and episodes their TMDB names; returns episodes updated."""
        row = await queries.media(self._db, media_id)
        if self.tmdb is None or row is None or row["type"] != "tv" or row["tmdb_id"] is None:
            return 0
        updated = 0
        for season, episodes in await queries.seasons_with_episodes(self._db, media_id):
            missing = [e for e in episodes if e["title"] is None or e["air_date"] is None or e["runtime"] is None]
            if not missing and season["name"] is not None:
                continue
            try:
                info = await self.tmdb.season(row["tmdb_id"], season["season_number"])
            except TmdbNotFound:
                log.info("TMDB has no season %s of show %s", season["season_number"], row["tmdb_id"])
                continue
            season_values = {"name": info.name, "overview": info.overview, "air_date": info.air_date}
            await queries.update(self._db, "season", season["id"], _missing(season, season_values))
            by_number = {e.episode_number: e for e in info.episodes}
            for episode in missing:
                found = by_number.get(episode["episode_number"])
                if found is not None:
                    values = {"title": found.name, "air_date": found.air_date, "runtime": found.runtime}
                    await queries.update(self._db, "episode", episode["id"], _missing(episode, values))
                    updated += 1
        return updated

    # --- TMDB ----------------------------------------------------------------------------

    async def _details(self, tmdb: TmdbClient, row: dict[str, Any]) -> MovieDetails | ShowDetails | None:
        tmdb_id = row["tmdb_id"]
        if tmdb_id is None:
            found = await self._search(tmdb, row["type"], row["title"], row["year"])
            if found is None:
                log.info("TMDB found no %s called %r (%s)", row["type"], row["title"], row["year"])
                return None
            tmdb_id = found.id
        return await (tmdb.tv(tmdb_id) if row["type"] == "tv" else tmdb.movie(tmdb_id))

    @staticmethod
    async def _search(tmdb: TmdbClient, kind: str, title: str, year: int | None) -> SearchResult | None:
        """Best match: same title (ignoring case/punctuation) and year, then TMDB's order."""
        search = tmdb.search_tv if kind == "tv" else tmdb.search_movie
        results = (await search(title, year) if year else []) or await search(title)
        if not results:
            return None
        wanted = _normalise(title)
        same_title = [r for r in results if _normalise(r.title) == wanted] or results
        return next((r for r in same_title if year and r.year == year), same_title[0])

    async def _store_details(self, row: dict[str, Any], details: MovieDetails | ShowDetails) -> dict[str, Any] | None:
        """Write what was missing; a tv show whose TMDB id the profile already has is merged."""
        if row["type"] == "tv" and row["tmdb_id"] is None:
            into = await self._merge_duplicate_show(row, details.id)
            if into is not None:
                row = await queries.media(self._db, into)
                if row is None:
                    return None
        values: dict[str, Any] = {
            "tmdb_id": details.id,
            "overview": details.overview,
            "certification": details.certification,
            "imdb_id": details.imdb_id,
            "runtime": details.runtime if isinstance(details, MovieDetails) else details.episode_runtime,
        }
        changes = _missing(row, values)
        if row["genres"] in (None, "", "[]") and details.genres:
            changes["genres"] = msgspec.json.encode(list(details.genres)).decode()
        if await self._title_is_derived(row):
            changes["title"] = details.title
            if details.year is not None:
                changes["year"] = details.year
        # Not if the file names made it a show meanwhile: this was a movie's match.
        await queries.fill(self._db, row["id"], row["type"], changes)
        return await queries.media(self._db, row["id"])

    async def _title_is_derived(self, row: Row) -> bool:
        """True when the title came from a release name (or is one), not from the user."""
        derived: set[str] = set()
        for download in await queries.release_names(self._db, row["id"]):
            derived.add(download["infohash"])
            if download["name"]:
                derived.update(filter(None, (download["name"], parse_release(download["name"]).title)))
        return row["title"] in derived

    async def _merge_duplicate_show(self, row: dict[str, Any], tmdb_id: int) -> str | None:
        """Fold this new show into the profile's show with the same TMDB id; returns that id.

        Downloads, seasons, episodes and positions move over; the emptied row goes, and
        `MediaMerged` tells the faces; the id the add answered with keeps answering, as an alias.
        """
        async with self._add_lock:
            into = await queries.twin_show(self._db, row["profile"], tmdb_id, row["id"])
            if into is None:
                return None
            source = row["id"]
            await queries.merge_show(self._db, source, into)
        await self.images.remove(source)
        log.info("merged show %s into %s (same TMDB id %s)", source, into, tmdb_id)
        self._bus.publish(MediaMerged(profile_id=row["profile"], media_id=source, into_media_id=into))
        return into

    # --- artwork -------------------------------------------------------------------------

    async def _cache_images(self, row: dict[str, Any], details: MovieDetails | ShowDetails | None) -> None:
        """Poster and backdrop: the client's URL if it gave one (safely), else TMDB's."""
        retry: ImageError | None = None
        for kind in IMAGE_KINDS:
            if row[f"{kind}_cached"]:
                continue
            tmdb_path = getattr(details, f"{kind}_path", None) if details else None
            try:
                source = await self._fetch_image(row["id"], kind, row[f"{kind}_url"], tmdb_path)
            except ImageUnavailable as exc:
                log.info("%s of %s not fetched yet: %s", kind, row["id"], exc)
                retry = exc
                continue
            except ImageRejected as exc:
                log.warning("refused TMDB %s for %s: %s", kind, row["id"], exc)
                continue
            if source is None:
                continue
            if not await queries.image_cached(self._db, row["id"], kind, source):  # deleted meanwhile
                await self.images.remove(row["id"])
        if retry is not None:
            raise retry

    async def _fetch_image(self, media_id: str, kind: ImageKind, url: str | None, tmdb_path: str | None) -> str | None:
        """Store one image; returns where it came from, or None when there is nothing to fetch."""
        if url:
            try:
                await self.images.fetch_url(media_id, kind, url)
                return url
            except ImageRejected as exc:
                log.warning("refused %s URL for %s: %s", kind, media_id, exc)
        if tmdb_path:
            await self.images.fetch_tmdb(media_id, kind, tmdb_path)
            return self.images.tmdb_url(kind, tmdb_path)
        return None

    # --- scheduling ----------------------------------------------------------------------

    async def _run(self, media_id: str) -> None:
        """Passes until one succeeds (waiting MEDIAHUB_TMDB_RETRY between outages), plus one
        more if the item was scheduled again meanwhile (new episode rows)."""
        delays = iter(self._retry_delays)
        while True:
            self._again.discard(media_id)
            try:
                async with self._slots:
                    await self.enrich(media_id)
            except (TmdbUnavailable, ImageUnavailable) as exc:
                delay = next(delays, None)
                if delay is None:
                    log.warning("enrichment of %s gave up for now: %s", media_id, exc)
                    return
                log.info("enrichment of %s will be retried in %gs: %s", media_id, delay, exc)
                await asyncio.sleep(delay)
                continue
            except Exception:
                log.exception("enrichment of %s failed", media_id)
                return
            if media_id not in self._again:
                return

    async def _unfinished(self) -> list[str]:
        """Items a previous run did not finish: no TMDB id yet (with a key), or artwork missing."""
        rows = await queries.unfinished(self._db)
        return [
            r["id"] for r in rows
            if (self.tmdb is not None and r["tmdb_id"] is None)
            or (r["poster_url"] and not r["poster_cached"])
            or (r["backdrop_url"] and not r["backdrop_cached"])
        ]


def _missing(row: Row, values: dict[str, Any]) -> dict[str, Any]:
    """Column -> value for the fields `row` lacks and `values` has."""
    return {name: value for name, value in values.items() if value is not None and row.get(name) in (None, "")}


def _normalise(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", title.lower().replace("&", "and"))
