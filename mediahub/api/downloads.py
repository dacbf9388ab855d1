"""Download routes: progress (JSON and server-sent events), retry, pause, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from litestar import Controller, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from mediahub.api.auth import ActorDep, HubDep
from mediahub.library.downloads import Downloads
from mediahub.library.progress import ProgressView


def _downloads(hub: HubDep) -> Downloads:
    assert hub.downloads is not None, "the hub is not started"
    return hub.downloads


class DownloadController(Controller):
    path = "/api/media/{media_id:str}"
    tags = ["downloads"]

    @get("/progress", summary="Download status, progress, speeds and peers (a show sums its downloads)")
    async def progress(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> ProgressView:
        return await _downloads(hub).progress(actor.profile_id, media_id)

    @get(
        "/progress/stream",
        summary="The same as server-sent `progress` events: at least once a second, ends on ready or error",
        media_type="text/event-stream",
    )
    async def progress_stream(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> ServerSentEvent:
        downloads = _downloads(hub)
        await downloads.progress(actor.profile_id, media_id)  # an unknown id is a 404, not an empty stream

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            async for view in downloads.progress_events(actor.profile_id, media_id):
                yield _message(view)

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store"})

    @post(
        "/retry",
        summary="Restart a failed download from its magnet",
        status_code=HTTP_202_ACCEPTED,
        responses={409: ResponseSpec(None, description="Nothing to retry: none of the item's downloads failed")},
    )
    async def retry(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> ProgressView:
        await _downloads(hub).retry(actor.profile_id, media_id)
        return await _downloads(hub).progress(actor.profile_id, media_id)

    @post(
        "/pause",
        summary="Pause the item's downloads",
        status_code=HTTP_204_NO_CONTENT,
        responses={409: ResponseSpec(None, description="Nothing to pause: the item's downloads are finished or failed")},
    )
    async def pause(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> None:
        await _downloads(hub).pause(actor.profile_id, media_id)

    @post(
        "/resume",
        summary="Resume the item's paused downloads",
        status_code=HTTP_204_NO_CONTENT,
        responses={409: ResponseSpec(None, description="Nothing to resume: the item's downloads are finished or failed")},
    )
    async def resume(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str]) -> None:
        await _downloads(hub).resume(actor.profile_id, media_id)


def _message(view: ProgressView) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=msgspec.json.encode(view).decode(), event="progress")
