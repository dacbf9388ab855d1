"""Downloads (`hub.downloads`): the library's items on one side, the torrent engine on the other.

The library calls `add`, `release` and `holder_left` when items come and go; routes call
`progress`, `progress_events`, `pause`, `resume` and `retry` with a resolved `MediaRef`.
The torrent's life itself is `lifecycle.py`. On start, unfinished torrents are added again
from their resume data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from mediahub.db.database import Database, Row
from mediahub.db.queries import media as media_queries
from mediahub.db.queries import torrents as queries
from mediahub.downloads.library_files import LibraryFiles
from mediahub.downloads.lifecycle import RESTARTABLE, Lifecycle
from mediahub.downloads.mapping import EpisodesChanged
from mediahub.downloads.placing import Finalizer
from mediahub.downloads.progress import ProgressView, summarise
from mediahub.downloads.state import TorrentStates
from mediahub.errors import Conflict, NotFound
from mediahub.events import EventBus, Subscription, TorrentChanged
from mediahub.library.resolver import MediaRef, Resolver
from mediahub.library.views import ACTIVE_STATUSES
from mediahub.settings import Settings
from mediahub.torrents.client import TorrentClient
from mediahub.torrents.events import EventStream
from mediahub.torrents.models import StatusUpdated, TorrentFailed, TorrentFinished

PROGRESS_INTERVAL = 1.0  # seconds between progress events of an SSE stream


class Downloads:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        settings: Settings,
        engine: TorrentClient,
        *,
        resolver: Resolver,
        finalize: Finalizer | None,
        episodes_changed: EpisodesChanged,
    ) -> None:
        self._db = db
        self._bus = bus
        self._settings = settings
        self._engine = engine
        self._resolver = resolver
        self.states = TorrentStates(db, bus)
        self._life = Lifecycle(
            db, settings, engine, self.states, LibraryFiles(db, settings, engine, finalize), episodes_changed
        )
        self._events: EventStream | None = None

    async def start(self) -> None:
        """Follow the engine, and add every unfinished torrent to it again."""
        known = await self.states.load()
        self._events = self._engine.subscribe(kinds=(StatusUpdated, TorrentFinished, TorrentFailed))
        self._life.spawn(self._life.follow(self._events))
        for infohash in [s.infohash for s in known if s.status in RESTARTABLE]:
            await self._life.start(infohash)
        if not self._settings.keep_original:
            self._life.spawn(self._life.drop_leftover_originals())

    async def close(self) -> None:
        if self._events is not None:
            self._events.close()
        await self._life.close()

    # -- what the library calls -----------------------------------------------------------

    async def add(self, infohash: str, magnet_link: str, name: str | None) -> None:
        """An item now holds this torrent: start it, or join it where it runs (a holder that
        wants it resumes a torrent the others paused)."""
        self.states.known(infohash, magnet_link, name)
        await self._life.start(infohash)
        await self._life.apply_pauses(infohash)

    async def release(self, infohash: str) -> None:
        """No item holds the torrent any more."""
        await self._life.release(infohash)

    async def holder_left(self, infohash: str) -> None:
        """One item let go of a torrent others still hold: maybe only profiles that paused it remain."""
        await self._life.apply_pauses(infohash)

    # -- one item ---------------------------------------------------------------------------

    def summary(self, rows: Sequence[Row], file_path: str | None) -> ProgressView:
        """The item's progress from its download rows (`queries.media.downloads`) and the engine."""
        return summarise(rows, [self._engine.status(row["infohash"]) for row in rows], file_path)

    async def progress(self, ref: MediaRef) -> ProgressView:
        return self.summary(await media_queries.downloads(self._db, ref.id), ref.row["file_path"])

    async def progress_events(self, ref: MediaRef) -> AsyncIterator[ProgressView]:
        """The progress now, then at least once a second and on every change; ends after a
        terminal status (ready, error) or when the item is deleted."""
        with self._bus.subscribe() as changes:
            while True:
                try:  # read afresh: the file path appears once the item is ready
                    ref = await self._resolver.resolve(ref.profile_id, ref.id)
                except NotFound:
                    return
                rows = await media_queries.downloads(self._db, ref.id)
                view = self.summary(rows, ref.row["file_path"])
                yield view
                if view.terminal:
                    return
                await _next_change(changes, {row["infohash"] for row in rows}, PROGRESS_INTERVAL)

    async def pause(self, ref: MediaRef) -> None:
        """Pause for this profile; the shared torrent stops once every holder paused it."""
        rows = await media_queries.downloads(self._db, ref.id)
        if not any(row["status"] in ACTIVE_STATUSES | {"paused"} for row in rows):
            raise Conflict("Nothing to pause: the download is not running.")
        await self._set_paused([row for row in rows if row["status"] in ACTIVE_STATUSES], True)

    async def resume(self, ref: MediaRef) -> None:
        rows = await media_queries.downloads(self._db, ref.id)
        if not any(row["status"] in ACTIVE_STATUSES | {"paused"} for row in rows):
            raise Conflict("Nothing to resume: the download is not paused.")
        await self._set_paused([row for row in rows if row["status"] == "paused"], False)

    async def _set_paused(self, rows: list[Row], paused: bool) -> None:
        if rows:
            await queries.set_paused(self._db, [row["id"] for row in rows], paused)
        for infohash in {row["infohash"] for row in rows}:
            await self._life.apply_pauses(infohash)
            # This profile's status changed even while the shared torrent runs on for others:
            # say so now, so its progress stream does not wait for the next tick.
            await self.states.set(infohash, announce=True)

    async def retry(self, ref: MediaRef) -> None:
        """Start a failed download again from its magnet (verified pieces are kept)."""
        failed = {row["infohash"] for row in await media_queries.downloads(self._db, ref.id) if row["status"] == "error"}
        if not failed:
            raise Conflict("Only a failed download can be retried.")
        for infohash in failed:
            await self._life.retry(infohash)


async def _next_change(changes: Subscription, hashes: set[str], timeout: float) -> None:
    """Wait until one of `hashes` changes, at most `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async for event in changes:
                if isinstance(event, TorrentChanged) and event.infohash in hashes:
                    return
    except TimeoutError:
        pass
