"""Downloads: library items on one side, the torrent engine on the other (`hub.downloads`).

- A library add (`DownloadAdded`) starts the torrent, or joins it when another profile has
  it already, under `downloads/<infohash>`.
- Once the metadata is known every item holding the torrent picks its files
  (`selection.py`); the union is downloaded and every other file gets priority 0 before a
  byte of it arrives. Movie fields, seasons and episodes are written then.
- Engine status goes to the `Torrent` row and per-episode progress about once a second,
  and out as `TorrentChanged` (SSE streams and widgets listen).
- Finished: `completed`, files placed into the library layout (`placing.py`), `ready`.
  When a library file had to be converted (an MKV became an MP4), the torrent's original
  would double the disk space: unless `MEDIAHUB_KEEP_ORIGINAL` asks to keep it, the torrent
  then stops seeding and its download folder goes. Hard-linked files cost nothing extra, so
  such torrents keep theirs.
- `TorrentReleased` (no item holds it any more): the torrent goes with its data and its
  library files. On start, unfinished torrents are added again from their resume data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections import defaultdict
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path, PurePosixPath
from typing import Any

from mediahub.db.tables import Download, Episode, Media, Season, Torrent
from mediahub.errors import Conflict, NotFound
from mediahub.events import (
    DownloadAdded,
    EpisodesChanged,
    EventBus,
    Subscription,
    TorrentChanged,
    TorrentHolderLeft,
    TorrentReleased,
)
from mediahub.ids import new_id, utcnow
from mediahub.library import layout
from mediahub.library.placing import Finalizer, Placement, PlacedFiles, already_placed, free_destination, place
from mediahub.library.progress import ProgressView, summarise
from mediahub.library.resolve import media_row
from mediahub.library.selection import NoVideo, select, sidecars_for, subtitle_files
from mediahub.library.status import torrents_by_media
from mediahub.library.views import ACTIVE_STATUSES
from mediahub.metadata.release import EpisodeFile, detect_type, parse_release
from mediahub.settings import Settings
from mediahub.torrents.engine import TorrentEngine
from mediahub.torrents.errors import TorrentNotFound, TorrentStartFailed
from mediahub.torrents.events import EventStream
from mediahub.torrents.magnet import InvalidMagnet, parse_magnet
from mediahub.torrents.models import StatusUpdated, TorrentFailed, TorrentFile, TorrentFinished, TorrentStatus
from mediahub.torrents.paths import join_inside, without_format_characters

log = logging.getLogger(__name__)

NORMAL_PRIORITY = 4
PROGRESS_INTERVAL = 1.0  # seconds between progress events of an SSE stream
_RESTARTABLE = ("added", "downloading", "paused", "completed")


class Downloads:
    def __init__(self, settings: Settings, bus: EventBus, engine: TorrentEngine, *, finalize: Finalizer | None = None):
        self.settings = settings
        self.engine = engine
        self.finalize = finalize  # the streaming side's browser-safe remux; None: link as is
        self._bus = bus
        self._placed = PlacedFiles(settings.state_dir, settings.library_dir)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last: dict[str, tuple[str, float]] = {}  # infohash -> last (status, progress) announced
        self._tasks: set[asyncio.Task[None]] = set()
        self._events: EventStream | None = None

    async def start(self) -> None:
        self._bus.on(DownloadAdded, self._on_download_added)
        self._bus.on(TorrentReleased, self._on_released)
        self._bus.on(TorrentHolderLeft, self._on_holder_left)
        self._events = self.engine.subscribe(kinds=(StatusUpdated, TorrentFinished, TorrentFailed))
        self._spawn(self._follow_engine(self._events))
        for row in await Torrent.select(Torrent.infohash, Torrent.magnet_link).where(Torrent.status.is_in(_RESTARTABLE)):
            await self._start(row["infohash"], row["magnet_link"])
        if not self.settings.keep_original:
            self._spawn(self._drop_leftover_originals())

    async def close(self) -> None:
        if self._events is not None:
            self._events.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- what the API and notebooks call ---------------------------------------------------

    async def progress(self, profile_id: str, media_id: str) -> ProgressView:
        media = await media_row(profile_id, media_id)
        rows = await _downloads(media["id"])
        return summarise(rows, [self.engine.status(row["infohash"]) for row in rows], media["file_path"])

    async def progress_events(self, profile_id: str, media_id: str) -> AsyncIterator[ProgressView]:
        """The progress now, then at least once a second and on every change; ends after a
        terminal status (ready, error) or when the item is deleted."""
        with self._bus.subscribe() as changes:
            while True:
                try:
                    view = await self.progress(profile_id, media_id)
                    hashes = {row["infohash"] for row in await self._torrents_of(profile_id, media_id)}
                except NotFound:
                    return
                yield view
                if view.terminal:
                    return
                await _next_change(changes, hashes, PROGRESS_INTERVAL)

    async def pause(self, profile_id: str, media_id: str) -> None:
        """Pause for this profile; the shared torrent stops once every holder paused it."""
        rows = await self._torrents_of(profile_id, media_id)
        if not any(row["status"] in ACTIVE_STATUSES | {"paused"} for row in rows):
            raise Conflict("Nothing to pause: the download is not running.")
        await self._set_paused([row for row in rows if row["status"] in ACTIVE_STATUSES], True)

    async def resume(self, profile_id: str, media_id: str) -> None:
        rows = await self._torrents_of(profile_id, media_id)
        if not any(row["status"] in ACTIVE_STATUSES | {"paused"} for row in rows):
            raise Conflict("Nothing to resume: the download is not paused.")
        await self._set_paused([row for row in rows if row["status"] == "paused"], False)

    async def _set_paused(self, rows: list[dict[str, Any]], paused: bool) -> None:
        if rows:
            await Download.update({Download.paused: paused}).where(Download.id.is_in([row["id"] for row in rows]))
        for infohash in {row["infohash"] for row in rows}:
            await self._apply_pauses(infohash)
            # This profile's status changed even while the shared torrent runs on for others:
            # say so now, so its progress stream does not wait for the next tick.
            await self._announce(infohash, always=True)

    async def _apply_pauses(self, infohash: str) -> None:
        """Run the shared torrent while any holder wants it; pause it when all paused it."""
        async with self._locks[infohash]:
            holders = await Download.select(Download.paused).where(Download.infohash == infohash)
            row = await Torrent.select(Torrent.status).where(Torrent.infohash == infohash).first()
            if row is None or not holders:
                return
            everyone = all(holder["paused"] for holder in holders)
            if everyone and row["status"] in ACTIVE_STATUSES:
                self._engine_call(self.engine.pause, infohash)
                await self._set(infohash, status="paused")
            elif not everyone and row["status"] == "paused":
                self._engine_call(self.engine.resume, infohash)
                await self._set(infohash, status=self._active_status(infohash))

    async def retry(self, profile_id: str, media_id: str) -> None:
        """Start a failed download again from its magnet (verified pieces are kept)."""
        rows = [row for row in await self._torrents_of(profile_id, media_id) if row["status"] == "error"]
        if not rows:
            raise Conflict("Only a failed download can be retried.")
        for row in rows:
            await self._set(row["infohash"], status="added", error=None)
            if self.engine.status(row["infohash"]) is not None:
                self.engine.resume(row["infohash"])
            await self._start(row["infohash"], row["magnet_link"])

    # -- torrent life cycle -----------------------------------------------------------------

    async def _on_holder_left(self, event: TorrentHolderLeft) -> None:
        await self._apply_pauses(event.infohash)  # maybe only profiles that paused it remain

    async def _on_download_added(self, event: DownloadAdded) -> None:
        await self._start(event.infohash, event.magnet_link)
        await self._apply_pauses(event.infohash)  # a new holder wants a torrent the others paused

    async def _start(self, infohash: str, magnet_link: str) -> None:
        """Add the torrent to the engine; one that cannot start fails its items, nothing else
        (a row stored by an older version with a magnet we now refuse must not stop a start)."""
        row = await Torrent.select(Torrent.status).where(Torrent.infohash == infohash).first()
        paused = row is not None and row["status"] == "paused"
        save_path = join_inside(self.settings.downloads_dir, infohash)
        try:
            await self.engine.add(parse_magnet(magnet_link), save_path, paused=paused)
        except (InvalidMagnet, TorrentStartFailed) as exc:
            await self._fail_start(infohash, str(exc))
            return
        except Exception as exc:
            log.exception("torrent %s could not start", infohash)
            await self._fail_start(infohash, f"The download could not start: {_reason(exc)}.")
            return
        self._spawn(self._prepare_when_known(infohash))

    async def _fail_start(self, infohash: str, message: str) -> None:
        log.warning("torrent %s could not start: %s", infohash, message)
        await self._set(infohash, status="error", error=message)

    async def _prepare_when_known(self, infohash: str) -> None:
        try:
            await self.engine.wait_metadata(infohash, timeout=None)  # a dead magnet waits here
        except TorrentNotFound:
            return
        await self._prepare(infohash)

    async def _prepare(self, infohash: str) -> None:
        """Choose files for every item holding the torrent, write their rows, download."""
        async with self._locks[infohash]:
            files = self.engine.files(infohash) or ()
            try:
                wanted, videos = await self._map_items(infohash, files)
            except NoVideo as exc:
                await self._set(infohash, status="error", error=str(exc))
                return
            if not wanted:
                return  # released meanwhile
            self.engine.set_file_priorities(infohash, {index: NORMAL_PRIORITY for index in wanted})
            for index in videos[:1]:  # what a viewer most likely plays first
                self.engine.prefetch(infohash, index)
            row = await Torrent.select(Torrent.status).where(Torrent.infohash == infohash).first()
            total = sum(f.size for f in files if f.index in wanted)
            status = row["status"] if row and row["status"] != "added" else "downloading"
            await self._set(infohash, status=status, total_bytes=total, name=self._name(infohash))
            engine_status = self.engine.status(infohash)
            finished = engine_status is not None and engine_status.finished
            # Joined a finished torrent: place this item's files now if they can be. When the
            # torrent's own copy went after finishing (see `_retire`), a library file that is
            # not there yet waits for the torrent to download again.
            placeable = status == "completed" or finished or (status == "ready" and await self._all_placed(infohash))
        if placeable:
            self._spawn(self._finish(infohash))

    async def _finish(self, infohash: str) -> None:
        async with self._locks[infohash]:
            row = await Torrent.select().where(Torrent.infohash == infohash).first()
            if row is None or self.engine.status(infohash) is None:
                return  # released, or finished and retired already (a second finish event)
            if row["status"] != "ready":
                await self._set(infohash, status="completed", progress=100.0,
                                downloaded_bytes=row["total_bytes"] or 0, completed_at=row["completed_at"] or utcnow())  # fmt: skip
            try:
                await self._map_items(infohash, self.engine.files(infohash) or ())
                converted = await self._place_all(infohash)
            except Exception as exc:
                log.exception("placing the files of %s failed", infohash)
                await self._set(infohash, status="error", error=f"The library file could not be prepared: {_reason(exc)}.")
                return
            await self._set(infohash, status="ready", error=None)
        if converted and not self.settings.keep_original:
            self._spawn(self._retire(infohash))

    async def _retire(self, infohash: str) -> None:
        """Drop a ready torrent's own copy once nobody streams from it: new plays come from
        the library file, but a player that started during the download reads the torrent."""
        try:
            await self.engine.until_unread(infohash)
        except TorrentNotFound:
            return  # released meanwhile
        async with self._locks[infohash]:
            row = await Torrent.select(Torrent.status).where(Torrent.infohash == infohash).first()
            if row is not None and row["status"] == "ready":
                await self._drop_download(infohash)

    async def _drop_leftover_originals(self) -> None:
        """Originals of converted ready torrents that are still on disk: the server stopped
        between `ready` and `_retire`, or MEDIAHUB_KEEP_ORIGINAL was on back then. A converted
        library file is the only name of its data (one link); a linked one has two."""
        on_disk = set(await asyncio.to_thread(_names, self.settings.downloads_dir))
        for row in await Torrent.select(Torrent.infohash).where(Torrent.status == "ready"):
            infohash = row["infohash"]
            if infohash in on_disk and self.engine.status(infohash) is None:
                placed = await self._placed.read(infohash)
                if await asyncio.to_thread(self._placed.any_copy, placed):
                    await self._drop_download(infohash)

    async def _on_released(self, event: TorrentReleased) -> None:
        infohash = event.infohash
        async with self._locks[infohash]:
            await self._drop_download(infohash)
            await self._placed.remove_all(infohash)
        self._locks.pop(infohash, None)
        self._last.pop(infohash, None)

    async def _drop_download(self, infohash: str) -> None:
        """The torrent leaves the engine with its files and resume data."""
        await self.engine.remove(infohash, delete_files=True)
        directory = join_inside(self.settings.downloads_dir, infohash)
        await asyncio.to_thread(shutil.rmtree, directory, True)

    # -- engine events ----------------------------------------------------------------------

    async def _follow_engine(self, events: EventStream) -> None:
        async for event in events:
            try:
                if isinstance(event, StatusUpdated):
                    await self._on_status(event.status)
                elif isinstance(event, TorrentFinished):
                    self._spawn(self._finish(event.infohash))
                elif isinstance(event, TorrentFailed):
                    await self._set(event.infohash, status="error", error=event.message)
            except Exception:
                log.exception("could not record %r", event)

    async def _on_status(self, status: TorrentStatus) -> None:
        row = await Torrent.select(Torrent.status).where(Torrent.infohash == status.infohash).first()
        if row is None or row["status"] not in ACTIVE_STATUSES:
            return  # paused, error and the finish are decided here, not by a status tick
        values: dict[str, Any] = {"downloaded_bytes": status.downloaded_bytes, "progress": status.progress}
        if status.total_bytes:
            values["status"] = "downloading"
            values["total_bytes"] = status.total_bytes
        await self._set(status.infohash, **values)
        await self._record_episode_progress(status.infohash)

    async def _record_episode_progress(self, infohash: str) -> None:
        downloads = [d["id"] for d in await Download.select(Download.id).where(Download.infohash == infohash)]
        if not downloads or self.engine.files(infohash) is None:
            return
        progress = self.engine.file_progress(infohash)
        episodes = await Episode.select(Episode.id, Episode.file_index, Episode.progress).where(
            Episode.download.is_in(downloads))
        for episode in episodes:
            value = progress.get(episode["file_index"])
            if value is not None and value != episode["progress"]:
                await Episode.update({Episode.progress: value}).where(Episode.id == episode["id"])

    # -- rows ---------------------------------------------------------------------------------

    async def _map_items(self, infohash: str, files: tuple[TorrentFile, ...]) -> tuple[set[int], list[int]]:
        """Write every holding item's file rows; returns the union of wanted file indexes
        and the video files in viewing order (a movie's feature, a show's first episode)."""
        wanted: set[int] = set()
        videos: list[int] = []
        name = self._name(infohash)
        for download in await Download.select().where(Download.infohash == infohash):
            media = await Media.select().where(Media.id == download["media"]).first()
            if media is None:
                continue
            media = await self._name_unnamed(media, infohash, name)
            media = await self._detect_type_again(media, download["name"] or name, files)
            hint = download["name"] or name or media["title"]
            selection = await asyncio.to_thread(select, files, media["type"], hint)
            wanted |= selection.wanted
            videos += [selection.movie.index] if selection.movie else [e.file_index for e in selection.episodes]
            if selection.movie is not None:
                await self._map_movie(media, selection.movie)
            else:
                await self._map_show(media, download["id"], selection.episodes)
        return wanted, videos

    async def _name_unnamed(self, media: dict[str, Any], infohash: str, name: str | None) -> dict[str, Any]:
        """An item added from a magnet without a name gets one from the torrent."""
        if media["title"] != infohash or not name:
            return media
        release = parse_release(name)
        title = release.title or without_format_characters(name).strip() or infohash
        await Media.update({Media.title: title, Media.year: release.year}).where(Media.id == media["id"])
        return {**media, "title": title, "year": release.year}

    async def _detect_type_again(
        self, media: dict[str, Any], name: str | None, files: tuple[TorrentFile, ...]
    ) -> dict[str, Any]:
        """A type guessed from the magnet's name alone gets a second look at the file names
        (S01E02, 1x02, Season 1): a season pack named like a movie becomes a show. A movie
        match TMDB found meanwhile was for the wrong kind: it goes, and is looked up again."""
        if not media["type_detected"] or media["type"] != "movie":
            return media
        if await asyncio.to_thread(detect_type, name, [f.path for f in files]) != "tv":
            return media
        values = {Media.type: "tv", Media.tmdb_id: None, Media.imdb_id: None, Media.overview: None,
                  Media.certification: None, Media.runtime: None, Media.genres: "[]"}  # fmt: skip
        await Media.update(values).where(Media.id == media["id"])
        log.info("%s is a show after all (its file names say so)", media["id"])
        return {**media, **{column._meta.name: value for column, value in values.items()}}

    async def _map_movie(self, media: dict[str, Any], video: TorrentFile) -> None:
        planned = layout.virtual(layout.movie_file(media["title"], media["year"], PurePosixPath(video.path).suffix))
        await Media.update({Media.file_index: video.index}).where(Media.id == media["id"])
        # Once planned (or placed: a finalized file has its own size), path and size stay.
        await Media.update({Media.file_path: planned, Media.file_size: video.size}).where(
            (Media.id == media["id"]) & Media.file_path.is_null())

    async def _map_show(self, media: dict[str, Any], download_id: str, episodes: tuple[EpisodeFile, ...]) -> None:
        media_id = media["id"]
        seasons = {s["season_number"]: s["id"] for s in await Season.select(Season.id, Season.season_number).where(
            Season.media == media_id)}
        existing = {(e["season"], e["episode_number"]): e for e in await Episode.select(
            Episode.id, Episode.season, Episode.episode_number, Episode.download, Episode.file_path).where(
            Episode.media == media_id)}
        for file in episodes:
            if file.season not in seasons:
                seasons[file.season] = new_id()
                await Season.insert(Season(id=seasons[file.season], media=media_id, season_number=file.season))
            planned = layout.virtual(layout.episode_file(
                media["title"], media["year"], file.season, file.episodes, None, PurePosixPath(file.path).suffix))
            values = {Episode.download: download_id, Episode.file_index: file.file_index, Episode.file_size: file.size}
            for number in file.episodes:
                row = existing.get((seasons[file.season], number))
                if row is None:
                    await Episode.insert(Episode(id=new_id(), media=media_id, season=seasons[file.season],
                                                 episode_number=number, download=download_id,
                                                 file_index=file.file_index, file_size=file.size, file_path=planned))
                elif row["download"] in (None, download_id):  # another download's episode stays its own
                    update = {**values, Episode.file_path: row["file_path"] or planned}
                    if row["file_path"]:  # planned or placed already: a finalized file has its own size
                        del update[Episode.file_size]
                    await Episode.update(update).where(Episode.id == row["id"])
        counts = {Media.season_count: await Season.count().where(Season.media == media_id),
                  Media.episode_count: await Episode.count().where(Episode.media == media_id)}
        await Media.update(counts).where(Media.id == media_id)
        await self._bus.publish(EpisodesChanged(media_id=media_id))

    async def _place_all(self, infohash: str) -> bool:
        """Library files for every item holding the finished torrent; rows point at them.
        True when one of them is a converted copy rather than a link to the torrent's file."""
        mine = await self._placed.read(infohash)
        placed: set[str] = set()
        library = self.settings.library_dir
        for placement in await self._placements(infohash):
            virtual = await asyncio.to_thread(already_placed, placement.dest, library, mine)
            if virtual is None:
                placement.dest = free_destination(placement.dest, library, mine | placed)
                path = await place(placement, library, self.finalize)
                virtual = layout.virtual(PurePosixPath(path.relative_to(library.resolve()).as_posix()))
                await self._placed.add(infohash, {virtual})
            placed.add(virtual)
            size = (await asyncio.to_thread(layout.host_path(library, virtual).stat)).st_size
            if placement.media_ids:
                await Media.update({Media.file_path: virtual, Media.file_size: size}).where(
                    Media.id.is_in(placement.media_ids))
            if placement.episode_ids:
                await Episode.update({Episode.file_path: virtual, Episode.file_size: size, Episode.progress: 100.0}).where(
                    Episode.id.is_in(placement.episode_ids))
        return await asyncio.to_thread(self._placed.any_copy, placed)

    async def _all_placed(self, infohash: str) -> bool:
        """Every library file the torrent's items need exists already."""
        mine = await self._placed.read(infohash)
        for placement in await self._placements(infohash):
            if await asyncio.to_thread(already_placed, placement.dest, self.settings.library_dir, mine) is None:
                return False
        return True

    async def _placements(self, infohash: str) -> list[Placement]:
        files = {f.index: f for f in self.engine.files(infohash) or ()}
        by_dest: dict[PurePosixPath, Placement] = {}

        def placement(index: int, dest: PurePosixPath, sidecars: list[TorrentFile]) -> Placement:
            source = self.engine.file_path(infohash, index)
            paths = tuple(self.engine.file_path(infohash, s.index) for s in sidecars)
            return by_dest.setdefault(dest, Placement(source=source, dest=dest, sidecars=paths))

        for download in await Download.select().where(Download.infohash == infohash):
            media = await Media.select().where(Media.id == download["media"]).first()
            if media is None:
                continue
            subtitles = subtitle_files(tuple(files.values()))
            if media["type"] == "movie" and media["file_index"] in files:
                video = files[media["file_index"]]
                dest = layout.movie_file(media["title"], media["year"], PurePosixPath(video.path).suffix)
                placement(video.index, dest, sidecars_for(video.path, None, subtitles)).media_ids.append(media["id"])
                continue
            for file_index, numbers, season, title, episode_ids in await _episode_files(download["id"]):
                video = files.get(file_index)
                if video is None:
                    continue
                suffix = PurePosixPath(video.path).suffix
                dest = layout.episode_file(media["title"], media["year"], season, numbers, title, suffix)
                episode = EpisodeFile(file_index=file_index, path=video.path, size=video.size, season=season,
                                      episodes=tuple(numbers))
                placement(file_index, dest, sidecars_for(video.path, episode, subtitles)).episode_ids.extend(episode_ids)
        return list(by_dest.values())

    # -- helpers ------------------------------------------------------------------------------

    async def _set(self, infohash: str, **values: Any) -> None:
        """Update the torrent row; announce a changed status or progress on the bus."""
        if not values:
            return
        await Torrent.update({getattr(Torrent, k): v for k, v in values.items()}).where(Torrent.infohash == infohash)
        await self._announce(infohash)

    async def _announce(self, infohash: str, *, always: bool = False) -> None:
        """Publish `TorrentChanged` when the torrent's status or progress changed (or `always`)."""
        row = await Torrent.select(Torrent.status, Torrent.progress).where(Torrent.infohash == infohash).first()
        if row is None:
            return
        now = (row["status"], row["progress"])
        if always or self._last.get(infohash) != now:
            self._last[infohash] = now
            await self._bus.publish(TorrentChanged(infohash=infohash, status=now[0], progress=now[1]))

    def _active_status(self, infohash: str) -> str:
        status = self.engine.status(infohash)
        return "downloading" if status is not None and status.has_metadata else "added"

    def _name(self, infohash: str) -> str | None:
        status = self.engine.status(infohash)
        return status.name if status is not None and status.has_metadata else None

    def _engine_call(self, action: Any, infohash: str) -> None:
        try:
            action(infohash)
        except TorrentNotFound:
            log.info("torrent %s is not loaded; only its row changes", infohash)

    async def _torrents_of(self, profile_id: str, media_id: str) -> list[dict[str, Any]]:
        return await _downloads((await media_row(profile_id, media_id))["id"])

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _names(directory: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(directory)]
    except FileNotFoundError:
        return []


def _reason(exc: Exception) -> str:
    """What went wrong, for the user: an OSError's or FFmpeg error's own words, without the
    host path it names (users see virtual library paths only)."""
    return getattr(exc, "strerror", None) or str(exc)


async def _episode_files(download_id: str) -> list[tuple[int, list[int], int, str | None, list[str]]]:
    """Per file of a download: (file index, episode numbers, season, title if one episode, episode ids)."""
    rows = await Episode.select(Episode.id, Episode.file_index, Episode.episode_number, Episode.title,
                                Episode.season.season_number.as_alias("season_number")).where(
        Episode.download == download_id).order_by(Episode.episode_number)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["file_index"] is not None:
            grouped[row["file_index"]].append(row)
    return [
        (index, [r["episode_number"] for r in group], group[0]["season_number"],
         group[0]["title"] if len(group) == 1 else None, [r["id"] for r in group])
        for index, group in grouped.items()
    ]


async def _downloads(media_id: str) -> list[dict[str, Any]]:
    """The item's downloads with their torrents' state, status as this profile sees it."""
    return (await torrents_by_media(media_id)).get(media_id, [])


async def _next_change(changes: Subscription, hashes: set[str], timeout: float) -> None:
    """Wait until one of `hashes` changes, at most `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async for event in changes:
                if isinstance(event, TorrentChanged) and event.infohash in hashes:
                    return
    except TimeoutError:
        pass
