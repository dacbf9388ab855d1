"""A finished torrent's library files: which to make for the items holding it, making them,
and pointing the items' rows at them (the file work itself is in `placing.py`)."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath

from mediahub.db.database import Database
from mediahub.db.queries import files as queries
from mediahub.downloads.placing import Finalizer, PlacedFiles, Placement, already_placed, free_destination, place
from mediahub.downloads.selection import sidecars_for, subtitle_files
from mediahub.library import layout
from mediahub.metadata.release import EpisodeFile
from mediahub.settings import Settings
from mediahub.torrents.client import TorrentClient
from mediahub.torrents.models import TorrentFile


class LibraryFiles:
    def __init__(self, db: Database, settings: Settings, engine: TorrentClient, finalize: Finalizer | None) -> None:
        self._db = db
        self._engine = engine
        self._finalize = finalize  # the streaming side's browser-safe remux; None: link as is
        self._library = settings.library_dir
        self.placed = PlacedFiles(settings.state_dir, settings.library_dir)

    async def place_all(self, infohash: str) -> bool:
        """Library files for every item holding the finished torrent; rows point at them.
        True when one of them is a converted copy rather than a link to the torrent's file."""
        mine = await self.placed.read(infohash)
        done: set[str] = set()
        for placement in await self._placements(infohash):
            virtual = await asyncio.to_thread(already_placed, placement.dest, self._library, mine)
            if virtual is None:
                placement.dest = free_destination(placement.dest, self._library, mine | done)
                path = await place(placement, self._library, self._finalize)
                virtual = layout.virtual(PurePosixPath(path.relative_to(self._library.resolve()).as_posix()))
                await self.placed.add(infohash, {virtual})
            done.add(virtual)
            size = (await asyncio.to_thread(layout.host_path(self._library, virtual).stat)).st_size
            await queries.placed(self._db, placement.media_ids, placement.episode_ids, virtual, size)
        return await asyncio.to_thread(self.placed.any_copy, done)

    async def all_placed(self, infohash: str) -> bool:
        """Every library file the torrent's items need exists already."""
        mine = await self.placed.read(infohash)
        for placement in await self._placements(infohash):
            if await asyncio.to_thread(already_placed, placement.dest, self._library, mine) is None:
                return False
        return True

    async def _placements(self, infohash: str) -> list[Placement]:
        files = {f.index: f for f in self._engine.files(infohash) or ()}
        subtitles = subtitle_files(tuple(files.values()))
        by_dest: dict[PurePosixPath, Placement] = {}

        def placement(video: TorrentFile, dest: PurePosixPath, episode: EpisodeFile | None) -> Placement:
            sidecars = tuple(self._engine.file_path(infohash, s.index) for s in sidecars_for(video.path, episode, subtitles))
            source = self._engine.file_path(infohash, video.index)
            return by_dest.setdefault(dest, Placement(source=source, dest=dest, sidecars=sidecars))

        for item in await queries.holding_items(self._db, infohash):
            if item["type"] == "movie" and item["file_index"] in files:
                video = files[item["file_index"]]
                dest = layout.movie_file(item["title"], item["year"], PurePosixPath(video.path).suffix)
                placement(video, dest, None).media_ids.append(item["id"])
                continue
            for file_index, numbers, season, title, episode_ids in await queries.episode_files(self._db, item["download_id"]):
                video = files.get(file_index)
                if video is None:
                    continue
                suffix = PurePosixPath(video.path).suffix
                dest = layout.episode_file(item["title"], item["year"], season, numbers, title, suffix)
                episode = EpisodeFile(file_index=file_index, path=video.path, size=video.size, season=season,
                                      episodes=tuple(numbers))  # fmt: skip
                placement(video, dest, episode).episode_ids.extend(episode_ids)
        return list(by_dest.values())
