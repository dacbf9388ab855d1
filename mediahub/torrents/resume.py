"""Resume data on disk: one bencoded file per torrent under `state_dir/resume`.

libtorrent's resume data holds the verified-piece bitfield, file priorities and the info
dict, so a restarted engine neither re-downloads pieces nor waits for metadata again.
Writes go to a temp file that is fsynced and renamed, so a crash (even SIGKILL mid-write)
leaves either the previous or the new file, never half of one.
"""

from __future__ import annotations

import re
from pathlib import Path

from mediahub.files import write_atomic

_INFOHASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class ResumeStore:
    """Blocking file operations; the engine calls them from worker threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load(self, infohash: str) -> bytes | None:
        try:
            return self._path(infohash).read_bytes()
        except FileNotFoundError:
            return None

    def save(self, infohash: str, data: bytes) -> None:
        write_atomic(self._path(infohash), data, durable=True)  # a lost file means downloading again

    def delete(self, infohash: str) -> None:
        self._path(infohash).unlink(missing_ok=True)

    def _path(self, infohash: str) -> Path:
        if not _INFOHASH.fullmatch(infohash):
            raise ValueError(f"not an info-hash: {infohash!r}")
        return self.directory / f"{infohash}.fastresume"
