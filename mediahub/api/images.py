"""Cached artwork: GET/HEAD /api/images/{mediaId}/{poster|backdrop}.jpg, scoped to the profile.

`<img>` tags cannot send headers, so `?token=` is accepted here. Images never change once
stored, so they are cached long by the browser (privately: they sit behind a token).
"""

from __future__ import annotations

import asyncio

from litestar import Controller, HttpMethod, Request, Response, route
from litestar.params import FromPath

from mediahub.api.auth import QUERY_TOKEN, HubDep, ItemDep
from mediahub.conditional import file_etag, not_modified
from mediahub.errors import NotFound
from mediahub.metadata.images import image_type

CACHE_CONTROL = "private, max-age=31536000"


class ImageController(Controller):
    path = "/api/images"
    tags = ["images"]

    @route(
        "/{media_id:str}/{file_name:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt=QUERY_TOKEN,
        summary="A media item's poster.jpg or backdrop.jpg (also ?token=)",
        media_type="image/jpeg",  # what the schema documents; the answer names the real type
    )
    async def image(self, hub: HubDep, item: ItemDep, request: Request, file_name: FromPath[str]) -> Response[bytes]:
        kind, dot, ext = file_name.partition(".")
        if dot != "." or ext != "jpg":
            raise NotFound("Image not found.")
        path = await hub.enricher.cached_image(item, kind)
        etag = file_etag(await asyncio.to_thread(path.stat))
        headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if not_modified(etag, request.headers.get("if-none-match")):
            return Response(b"", status_code=304, headers=headers)
        data = await asyncio.to_thread(path.read_bytes)
        return Response(data, media_type=image_type(data[:16]) or "image/jpeg", headers=headers)
