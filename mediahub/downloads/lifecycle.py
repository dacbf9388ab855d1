"""A torrent's life: started (or joined), files chosen, downloading, finished, placed, retired.

- `start` adds the torrent to the engine under `downloads/<infohash>`; one that cannot start
  marks its items `error` with the reason, and nothing else (a bad row never stops a start).
- Once the metadata is known every item holding it picks its files (`mapping.py`); the
  union is downloaded, and every other file gets priority 0 before a byte of it arrives.
- The engine's status goes to the torrent's row when it changes (`state.py`).
- Finished: `completed`, files placed into the library layout (`library_files.py`), `ready`.
  When a library file had to be converted (an MKV became an MP4), the torrent's original
  would double the disk space: unless MEDIAHUB_KEEP_ORIGINAL asks to keep it, the torrent
  stops seeding and its download folder goes once no player reads it. Hard-linked files
  cost nothing extra, so such torrents keep seeding.
- Released (no item holds it any more): the torrent goes, with its data and library files.
- Pauses are per profile: the shared torrent stops once every holder paused it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections import defaultdict
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from mediahub.db.database import Database
from mediahub.db.queries import torrents as queries
from mediahub.downloads.library_files import LibraryFiles
from mediahub.downloads.mapping import EpisodesChanged, map_items
from mediahub.downloads.selection import NoVideo
from mediahub.downloads.state import TorrentStates
from mediahub.ids import utcnow
from mediahub.library.views import ACTIVE_STATUSES
from mediahub.settings import Settings
from mediahub.torrents.client import TorrentClient
from mediahub.torrents.errors import TorrentNotFound, TorrentStartFailed
from mediahub.torrents.events import EventStream
from mediahub.torrents.magnet import InvalidMagnet, parse_magnet
from mediahub.torrents.models import StatusUpdated, TorrentFailed, TorrentFinished, TorrentStatus
from mediahub.torrents.paths import join_inside

log = logging.getLogger(__name__)

NORMAL_PRIORITY = 4
RESTARTABLE = frozenset({"added", "downloading", "paused", "completed"})


class Lifecycle:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        engine: TorrentClient,
        states: TorrentStates,
        files: LibraryFiles,
        episodes_changed: EpisodesChanged,
    ) -> None:
        self._db = db
        self._settings = settings
        self._engine = engine
        self._states = states
        self._files = files
        self._episodes_changed = episodes_changed
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- running ----------------------------------------------------------------------------

    async def start(self, infohash: str) -> None:
        """Add the torrent to the engine (joining it if it runs), paused if its row says so."""
        state = self._states.get(infohash)
        if state is None:
            return
        save_path = join_inside(self._settings.downloads_dir, infohash)
        try:
            await self._engine.add(parse_magnet(state.values["magnet_link"]), save_path, paused=state.status == "paused")
        except (InvalidMagnet, TorrentStartFailed) as exc:
            await self._fail(infohash, str(exc))
            return
        except Exception as exc:
            log.exception("torrent %s could not start", infohash)
            await self._fail(infohash, f"The download could not start: {reason(exc)}.")
            return
        self.spawn(self._prepare_when_known(infohash))

    async def _fail(self, infohash: str, message: str) -> None:
        log.warning("torrent %s failed: %s", infohash, message)
        await self._states.set(infohash, status="error", error=message)

    async def _prepare_when_known(self, infohash: str) -> None:
        try:
            await self._engine.wait_metadata(infohash, timeout=None)  # a dead magnet waits here
        except TorrentNotFound:
            return
        await self._prepare(infohash)

    async def _prepare(self, infohash: str) -> None:
        """Choose files for every item holding the torrent, write their rows, download."""
        async with self._locks[infohash]:
            files = self._engine.files(infohash) or ()
            try:
                wanted, videos = await map_items(self._db, infohash, self._name(infohash), files, self._episodes_changed)
            except NoVideo as exc:
                await self._fail(infohash, str(exc))
                return
            if not wanted:
                return  # released meanwhile
            self._engine.set_file_priorities(infohash, {index: NORMAL_PRIORITY for index in wanted})
            for index in videos[:1]:  # what a viewer most likely plays first
                self._engine.prefetch(infohash, index)
            known = self._states.status(infohash)
            status = known if known not in (None, "added") else "downloading"
            total = sum(f.size for f in files if f.index in wanted)
            await self._states.set(infohash, status=status, total_bytes=total, name=self._name(infohash))
            running = self._engine.status(infohash)
            # Joined a finished torrent: place this item's files now if they can be. When the
            # torrent's own copy went after finishing (see `_retire`), a library file that is
            # not there yet waits for the torrent to download again.
            finished = running is not None and running.finished
            placeable = status == "completed" or finished or (status == "ready" and await self._files.all_placed(infohash))
        if placeable:
            self.spawn(self._finish(infohash))

    async def _finish(self, infohash: str) -> None:
        async with self._locks[infohash]:
            state = self._states.get(infohash)
            if state is None or self._engine.status(infohash) is None:
                return  # released, or finished and retired already (a second finish event)
            if state.status != "ready":
                row = await queries.torrent(self._db, infohash)
                await self._states.set(infohash, status="completed", progress=100.0,
                                       downloaded_bytes=state.values["total_bytes"] or 0,
                                       completed_at=(row or {}).get("completed_at") or utcnow())  # fmt: skip
            try:
                await map_items(self._db, infohash, self._name(infohash), self._engine.files(infohash) or (),
                                self._episodes_changed)  # fmt: skip
                converted = await self._files.place_all(infohash)
            except Exception as exc:
                log.exception("placing the files of %s failed", infohash)
                await self._fail(infohash, f"The library file could not be prepared: {reason(exc)}.")
                return
            await self._states.set(infohash, status="ready", error=None)
        if converted and not self._settings.keep_original:
            self.spawn(self._retire(infohash))

    async def _retire(self, infohash: str) -> None:
        """Drop a ready torrent's own copy once nobody streams from it: new plays come from
        the library file, but a player that started during the download reads the torrent."""
        try:
            await self._engine.until_unread(infohash)
        except TorrentNotFound:
            return  # released meanwhile
        async with self._locks[infohash]:
            if self._states.status(infohash) == "ready":
                await self._drop_download(infohash)

    async def drop_leftover_originals(self) -> None:
        """Originals of converted ready torrents that are still on disk: the server stopped
        between `ready` and `_retire`, or MEDIAHUB_KEEP_ORIGINAL was on back then. A converted
        library file is the only name of its data (one link); a linked one has two."""
        on_disk = set(await asyncio.to_thread(_names, self._settings.downloads_dir))
        for infohash in await queries.ready(self._db):
            if infohash in on_disk and self._engine.status(infohash) is None:
                placed = await self._files.placed.read(infohash)
                if await asyncio.to_thread(self._files.placed.any_copy, placed):
                    await self._drop_download(infohash)

    async def release(self, infohash: str) -> None:
        """No item holds the torrent any more: it goes with its data and library files."""
        async with self._locks[infohash]:
            await self._drop_download(infohash)
            await self._files.placed.remove_all(infohash)
        self._locks.pop(infohash, None)
        self._states.forget(infohash)

    async def _drop_download(self, infohash: str) -> None:
        """The torrent leaves the engine with its files and resume data."""
        await self._engine.remove(infohash, delete_files=True)
        directory = join_inside(self._settings.downloads_dir, infohash)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    # -- pauses -----------------------------------------------------------------------------

    async def apply_pauses(self, infohash: str) -> None:
        """Run the shared torrent while any holder wants it; pause it when all paused it."""
        async with self._locks[infohash]:
            holders = await queries.holders(self._db, infohash)
            status = self._states.status(infohash)
            if status is None or not holders:
                return
            everyone = all(holder["paused"] for holder in holders)
            if everyone and status in ACTIVE_STATUSES:
                self._engine_call(self._engine.pause, infohash)
                await self._states.set(infohash, status="paused")
            elif not everyone and status == "paused":
                self._engine_call(self._engine.resume, infohash)
                running = self._engine.status(infohash)
                await self._states.set(infohash, status="downloading" if running and running.has_metadata else "added")

    async def retry(self, infohash: str) -> None:
        """Start a failed torrent again (verified pieces are kept)."""
        await self._states.set(infohash, status="added", error=None)
        if self._engine.status(infohash) is not None:
            self._engine.resume(infohash)
        await self.start(infohash)

    # -- engine events ----------------------------------------------------------------------

    async def follow(self, events: EventStream) -> None:
        async for event in events:
            try:
                if isinstance(event, StatusUpdated):
                    await self._record(event.status)
                elif isinstance(event, TorrentFinished):
                    self.spawn(self._finish(event.infohash))
                elif isinstance(event, TorrentFailed) and self._states.status(event.infohash) != "error":
                    # One failure often comes as two alerts (the file's, then the torrent's):
                    # the first, most precise reason stays.
                    await self._states.set(event.infohash, status="error", error=event.message)
            except Exception:
                log.exception("could not record %r", event)

    async def _record(self, status: TorrentStatus) -> None:
        if self._states.status(status.infohash) not in ACTIVE_STATUSES:
            return  # paused, error and the finish are decided here, not by a status tick
        values: dict[str, Any] = {"downloaded_bytes": status.downloaded_bytes, "progress": status.progress}
        if status.total_bytes:
            values["status"] = "downloading"
            values["total_bytes"] = status.total_bytes
        await self._states.set(status.infohash, **values)
        if self._engine.files(status.infohash) is not None:
            await self._states.files(status.infohash, self._engine.file_progress(status.infohash))

    # -- helpers ----------------------------------------------------------------------------

    def _name(self, infohash: str) -> str | None:
        status = self._engine.status(infohash)
        return status.name if status is not None and status.has_metadata else None

    def _engine_call(self, action: Any, infohash: str) -> None:
        try:
            action(infohash)
        except TorrentNotFound:
            log.info("torrent %s is not loaded; only its row changes", infohash)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _names(directory: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(directory)]
    except FileNotFoundError:
        return []


def reason(exc: Exception) -> str:
    """What went wrong, for the user: an OSError's or FFmpeg error's own words, without the
    host path it names (users see virtual library paths only)."""
    return getattr(exc, "strerror", None) or str(exc)
