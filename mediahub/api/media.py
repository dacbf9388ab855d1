"""Library routes: list, add, detail, delete, search, continue-watching, seasons, positions."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from mediahub.api.auth import ActorDep, HubDep, ItemDep, PlayableDep
from mediahub.conditional import not_modified
from mediahub.errors import BadRequest
from mediahub.library.media import LIST_LIMIT_MAX, SEARCH_LIMIT, SEARCH_LIMIT_MAX
from mediahub.library.views import (
    AddMedia,
    ContinueItem,
    MediaDetail,
    MediaListItem,
    PositionView,
    SearchHit,
    SeasonView,
    SetPosition,
)

TypeFilter = Annotated[str | None, QueryParameter(name="type", description="movie or tv")]
QueryParam = Annotated[str | None, QueryParameter(name="q", description="Search text, at least 2 characters")]
# Ranges are documented here and checked by the Library, so its 400 names the parameter.
ListLimit = Annotated[
    int | None,
    QueryParameter(
        name="limit",
        description="Page size; without it (and offset) the whole list",
        schema_extra={"minimum": 1, "maximum": LIST_LIMIT_MAX},
    ),
]
ListOffset = Annotated[
    int, QueryParameter(name="offset", description="Items to skip (newest first)", schema_extra={"minimum": 0})
]
SearchLimit = Annotated[
    int | None,
    QueryParameter(
        name="limit",
        description=f"Most hits to return (default {SEARCH_LIMIT})",
        schema_extra={"minimum": 1, "maximum": SEARCH_LIMIT_MAX},
    ),
]
TOTAL_COUNT = ResponseHeader(
    name="X-Total-Count",
    description="Items in the whole list (with the type filter), for paging",
    documentation_only=True,
    required=True,
)


class MediaController(Controller):
    path = "/api/media"
    tags = ["media"]

    @get("/", summary="List the library, newest first", response_headers=[TOTAL_COUNT])
    async def list_media(
        self,
        hub: HubDep,
        actor: ActorDep,
        request: Request,
        media_type: TypeFilter = None,
        limit: ListLimit = None,
        offset: ListOffset = 0,
    ) -> Response[list[MediaListItem]]:
        if limit is None and offset == 0:  # the whole list: kept as JSON until the library changes
            body, total, etag = await hub.library.list_json(actor.profile_id, media_type)
            headers = {"X-Total-Count": str(total), "ETag": etag, "Cache-Control": "private, no-cache"}
            if not_modified(etag, request.headers.get("if-none-match")):
                return Response(b"", status_code=304, headers=headers)
            return Response(body, media_type="application/json", headers=headers)
        items, total = await hub.library.list(actor.profile_id, media_type, limit=limit, offset=offset)
        return Response(items, headers={"X-Total-Count": str(total)})

    @post("/", summary="Add a magnet link (201 new, 200 already there)", status_code=HTTP_201_CREATED)
    async def add_media(self, hub: HubDep, actor: ActorDep, data: JSONBody[AddMedia]) -> Response[MediaDetail]:
        added = await hub.library.add(actor.profile_id, data)
        return Response(added.media, status_code=HTTP_201_CREATED if added.created else HTTP_200_OK)

    @get("/search", summary="Search titles (case-insensitive substring, best match first)")
    async def search(
        self, hub: HubDep, actor: ActorDep, q: QueryParam = None, media_type: TypeFilter = None, limit: SearchLimit = None
    ) -> list[SearchHit]:
        return await hub.library.search(actor.profile_id, q, media_type, limit=limit)

    @get("/continue-watching", summary="Started but unfinished items, most recently played first")
    async def continue_watching(self, hub: HubDep, actor: ActorDep) -> list[ContinueItem]:
        return await hub.library.continue_watching(actor.profile_id)

    @get("/{media_id:str}", summary="One item in detail")
    async def get_media(self, hub: HubDep, item: ItemDep) -> MediaDetail:
        return await hub.library.detail(item)

    @delete("/{media_id:str}", summary="Delete an item, its downloads and files")
    async def delete_media(self, hub: HubDep, item: ItemDep) -> None:
        await hub.library.delete(item)

    @get("/{media_id:str}/seasons", summary="Seasons and episodes of a show")
    async def seasons(self, hub: HubDep, item: ItemDep) -> list[SeasonView]:
        return await hub.library.seasons(item)

    @get("/{media_id:str}/position", summary="Saved play position")
    async def get_position(self, hub: HubDep, playable: PlayableDep) -> PositionView:
        return await hub.library.position(playable)

    @put("/{media_id:str}/position", summary="Save the play position", status_code=204)
    async def put_position(
        self, hub: HubDep, actor: ActorDep, media_id: FromPath[str], data: JSONBody[SetPosition]
    ) -> None:
        ref = await hub.resolver.resolve(actor.profile_id, media_id, data.episode_id, episode_required=True)
        await hub.library.set_position(ref, data)

    @post(
        "/{media_id:str}/position",
        summary="Save the play position (also a text/plain JSON body, for navigator.sendBeacon)",
        status_code=204,
    )
    async def post_position(self, hub: HubDep, actor: ActorDep, media_id: FromPath[str], request: Request) -> None:
        try:
            update = msgspec.json.decode(await request.body(), type=SetPosition)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"The position is not valid: {exc}.") from None
        except msgspec.DecodeError:
            raise BadRequest("The body must be JSON like {\"position\": 12.5}.") from None
        ref = await hub.resolver.resolve(actor.profile_id, media_id, update.episode_id, episode_required=True)
        await hub.library.set_position(ref, update)
