"""The narrow interface services use to reach the torrent engine.

Downloads and streaming depend on this protocol, not on `TorrentEngine`'s internals, so the
engine could live in another process or on another node (DESIGN.md, "Beyond one machine")
with a client that speaks the same calls. Everything crossing it is a plain value
(`mediahub.torrents.models`), or a reader that is a `ByteSource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from mediahub.torrents.events import EventStream
from mediahub.torrents.magnet import Magnet
from mediahub.torrents.models import TorrentFile, TorrentStatus
from mediahub.torrents.reader import FileReader


class TorrentClient(Protocol):
    async def add(self, magnet: Magnet, save_path: Path, *, paused: bool = False) -> TorrentStatus:
        """Start (or keep) downloading the magnet; idempotent per info-hash."""

    async def remove(self, infohash: str, *, delete_files: bool) -> None: ...

    def pause(self, infohash: str) -> None: ...

    def resume(self, infohash: str) -> None: ...

    def status(self, infohash: str) -> TorrentStatus | None:
        """The latest status (about once a second), None when the torrent is not running."""

    def files(self, infohash: str) -> tuple[TorrentFile, ...] | None:
        """The file list, None while the metadata is unknown."""

    async def wait_metadata(self, infohash: str, timeout: float | None) -> tuple[TorrentFile, ...]: ...

    def set_file_priorities(self, infohash: str, priorities: Mapping[int, int]) -> None:
        """Which files to download ({index: 1-7}); the others get nothing."""

    def prefetch(self, infohash: str, file_index: int) -> None:
        """Fetch the pieces a player asks for first (the file's head and tail)."""

    def file_progress(self, infohash: str) -> dict[int, float]: ...

    def file_path(self, infohash: str, file_index: int) -> Path: ...

    def open_file(self, infohash: str, file_index: int) -> FileReader:
        """A reader of one file that fetches the pieces it reads first."""

    async def until_unread(self, infohash: str) -> None:
        """Return once no reader of the torrent is open."""

    def subscribe(self, infohash: str | None = None, kinds: tuple[type, ...] | None = None) -> EventStream: ...
