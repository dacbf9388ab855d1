"""One Hub per data dir: an exclusive lock on `<data dir>/mediahub.lock`.

Two torrent engines on one data dir would run two libtorrent sessions over the same
`downloads/` and resume data: every torrent twice, two writers on one file. `uvicorn
--workers 2` does exactly that, so the second process stops at start with a message
instead. The kernel drops a `flock` when its process ends, however it ends (SIGKILL too),
so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from mediahub.errors import MediahubError

LOCK_NAME = "mediahub.lock"


class DataDirBusy(MediahubError):
    """Another process holds the data dir."""

    status_code = 503


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (writing our pid into the file), or raise DataDirBusy at once."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirBusy(
                f"Another mediahub process (pid {holder}) already runs on the data dir {self.path.parent}. "
                "One process per data dir: run uvicorn without --workers (or with --workers 1), "
                "or give this process its own MEDIAHUB_DATA_DIR."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None
