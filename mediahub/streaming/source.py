"""Byte sources: what the streaming code reads from, whether a finished file or a torrent.

A `ByteSource` has a known `size` and an async `read(offset, n)`. A finished file is a
`FileSource`; a file still downloading is the torrent engine's reader, which waits for the
pieces a read needs. The response builder and the transmuxer only see the protocol, so
both kinds stream the same way. `BlockingReader` lets PyAV (which wants a blocking
file object in its worker thread) read any source through the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio.to_thread

from mediahub.conditional import file_etag


@runtime_checkable
class ByteSource(Protocol):
    """Random-access bytes of one file.

    `read` returns at most `n` bytes starting at `offset` (fewer only near the end or when
    a torrent reader hands over what has arrived so far; `b""` only at/after the end).
    `close` releases what the reader holds (file handle, piece deadlines) without
    blocking. `mediahub.torrents.reader.FileReader` is the downloading-file source.
    """

    @property
    def size(self) -> int: ...

    async def read(self, offset: int, n: int) -> bytes: ...

    def close(self) -> None: ...


class FileSource:
    """A file on local disk, read with `os.pread` in a worker thread (safe to share)."""

    def __init__(self, path: Path, fd: int, stat: os.stat_result) -> None:
        self.path = path
        self._fd: int | None = fd
        self._stat = stat

    @classmethod
    async def open(cls, path: Path | str) -> FileSource:
        """Open `path` off the event loop; raises FileNotFoundError like `open()`."""
        path = Path(path)

        def _open() -> tuple[int, os.stat_result]:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            try:
                return fd, os.fstat(fd)
            except BaseException:
                os.close(fd)
                raise

        fd, stat = await anyio.to_thread.run_sync(_open)
        return cls(path, fd, stat)

    @property
    def size(self) -> int:
        return self._stat.st_size

    @property
    def mtime(self) -> float:
        return self._stat.st_mtime

    @property
    def etag(self) -> str:
        return file_etag(self._stat)

    async def read(self, offset: int, n: int) -> bytes:
        if self._fd is None:
            raise ValueError("read from a closed FileSource")
        if offset >= self.size or n <= 0:
            return b""
        return await anyio.to_thread.run_sync(os.pread, self._fd, n, offset)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class BlockingReader(io.RawIOBase):
    """A blocking, seekable file object over a `ByteSource`, for PyAV in a worker thread.

    Each read is run on `loop` and waited for. `cancel()` (from any thread) ends the read
    in progress and every later one at once with end-of-file, so a job blocked on a slow
    torrent ends promptly when its client disconnects. (EOF rather than an exception:
    FFmpeg cannot pass a Python exception through, and whoever cancelled ignores the
    result anyway.)
    """

    def __init__(self, source: ByteSource, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._source = source
        self._loop = loop
        self._pos = 0
        self._cancelled = threading.Event()
        self._pending: concurrent.futures.Future[bytes] | None = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            if self._pending is not None:
                self._pending.cancel()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._source.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = max(0, self._source.size - self._pos)
        with self._lock:
            if self._cancelled.is_set():
                return b""
            future = asyncio.run_coroutine_threadsafe(self._source.read(self._pos, n), self._loop)
            self._pending = future
        try:
            data = future.result()
        except concurrent.futures.CancelledError:
            return b""
        finally:
            with self._lock:
                self._pending = None
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
