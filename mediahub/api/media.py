"""Library routes: list, add, detail, delete, search, continue-watching, seasons, positions."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import Provide
from litestar.di import NamedDependency
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from mediahub.errors import BadRequest
from mediahub.api.auth import ActorDep, HubDep
from mediahub.library.media import LIST_LIMIT_MAX, SEARCH_LIMIT, SEARCH_LIMIT_MAX, Library
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

LibraryDep = NamedDependency[Library]
TypeFilter = Annotated[str | None, QueryParameter(name="type", description="movie or tv")]
QueryParam = Annotated[str | None, QueryParameter(name="q", description="Search text, at least 2 characters")]
EpisodeParam = Annotated[str | None, QueryParameter(name="episodeId", description="Episode id (TV shows)")]
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


def provide_library(hub: HubDep, actor: ActorDep) -> Library:
    return hub.library_for(actor.profile_id)


class MediaController(Controller):
    path = "/api/media"
    tags = ["media"]
    dependencies = {"library": Provide(provide_library, sync_to_thread=False)}

    @get("/", summary="List the library, newest first", response_headers=[TOTAL_COUNT])
    async def list_media(
        self, library: LibraryDep, media_type: TypeFilter = None, limit: ListLimit = None, offset: ListOffset = 0
    ) -> Response[list[MediaListItem]]:
        items = await library.list(media_type, limit=limit, offset=offset)
        paged = limit is not None or offset != 0
        total = await library.count(media_type) if paged else len(items)
        return Response(items, headers={"X-Total-Count": str(total)})

    @post("/", summary="Add a magnet link (201 new, 200 already there)", status_code=HTTP_201_CREATED)
    async def add_media(self, library: LibraryDep, data: JSONBody[AddMedia]) -> Response[MediaDetail]:
        added = await library.add(data)
        return Response(added.media, status_code=HTTP_201_CREATED if added.created else HTTP_200_OK)

    @get("/search", summary="Search titles (case-insensitive substring, best match first)")
    async def search(
        self, library: LibraryDep, q: QueryParam = None, media_type: TypeFilter = None, limit: SearchLimit = None
    ) -> list[SearchHit]:
        return await library.search(q, media_type, limit=limit)

    @get("/continue-watching", summary="Started but unfinished items, most recently played first")
    async def continue_watching(self, library: LibraryDep) -> list[ContinueItem]:
        return await library.continue_watching()

    @get("/{media_id:str}", summary="One item in detail")
    async def get_media(self, library: LibraryDep, media_id: FromPath[str]) -> MediaDetail:
        return await library.get(media_id)

    @delete("/{media_id:str}", summary="Delete an item, its downloads and files")
    async def delete_media(self, library: LibraryDep, media_id: FromPath[str]) -> None:
        await library.delete(media_id)

    @get("/{media_id:str}/seasons", summary="Seasons and episodes of a show")
    async def seasons(self, library: LibraryDep, media_id: FromPath[str]) -> list[SeasonView]:
        return await library.seasons(media_id)

    @get("/{media_id:str}/position", summary="Saved play position")
    async def get_position(self, library: LibraryDep, media_id: FromPath[str], episode_id: EpisodeParam = None) -> PositionView:
        return await library.position(media_id, episode_id)

    @put("/{media_id:str}/position", summary="Save the play position", status_code=204)
    async def put_position(self, library: LibraryDep, media_id: FromPath[str], data: JSONBody[SetPosition]) -> None:
        await library.set_position(media_id, data)

    @post(
        "/{media_id:str}/position",
        summary="Save the play position (also a text/plain JSON body, for navigator.sendBeacon)",
        status_code=204,
    )
    async def post_position(self, library: LibraryDep, media_id: FromPath[str], request: Request) -> None:
        try:
            update = msgspec.json.decode(await request.body(), type=SetPosition)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"The position is not valid: {exc}.") from None
        except msgspec.DecodeError:
            raise BadRequest("The body must be JSON like {\"position\": 12.5}.") from None
        await library.set_position(media_id, update)
