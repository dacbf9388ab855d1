"""TMDB's answers as its API sends them (v3 JSON), decoded strictly by msgspec.

Only the fields we read are declared; `tmdb.py` turns these into our own structs.
"""

from __future__ import annotations

import msgspec


class Named(msgspec.Struct):
    name: str = ""


class SearchItem(msgspec.Struct):
    id: int
    title: str | None = None  # movies
    name: str | None = None  # tv
    release_date: str | None = None
    first_air_date: str | None = None
    overview: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    popularity: float = 0.0


class SearchPage(msgspec.Struct):
    results: list[SearchItem] = []


class ReleaseDate(msgspec.Struct):
    certification: str = ""
    type: int = 0


class CountryReleases(msgspec.Struct):
    iso_3166_1: str
    release_dates: list[ReleaseDate] = []


class ReleaseDates(msgspec.Struct):
    results: list[CountryReleases] = []


class Movie(msgspec.Struct):
    id: int
    title: str = ""
    release_date: str | None = None
    overview: str | None = None
    genres: list[Named] = []
    runtime: int | None = None
    imdb_id: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    release_dates: ReleaseDates | None = None


class ContentRating(msgspec.Struct):
    iso_3166_1: str
    rating: str = ""


class ContentRatings(msgspec.Struct):
    results: list[ContentRating] = []


class ExternalIds(msgspec.Struct):
    imdb_id: str | None = None


class Season(msgspec.Struct):
    season_number: int
    name: str | None = None
    episode_count: int | None = None
    air_date: str | None = None


class Show(msgspec.Struct):
    id: int
    name: str = ""
    first_air_date: str | None = None
    overview: str | None = None
    genres: list[Named] = []
    episode_run_time: list[int] = []
    poster_path: str | None = None
    backdrop_path: str | None = None
    seasons: list[Season] = []
    content_ratings: ContentRatings | None = None
    external_ids: ExternalIds | None = None


class Episode(msgspec.Struct):
    episode_number: int
    name: str | None = None
    overview: str | None = None
    air_date: str | None = None
    runtime: int | None = None


class SeasonDetails(msgspec.Struct):
    season_number: int
    name: str | None = None
    overview: str | None = None
    air_date: str | None = None
    episodes: list[Episode] = []
