"""Download routes: progress (JSON and server-sent events), retry, pause, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from litestar import Controller, get, post
from litestar.openapi import ResponseSpec
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from mediahub.api.auth import HubDep, ItemDep
from mediahub.downloads.progress import ProgressView


class DownloadController(Controller):
    path = "/api/media/{media_id:str}"
    tags = ["downloads"]

    @get("/progress", summary="Download status, progress, speeds and peers (a show sums its downloads)")
    async def progress(self, hub: HubDep, item: ItemDep) -> ProgressView:
        return await hub.downloads.progress(item)

    @get(
        "/progress/stream",
        summary="The same as server-sent `progress` events: at least once a second, ends on ready or error",
        media_type="text/event-stream",
    )
    async def progress_stream(self, hub: HubDep, item: ItemDep) -> ServerSentEvent:
        async def events() -> AsyncIterator[ServerSentEventMessage]:
            async for view in hub.downloads.progress_events(item):
                yield _message(view)

        return ServerSentEvent(events(), headers={"Cache-Control": "no-store"})

    @post(
        "/retry",
        summary="Restart a failed download from its magnet",
        status_code=HTTP_202_ACCEPTED,
        responses={409: ResponseSpec(None, description="Nothing to retry: none of the item's downloads failed")},
    )
    async def retry(self, hub: HubDep, item: ItemDep) -> ProgressView:
        await hub.downloads.retry(item)
        return await hub.downloads.progress(item)

    @post(
        "/pause",
        summary="Pause the item's downloads",
        status_code=HTTP_204_NO_CONTENT,
        responses={409: ResponseSpec(None, description="Nothing to pause: the item's downloads are finished or failed")},
    )
    async def pause(self, hub: HubDep, item: ItemDep) -> None:
        await hub.downloads.pause(item)

    @post(
        "/resume",
        summary="Resume the item's paused downloads",
        status_code=HTTP_204_NO_CONTENT,
        responses={409: ResponseSpec(None, description="Nothing to resume: the item's downloads are finished or failed")},
    )
    async def resume(self, hub: HubDep, item: ItemDep) -> None:
        await hub.downloads.resume(item)


def _message(view: ProgressView) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=msgspec.json.encode(view).decode(), event="progress")
