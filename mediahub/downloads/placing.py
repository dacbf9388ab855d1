"""Putting a finished torrent's files into the library layout, and taking them out again.

Library files belong to the torrent, not to one profile's item: two profiles holding the
same torrent share its library files (one copy on disk), and they go only when the torrent
is released. The torrent's own files stay where libtorrent wrote them (it keeps seeding):
a library file is a hard link to them, or the browser-safe copy finalize makes. Which
library files a torrent placed is recorded in `state/placed/<infohash>.json`, because the
rows that knew it are gone by the time a torrent is released.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

import msgspec

from mediahub.library import layout
from mediahub.files import write_atomic


class Finalized(Protocol):
    path: Path


# (source, dest .mp4, subtitle sidecars) -> where the browser-safe file ended up.
Finalizer = Callable[[Path, Path, Sequence[Path]], Awaitable[Finalized]]


@dataclass
class Placement:
    """One library file to make from one file of the torrent."""

    source: Path
    dest: PurePosixPath  # relative to the library root
    sidecars: tuple[Path, ...] = ()
    media_ids: list[str] = field(default_factory=list)  # movies shown by this file
    episode_ids: list[str] = field(default_factory=list)  # episodes held by this file


class PlacedFiles:
    """The manifest of library files each torrent placed (virtual paths)."""

    def __init__(self, state_dir: Path, library_dir: Path) -> None:
        self.directory = state_dir / "placed"
        self.library_dir = library_dir

    async def read(self, infohash: str) -> set[str]:
        def load() -> set[str]:
            try:
                return set(msgspec.json.decode((self.directory / f"{infohash}.json").read_bytes(), type=list[str]))
            except FileNotFoundError:
                return set()

        return await asyncio.to_thread(load)

    async def add(self, infohash: str, virtual_paths: set[str]) -> None:
        placed = await self.read(infohash) | virtual_paths

        def save() -> None:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(self.directory / f"{infohash}.json", msgspec.json.encode(sorted(placed)), durable=True)

        await asyncio.to_thread(save)

    async def remove_all(self, infohash: str) -> None:
        """Delete the torrent's library files (with their subtitles) and empty folders."""
        placed = await self.read(infohash)
        await asyncio.to_thread(self._remove, placed)
        await asyncio.to_thread((self.directory / f"{infohash}.json").unlink, True)

    def any_copy(self, placed: set[str]) -> bool:
        """Whether one of these library files has no other link (a converted copy)."""
        for virtual_path in placed:
            try:
                if layout.host_path(self.library_dir, virtual_path).stat().st_nlink == 1:
                    return True
            except FileNotFoundError:
                continue
        return False

    def _remove(self, placed: set[str]) -> None:
        for virtual_path in placed:
            video = layout.host_path(self.library_dir, virtual_path)
            if video.parent.is_dir():
                for sibling in video.parent.iterdir():  # the video, its .vtt files and manifest
                    if sibling == video or sibling.name.startswith(video.stem + "."):
                        sibling.unlink(missing_ok=True)
            _prune_empty(video.parent, self.library_dir)


async def place(placement: Placement, library_dir: Path, finalize: Finalizer | None) -> Path:
    """Make the library file; returns its host path (finalize may change the suffix)."""
    dest = layout.host_path(library_dir, layout.virtual(placement.dest))
    await asyncio.to_thread(_remove_stale_temps, dest)
    if finalize is None:
        await asyncio.to_thread(_link_atomically, placement.source, dest)
        return dest
    # finalize consumes its source (renames or deletes it): hand it a link of the torrent's
    # file, so the torrent keeps its data for seeding and for the other profiles.
    staging = dest.with_name(f".{dest.stem}.source{placement.source.suffix}")
    await asyncio.to_thread(_link_atomically, placement.source, staging)
    try:
        result = await finalize(staging, dest.with_suffix(".mp4"), placement.sidecars)
    finally:
        await asyncio.to_thread(staging.unlink, True)
    return result.path


def already_placed(dest: PurePosixPath, library_dir: Path, mine: set[str]) -> str | None:
    """The torrent's existing library file for `dest` (finalize may have changed its suffix)."""
    for virtual_path in mine:
        placed = PurePosixPath(virtual_path)
        if placed.parent == layout.VIRTUAL_ROOT / dest.parent and placed.stem == dest.stem:
            if layout.host_path(library_dir, virtual_path).exists():
                return virtual_path
    return None


def free_destination(dest: PurePosixPath, library_dir: Path, mine: set[str]) -> PurePosixPath:
    """`dest`, or `dest (2)`, ... when another torrent's file already has that name."""
    candidate, n = dest, 1
    while layout.virtual(candidate) not in mine and _taken(library_dir, candidate):
        n += 1
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
    return candidate


def _taken(library_dir: Path, relative: PurePosixPath) -> bool:
    directory = layout.host_path(library_dir, layout.virtual(relative.parent))
    stem = relative.stem
    return directory.is_dir() and any(p.stem == stem for p in directory.iterdir())


def _remove_stale_temps(dest: Path) -> None:
    """Temp files an interrupted earlier attempt at `dest` left (the process was killed
    mid-finalize): `.<stem>.*.tmp` from finalize, `..<stem>.source*.tmp` from staging."""
    if not dest.parent.is_dir():
        return
    for sibling in dest.parent.iterdir():
        name = sibling.name
        if name.startswith(".") and name.endswith(".tmp") and name.lstrip(".").startswith(dest.stem + "."):
            sibling.unlink(missing_ok=True)


def _link_atomically(source: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) `source` to `dest` via a temp name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:
        shutil.copyfile(source, temp)
    os.replace(temp, dest)
    # When `dest` is already a link to the same file (left by an attempt killed mid-way),
    # rename(2) does nothing and leaves `temp` behind.
    temp.unlink(missing_ok=True)


def _prune_empty(directory: Path, root: Path) -> None:
    root = root.resolve()
    directory = directory.resolve()
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:  # not empty (or gone): stop here
            return
        directory = directory.parent
