"""The streaming service on the Hub: what a stream request points at, and how to open it.

`Streaming.target()` says where the bytes of a resolved item (or episode) are: the finished library file, or a file of a torrent that may still
be downloading. `open()` gives a `ByteSource` for either; `plan()` decides (and remembers)
whether the browser takes the file as it is or needs a transmux. The transcode limiter and
the finalize queue live here too, so the HTTP layer and notebooks share them.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mediahub.db.database import Database
from mediahub.db.queries import torrents as queries
from mediahub.errors import NotFound
from mediahub.library import layout
from mediahub.library.resolver import MediaRef
from mediahub.settings import Settings
from mediahub.streaming.finalize import FinalizeResult, finalize
from mediahub.streaming.probe import MediaPlan, probe
from mediahub.streaming.source import ByteSource, FileSource
from mediahub.streaming.subtitles import Subtitle, read_manifest
from mediahub.streaming.transmux import TranscodeLimiter

if TYPE_CHECKING:
    from mediahub.torrents.client import TorrentClient

PLAN_CACHE_SIZE = 256
PROBE_LIMIT = 120.0  # seconds a background probe may wait for a file's header to download


class NotReady(Exception):
    """The bytes cannot be served yet (metadata unknown, first pieces missing): answer 202."""

    def __init__(self, message: str, progress: float) -> None:
        super().__init__(message)
        self.message = message
        self.progress = progress


@dataclass(frozen=True, slots=True)
class Target:
    """Where one stream's bytes are, as far as the database knows."""

    name: str  # file name; its extension names the container
    status: str  # DownloadStatus of the download that holds the file
    progress: float
    error: str | None
    library_file: Path | None  # the finished, browser-safe file (status "ready")
    infohash: str | None
    file_index: int | None


class Streaming:
    def __init__(self, db: Database, settings: Settings, engine: TorrentClient) -> None:
        self._db = db
        self.settings = settings
        self.engine = engine
        self.limiter = TranscodeLimiter(settings.max_transcodes)
        self._plans: collections.OrderedDict[tuple[Any, ...], MediaPlan] = collections.OrderedDict()
        self._probing: dict[tuple[Any, ...], asyncio.Task[MediaPlan]] = {}
        self._finalizing = asyncio.Semaphore(1)  # one finalize at a time: it may transcode a whole film

    async def target(self, ref: MediaRef) -> Target:
        """Where the item's (or its episode's) bytes are: the library file once ready, else the torrent's."""
        row = ref.episode if ref.episode is not None else ref.row
        if ref.episode is not None:
            torrent = await queries.of_download(self._db, row["download"]) if row["download"] else None
        else:
            torrent = await queries.of_media(self._db, ref.id)
        torrent = torrent or {}
        infohash = torrent.get("infohash")
        status = torrent.get("status") or "added"
        virtual, file_index = row["file_path"], row["file_index"]
        library_file = self._host_path(virtual) if status == "ready" and virtual else None
        return Target(
            name=PurePosixPath(virtual).name if library_file else self._torrent_file_name(infohash, file_index),
            status=status,
            progress=torrent.get("progress") or 0.0,
            error=torrent.get("error"),
            library_file=library_file,
            infohash=infohash,  # None: no download holds this episode (yet), open() says so
            file_index=file_index,
        )

    def _torrent_file_name(self, infohash: str | None, file_index: int | None) -> str:
        """The file's own name in the torrent (its extension names the container); "" if unknown."""
        if infohash is None or file_index is None or self.engine.status(infohash) is None:
            return ""
        file = next((f for f in self.engine.files(infohash) or () if f.index == file_index), None)
        return PurePosixPath(file.path).name if file else ""

    async def open(self, target: Target) -> ByteSource:
        """The finished file, or a reader of the torrent file that waits for its pieces."""
        if target.library_file is not None:
            try:
                return await FileSource.open(target.library_file)
            except FileNotFoundError:
                raise NotFound("The library file is missing on disk.") from None
        if target.infohash is None or target.file_index is None or not target.name:
            raise NotReady("The torrent's metadata is still being fetched.", target.progress)
        return self.engine.open_file(target.infohash, target.file_index)

    async def plan(self, target: Target, source: ByteSource, timeout: float) -> MediaPlan:
        """Direct or transmux, and per stream copy or convert; remembered per file.

        Probing a downloading file waits for its header pieces. It runs as a task of its
        own that outlives a request giving up after `timeout` (answering 202), so the
        player's retry finds it further along instead of starting over.
        """
        # A finished file is known by its validator (finalize replaces files, never edits them).
        key = (source.path, source.etag) if isinstance(source, FileSource) else (target.infohash, target.file_index)
        key += (target.name,)  # the extension is part of the verdict
        if (plan := self._plans.get(key)) is not None:
            self._plans.move_to_end(key)
            return plan
        task = self._probing.get(key)
        if task is None:
            task = self._probing[key] = asyncio.create_task(self._probe(key, target))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a later request reports it
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise NotReady("Waiting for the start of the file to arrive.", target.progress) from None

    async def _probe(self, key: tuple[Any, ...], target: Target) -> MediaPlan:
        try:
            source = await self.open(target)
            try:
                plan = await asyncio.wait_for(probe(source, target.name), PROBE_LIMIT)
            finally:
                source.close()
        finally:
            del self._probing[key]  # a failed probe is tried afresh by the next request
        self._plans[key] = plan
        if len(self._plans) > PLAN_CACHE_SIZE:
            self._plans.popitem(last=False)
        return plan

    async def close(self) -> None:
        """Stop background probes (transmux jobs end with their HTTP responses)."""
        for task in list(self._probing.values()):
            task.cancel()
        await asyncio.gather(*self._probing.values(), return_exceptions=True)

    async def subtitles(self, target: Target) -> list[Subtitle]:
        """The WebVTT tracks finalize extracted; none until the library file is ready."""
        return await asyncio.to_thread(read_manifest, target.library_file) if target.library_file else []

    async def finalize(self, source: Path, dest: Path, sidecars: Sequence[Path] = ()) -> FinalizeResult:
        """Make the library's browser-safe copy of a finished download (see `finalize.py`)."""
        async with self._finalizing:
            return await asyncio.to_thread(
                finalize, source, dest, keep_original=self.settings.keep_original, sidecars=sidecars
            )

    def _host_path(self, virtual: str) -> Path | None:
        try:
            return layout.host_path(self.settings.library_dir, virtual)
        except ValueError:  # not under /library, or escaping it (UnsafePath)
            return None
