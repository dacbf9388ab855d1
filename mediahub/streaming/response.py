"""Litestar responses that stream from a `ByteSource` or a chunk iterator.

`ranged_response` answers GET/HEAD for a directly playable file with 200/206/416 (and 304
for a matching `If-None-Match`), reading 1 MiB at a time off the event loop so memory per
request stays bounded. `ChunkStream` is the general streaming body: it watches the ASGI
`receive` channel, so a client that goes away cancels the body at once and its `close`
callback runs (releasing a file, piece deadlines or a transmux slot).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from email.utils import formatdate
from pathlib import PurePath
from typing import Any

import anyio
from litestar import Response
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from mediahub.conditional import if_range_holds, not_modified
from mediahub.streaming.ranges import RangeNotSatisfiable, parse_range
from mediahub.streaming.source import ByteSource

CHUNK_SIZE = 1 << 20

MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".vtt": "text/vtt",
}


def media_type_for(name: str | PurePath) -> str:
    """Content-Type from the file's extension (the container), octet-stream if unknown."""
    return MEDIA_TYPES.get(PurePath(name).suffix.lower(), "application/octet-stream")


class TruncatedSource(OSError):
    """The source ended before the bytes promised in Content-Length: drop the connection."""


class ChunkStream(Response[bytes]):
    """A response whose body is `chunks`; `close` always runs once the exchange is over."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        close: Callable[[], Awaitable[None] | None],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "application/octet-stream",
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=dict(headers or {}), media_type=media_type)
        self.chunks = chunks
        self.close = close

    def to_asgi_response(  # type: ignore[override]
        self,
        app: Any,
        request: Any,
        *,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        **_: Any,
    ) -> ASGIResponse:
        return _ASGIChunkStream(
            chunks=self.chunks,
            close=self.close,
            headers={**(headers or {}), **self.headers},
            is_head_response=is_head_response,
            media_type=str(self.media_type),
            status_code=self.status_code,
        )


class _ASGIChunkStream(ASGIResponse):
    __slots__ = ("chunks", "close")
    _should_set_content_length = False

    def __init__(
        self, *, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None] | None], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.chunks = chunks
        self.close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                aclose = getattr(self.chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
                result = self.close()
                if inspect.isawaitable(result):
                    await result

    async def send_body(self, send: Send, receive: Receive) -> None:
        async with anyio.create_task_group() as tg:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(watch_disconnect)
            async for chunk in self.chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            tg.cancel_scope.cancel()


async def read_range(source: ByteSource, start: int, length: int, prefetched: bytes = b"") -> AsyncIterator[bytes]:
    """Yield `length` bytes of `source` from `start`, in chunks of at most CHUNK_SIZE.

    `prefetched` is data already read at `start` (while checking the first bytes exist).
    """
    pos, end = start, start + length
    if prefetched:
        first = prefetched[:length]
        pos += len(first)
        yield first
    while pos < end:
        data = await source.read(pos, min(CHUNK_SIZE, end - pos))
        if not data:
            raise TruncatedSource(f"source ended at byte {pos} of {end}")
        pos += len(data)
        yield data


async def ranged_response(
    source: ByteSource,
    request_headers: Mapping[str, str],
    *,
    media_type: str,
    etag: str | None = None,
    last_modified: float | None = None,
    first_bytes_timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    """Answer a GET/HEAD for `source` honouring Range, If-Range and If-None-Match.

    Pass `etag`/`last_modified` only for finished files (they must not change while the
    client caches). With `first_bytes_timeout` (a file still downloading, GET only) the
    first chunk is read before answering and `TimeoutError` is raised if it takes longer,
    so the caller can say "not yet" instead of sending headers and then stalling.
    The response takes ownership of `source` and closes it when done (or on an error).
    `request_headers` must be case-insensitive (Litestar's `request.headers` is).
    """
    size = source.size
    common = {"accept-ranges": "bytes", **(headers or {})}
    if etag:
        common["etag"] = etag
    if last_modified is not None:
        common["last-modified"] = formatdate(last_modified, usegmt=True)

    if etag and not_modified(etag, request_headers.get("if-none-match")):
        source.close()
        return Response(b"", status_code=304, headers=common, media_type=media_type)

    range_header = request_headers.get("range")
    if_range = request_headers.get("if-range")
    if range_header and if_range is not None and not if_range_holds(if_range, etag, last_modified):
        range_header = None  # the client's copy is stale: send the whole new body
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable as exc:
        source.close()
        return Response(
            {"message": f"Requested range not satisfiable: the file has {size} bytes."},
            status_code=416,
            headers={**common, "content-range": exc.content_range},
            media_type="application/json",
        )

    if byte_range is None:
        start, length, status = 0, size, 200
    else:
        start, length, status = byte_range.start, byte_range.length, 206
        common["content-range"] = byte_range.content_range(size)
    common["content-length"] = str(length)
    prefetched = b""
    if first_bytes_timeout is not None and length:
        try:
            prefetched = await asyncio.wait_for(source.read(start, min(CHUNK_SIZE, length)), first_bytes_timeout)
        except BaseException:
            source.close()
            raise
    return ChunkStream(
        read_range(source, start, length, prefetched),
        close=source.close,
        status_code=status,
        headers=common,
        media_type=media_type,
    )
