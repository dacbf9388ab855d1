"""The dashboard's one door into the library: the HTTP API through `hub.client`, in-process.

Each call is a request to the same route a browser or the CLI uses, as the dashboard's
profile (`X-Profile-Id`), decoded into the API's own structs. An error answer raises the
`MediahubError` of its status code with the server's sentence, which the widgets show.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import msgspec

from mediahub.api.client import raise_for_error
from mediahub.library.profiles import TokenView
from mediahub.downloads.progress import ProgressView
from mediahub.library.views import ContinueItem, MediaDetail, MediaListItem, PositionView, SeasonView

T = TypeVar("T")


class LibraryClient:
    """One profile's library, as the HTTP API serves it."""

    def __init__(self, client: httpx.AsyncClient, profile_id: str) -> None:
        self.profile_id = profile_id
        self._client = client
        self._headers = {"X-Profile-Id": profile_id}

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._client.request(method, path, headers=self._headers, **kwargs)
        raise_for_error(response)
        return response

    async def _get(self, path: str, answer: type[T], **params: str) -> T:
        response = await self._send("GET", path, params=params)
        return msgspec.json.decode(response.content, type=answer)

    async def add(self, magnet_link: str) -> tuple[MediaDetail, bool]:
        """The item, and whether it is new (201) rather than already there (200)."""
        response = await self._send("POST", "/api/media", json={"magnetLink": magnet_link})
        return msgspec.json.decode(response.content, type=MediaDetail), response.status_code == 201

    async def list(self) -> list[MediaListItem]:
        return await self._get("/api/media", list[MediaListItem])

    async def get(self, media_id: str) -> MediaDetail:
        return await self._get(f"/api/media/{media_id}", MediaDetail)

    async def progress(self, media_id: str) -> ProgressView:
        return await self._get(f"/api/media/{media_id}/progress", ProgressView)

    async def pause(self, media_id: str) -> None:
        await self._send("POST", f"/api/media/{media_id}/pause")

    async def resume(self, media_id: str) -> None:
        await self._send("POST", f"/api/media/{media_id}/resume")

    async def delete(self, media_id: str) -> None:
        await self._send("DELETE", f"/api/media/{media_id}")

    async def continue_watching(self) -> list[ContinueItem]:
        return await self._get("/api/media/continue-watching", list[ContinueItem])

    async def seasons(self, media_id: str) -> list[SeasonView]:
        return await self._get(f"/api/media/{media_id}/seasons", list[SeasonView])

    async def position(self, media_id: str, episode_id: str | None) -> PositionView:
        return await self._get(f"/api/media/{media_id}/position", PositionView, **_episode(episode_id))

    async def serves_ranges(self, media_id: str, episode_id: str | None) -> bool:
        """Whether the stream is a file served with byte ranges (API.md: HEAD says so, quickly)."""
        head = await self._client.head(f"/api/media/{media_id}/stream", params=_episode(episode_id), headers=self._headers)
        return head.status_code == 200 and head.headers.get("accept-ranges") == "bytes"

    async def create_token(self, label: str) -> TokenView:
        """A token bound to this profile (the owner's right: `hub.client` acts as the owner)."""
        response = await self._send("POST", f"/api/profiles/{self.profile_id}/tokens", json={"label": label})
        return msgspec.json.decode(response.content, type=TokenView)

    async def delete_token(self, token_id: str) -> None:
        await self._send("DELETE", f"/api/tokens/{token_id}")


def _episode(episode_id: str | None) -> dict[str, str]:
    return {"episodeId": episode_id} if episode_id else {}
