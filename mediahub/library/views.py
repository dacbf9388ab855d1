"""What the library shows: msgspec structs shared by the HTTP API and the notebook widgets.

Field names follow API.md (camelCase on the wire via `rename="camel"`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

MediaType = Literal["movie", "tv"]
DownloadStatus = Literal["added", "downloading", "completed", "ready", "paused", "error"]
ACTIVE_STATUSES = frozenset({"added", "downloading"})
# A show has no single position: each episode has its own, in GET /api/media/{id}/seasons.
PLAY_POSITION = "Seconds into a movie (0 if never played); null for a show: episodes' positions are in /seasons"
PLAY_DURATION = "The movie's duration as its player reported it (null if unknown); null for a show"


def image_url(row: dict[str, Any], kind: str) -> str | None:
    """Our cached copy once we have it; until then the URL the artwork comes from."""
    if row.get(f"{kind}_cached"):
        return f"/api/images/{row['id']}/{kind}.jpg"
    return row.get(f"{kind}_url")


class View(msgspec.Struct, rename="camel", omit_defaults=False):
    pass


class MediaListItem(View):
    id: str
    type: str
    title: str
    year: int | None
    status: str
    progress: float
    tmdb_id: int | None
    poster_url: str | None
    runtime: int | None
    added_at: str


class DownloadView(View):
    id: str
    infohash: str
    magnet_link: str
    name: str | None
    status: str
    progress: float
    added_at: str


class MediaDetail(View):
    id: str
    type: str
    title: str
    year: int | None
    overview: str | None
    genres: list[str]
    certification: str | None
    tmdb_id: int | None
    imdb_id: str | None
    poster_url: str | None
    backdrop_url: str | None
    runtime: int | None
    status: str
    progress: float
    magnet_link: str | None
    infohash: str | None
    file_path: str | None
    file_size: int | None
    added_at: str
    last_played_at: str | None
    play_position: Annotated[float | None, msgspec.Meta(description=PLAY_POSITION)]
    play_duration: Annotated[float | None, msgspec.Meta(description=PLAY_DURATION)]
    error: str | None
    peers: int = 0  # connected now, over the item's running downloads
    stalled_since: str | None = None  # as in the progress view: queued, and no peer since then
    # Shows only (left out of a movie's JSON).
    season_count: int | None | msgspec.UnsetType = msgspec.UNSET
    episode_count: int | None | msgspec.UnsetType = msgspec.UNSET
    downloads: list[DownloadView] | msgspec.UnsetType = msgspec.UNSET


class SearchHit(View):
    id: str
    title: str
    type: str
    year: int | None


class ContinueItem(View):
    id: str
    type: str
    title: str
    year: int | None
    poster_url: str | None
    play_position: float
    play_duration: float | None
    last_played_at: str
    episode_id: str | None | msgspec.UnsetType = msgspec.UNSET
    season_number: int | None | msgspec.UnsetType = msgspec.UNSET
    episode_number: int | None | msgspec.UnsetType = msgspec.UNSET
    episode_title: str | None | msgspec.UnsetType = msgspec.UNSET


class EpisodeView(View):
    id: str
    season_id: str
    episode_number: int
    title: str | None
    file_path: str | None
    file_index: int | None
    play_position: float
    play_duration: float | None
    status: str
    progress: float
    download_id: str | None
    file_size: int | None


class SeasonView(View):
    id: str
    media_id: str
    season_number: int
    name: str | None
    episodes: list[EpisodeView]


class PositionView(View):
    position: float
    duration: float | None


# ---- what callers send ------------------------------------------------------------------

class AddMedia(msgspec.Struct, rename="camel", forbid_unknown_fields=False):
    """Body of POST /api/media (and the keyword arguments of `Library.add`)."""

    magnet_link: str
    type: MediaType | None = None
    tmdb_id: int | None = None
    title: str | None = None
    year: int | None = None
    poster_url: str | None = None
    backdrop_url: str | None = None
    overview: str | None = None
    genres: list[str] | None = None
    certification: str | None = None


class SetPosition(msgspec.Struct, rename="camel"):
    position: float
    duration: float | None = None
    episode_id: str | None = None
