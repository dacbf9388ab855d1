"""Streaming routes: GET|HEAD /api/media/{id}/stream and the WebVTT subtitle routes.

Browser-playable files (finished or downloading) go out with byte ranges; anything else is
transmuxed live to fragmented MP4. A file still downloading answers 202 with `Retry-After`
when its first bytes are not there within `MEDIAHUB_STREAM_WAIT` seconds; HEAD waits at
most HEAD_WAIT. `?token=` is accepted, since `<video>` and `<track>` cannot send headers.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

import av
import msgspec
from litestar import Controller, HttpMethod, Request, Response, get, route
from litestar.params import FromPath, QueryParameter

from mediahub.api.auth import QUERY_TOKEN, HubDep, PlayableDep
from mediahub.errors import BadRequest, NotFound, Unavailable
from mediahub.library.positions import MAX_SECONDS
from mediahub.streaming.probe import UnplayableMedia
from mediahub.streaming.response import ChunkStream, media_type_for, ranged_response
from mediahub.streaming.service import NotReady, Streaming, Target
from mediahub.streaming.source import ByteSource, FileSource
from mediahub.streaming.transmux import TranscodeBusy, TransmuxError, TransmuxJob

HEAD_WAIT = 1.0
RETRY_AFTER_SECONDS = 2
StartParam = Annotated[
    float | None, QueryParameter(name="start", description="Transmuxed streams: begin at this many seconds")
]


class SubtitleView(msgspec.Struct, rename="camel"):
    id: str
    language: str | None
    label: str
    source: str
    is_default: bool
    src: str


class StreamController(Controller):
    path = "/api/media/{media_id:str}"
    tags = ["streaming"]

    @route(
        "/stream",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt=QUERY_TOKEN,
        summary="The video: byte ranges when playable as is, else live fragmented MP4 (also ?token=)",
        media_type="video/mp4",  # what the schema documents; a direct WebM says video/webm
        status_code=200,
    )
    async def stream(
        self,
        hub: HubDep,
        playable: PlayableDep,
        request: Request,
        start: StartParam = None,
    ) -> Response[Any]:
        if start is not None and not 0 <= start <= MAX_SECONDS:  # NaN fails both comparisons
            raise BadRequest(f"'start' must be a number of seconds from 0 to {MAX_SECONDS}.")
        streaming: Streaming = hub.streaming
        target = await streaming.target(playable)
        if target.status == "error":
            raise Unavailable(f"The download failed: {target.error or 'unknown error'}")
        head = request.method == HttpMethod.HEAD
        wait = min(HEAD_WAIT, hub.settings.stream_wait) if head else hub.settings.stream_wait
        try:
            source = await streaming.open(target)
        except NotReady as exc:
            return _accepted(exc.message, exc.progress)
        try:  # from here on `source` is closed by the response, or below if there is none
            plan = await streaming.plan(target, source, wait)
            if plan.direct:
                return await _ranged(request, target, source, None if head or target.library_file else wait)
            if head:
                source.close()
                return Response(b"", media_type="video/mp4", headers=TRANSMUX_HEADERS)
            return await _transmux(streaming, target, source, start or 0.0, wait)
        except NotReady as exc:
            source.close()
            return _accepted(exc.message, exc.progress)
        except (av.FFmpegError, UnplayableMedia) as exc:
            source.close()
            raise Unavailable(f"This file cannot be played: {exc}") from None
        except BaseException:
            source.close()
            raise

    @get("/subtitles", opt=QUERY_TOKEN, summary="Text subtitle tracks as WebVTT (also ?token=)")
    async def subtitles(self, hub: HubDep, playable: PlayableDep) -> list[SubtitleView]:
        target = await hub.streaming.target(playable)
        query = f"?episodeId={quote(playable.episode_key, safe='')}" if playable.episode_key else ""
        return [
            SubtitleView(
                s.id, s.language, s.label, s.source, s.default, f"/api/media/{playable.id}/subtitles/{s.id}{query}"
            )
            for s in await hub.streaming.subtitles(target)
        ]

    @route(
        "/subtitles/{subtitle_id:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt=QUERY_TOKEN,
        summary="One subtitle track (text/vtt, also ?token=)",
        media_type="text/vtt",
    )
    async def subtitle(
        self,
        hub: HubDep,
        playable: PlayableDep,
        request: Request,
        subtitle_id: FromPath[str],
    ) -> Response[Any]:
        target = await hub.streaming.target(playable)
        track = next((s for s in await hub.streaming.subtitles(target) if s.id == subtitle_id), None)
        if track is None or target.library_file is None:
            raise NotFound("Subtitle not found.")
        try:
            source = await FileSource.open(target.library_file.with_name(track.file))
        except FileNotFoundError:
            raise NotFound("Subtitle not found.") from None
        return await ranged_response(
            source, request.headers, media_type="text/vtt; charset=utf-8", etag=source.etag, last_modified=source.mtime
        )


TRANSMUX_HEADERS = {"accept-ranges": "none", "cache-control": "no-store"}


async def _ranged(request: Request, target: Target, source: ByteSource, wait: float | None) -> Response[Any]:
    finished = isinstance(source, FileSource)
    try:
        return await ranged_response(
            source,
            request.headers,
            media_type=media_type_for(target.name),
            etag=source.etag if finished else None,
            last_modified=source.mtime if finished else None,
            first_bytes_timeout=wait,
        )
    except TimeoutError:
        raise NotReady("Waiting for the pieces at this position to arrive.", target.progress) from None


async def _transmux(streaming: Streaming, target: Target, source: ByteSource, start: float, wait: float) -> Response:
    try:
        job = TransmuxJob(source, target.name, streaming.limiter, start=start)
    except TranscodeBusy as exc:
        source.close()
        raise Unavailable(str(exc), headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None

    async def close() -> None:
        await job.aclose()
        source.close()

    try:
        first = await asyncio.wait_for(job.read(), wait)
    except TimeoutError:
        await close()
        raise NotReady("Waiting for enough of the file to start the stream.", target.progress) from None
    except TransmuxError as exc:
        await close()
        raise Unavailable(str(exc)) from None
    return ChunkStream(job.chunks(first), close=close, headers=TRANSMUX_HEADERS, media_type="video/mp4")


def _accepted(message: str, progress: float) -> Response[dict[str, Any]]:
    return Response(
        {"message": message, "progress": progress},
        status_code=202,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        media_type="application/json",
    )
