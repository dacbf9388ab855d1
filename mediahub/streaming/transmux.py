"""Live transmux: any playable input to fragmented MP4, streamed while it is produced.

A `TransmuxJob` runs `remux.convert` in its own thread, reading through a byte source
(so a file still downloading works) and handing fMP4 chunks to the event loop through a
small bounded channel. `TranscodeLimiter` caps concurrent jobs; a request over the cap
gets `TranscodeBusy` at once rather than queueing behind a film-length job. `aclose()`
stops the thread promptly (a pending read fails, a blocked write returns) and the slot
is free again once the thread has let go of it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncIterator

import av

from mediahub.streaming.probe import UnplayableMedia, open_input, plan_container
from mediahub.streaming.remux import JobCancelled, convert
from mediahub.streaming.source import BlockingReader, ByteSource, FileSource

FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
CHANNEL_DEPTH = 32  # muxer writes (at most 32 KiB each) buffered between thread and response
MAX_CHUNK = 1 << 20
_END = object()


class TranscodeBusy(Exception):
    """Every transcode slot is taken: the API answers 503."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"All {limit} transcoding slots are in use; try again in a moment.")
        self.limit = limit


class TransmuxError(Exception):
    """The input could not be transmuxed (corrupt or unsupported); message is user-facing."""


class TranscodeLimiter:
    """At most `limit` jobs at once; thread-safe and never blocks."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        return self._active

    def try_acquire(self) -> None:
        with self._lock:
            if self._active >= self.limit:
                raise TranscodeBusy(self.limit)
            self._active += 1

    def release(self) -> None:
        with self._lock:
            self._active -= 1


class _Channel:
    """Thread-to-loop queue with backpressure; `close()` makes writers drop and return."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._space = threading.Semaphore(CHANNEL_DEPTH)
        self._closed = threading.Event()
        self._items: collections.deque[object] = collections.deque()
        self._ready = asyncio.Event()

    def put(self, item: object) -> None:
        """Worker side: blocks while the channel is full, drops silently once closed."""
        self._space.acquire()
        if not self._closed.is_set():
            try:
                self._loop.call_soon_threadsafe(self._push, item)
            except RuntimeError:  # the loop has closed: nobody will read this
                self._closed.set()

    def _push(self, item: object) -> None:
        self._items.append(item)
        self._ready.set()

    async def get(self) -> object:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        self._space.release()
        return self._items.popleft()

    def pending(self) -> bool:
        return bool(self._items)

    def close(self) -> None:
        self._closed.set()
        self._space.release(CHANNEL_DEPTH)  # wake a writer blocked on a full channel


class _ChannelWriter:
    """The file object the MP4 muxer writes into."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def write(self, data: bytes) -> int:
        self._channel.put(bytes(data))
        return len(data)


class TransmuxJob:
    """An fMP4 rendition of `source` from `start` seconds on; read it with `chunks()`.

    Raises `TranscodeBusy` when the limiter is full. The job owns a slot until `aclose()`
    (or the end of the stream); it does not close `source`.
    """

    def __init__(self, source: ByteSource, name: str, limiter: TranscodeLimiter, start: float = 0.0) -> None:
        limiter.try_acquire()
        self._loop = asyncio.get_running_loop()
        self._source = source
        self._name = name
        self._limiter = limiter
        self._start = max(0.0, start)
        self._stop = threading.Event()
        self._channel = _Channel(self._loop)
        self._reader = None if isinstance(source, FileSource) else BlockingReader(source, self._loop)
        self._end: object = None
        self._done = asyncio.Event()
        threading.Thread(target=self._run, name=f"transmux {name}", daemon=True).start()

    async def read(self) -> bytes:
        """Everything produced so far (waiting for at least one write), up to 1 MiB.

        Returns b"" at the end of the stream; raises `TransmuxError` if the job failed.
        """
        parts: list[bytes] = []
        size = 0
        while self._end is None and (not parts or self._channel.pending()) and size < MAX_CHUNK:
            item = await self._channel.get()
            if isinstance(item, bytes):
                parts.append(item)
                size += len(item)
            else:
                self._end = item
        if parts:
            return b"".join(parts)
        if isinstance(self._end, BaseException):
            raise self._end
        return b""

    async def chunks(self, prefetched: bytes = b"") -> AsyncIterator[bytes]:
        if prefetched:
            yield prefetched
        while chunk := await self.read():
            yield chunk

    async def aclose(self) -> None:
        """Stop the job now and wait until its thread has released the slot."""
        self._stop.set()
        self._channel.close()
        if self._reader is not None:
            self._reader.cancel()
        await self._done.wait()

    def _run(self) -> None:
        outcome: object = _END
        try:
            target = str(self._source.path) if isinstance(self._source, FileSource) else self._reader
            with open_input(target) as inp:
                plan = plan_container(inp, self._name)
                with av.open(_ChannelWriter(self._channel), "w", format="mp4", options=FRAGMENTED_MP4) as out:
                    convert(inp, plan, out, start=self._start, stop=self._stop)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the reader, never hang it
            if isinstance(exc, (av.FFmpegError, UnplayableMedia, OSError)):
                exc = TransmuxError(f"Cannot stream {self._name}: {exc}")
            outcome = None if self._stop.is_set() or isinstance(exc, JobCancelled) else exc
        finally:
            self._limiter.release()
            if outcome is not None:
                self._channel.put(outcome)
            with contextlib.suppress(RuntimeError):  # a closed loop has nobody waiting
                self._loop.call_soon_threadsafe(self._done.set)
