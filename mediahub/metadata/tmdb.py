"""Async TMDB client: the few v3 endpoints enrichment needs, as small msgspec structs.

One `httpx.AsyncClient` is shared with the rest of the Hub (connection pooling); this
class only adds TMDB auth, retries and a small TTL cache. TMDB answers 429 when we go
too fast and 5xx when it has a bad moment: both are retried with backoff, honouring
`Retry-After` up to a cap, so a burst of adds never turns into a burst of failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import OrderedDict
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import msgspec

from mediahub.metadata import tmdb_wire as wire
from mediahub.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class TmdbError(Exception):
    """TMDB could not give us an answer; the message is safe to show (no API key in it)."""


class TmdbNotFound(TmdbError):
    """TMDB has no such id (404). Retrying will not help."""


class TmdbAuthError(TmdbError):
    """TMDB refused our key (401). Retrying will not help either."""


class TmdbUnavailable(TmdbError):
    """Timeouts, connection errors, 429/5xx after all retries: worth trying again later."""


# --- what we use from TMDB ----------------------------------------------------------------

class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title: str
    year: int | None = None
    overview: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    popularity: float = 0.0


class MovieDetails(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title: str
    year: int | None = None
    overview: str | None = None
    genres: tuple[str, ...] = ()
    runtime: int | None = None
    certification: str | None = None
    imdb_id: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None


class SeasonSummary(msgspec.Struct, frozen=True, kw_only=True):
    season_number: int
    name: str | None = None
    episode_count: int = 0
    air_date: str | None = None


class ShowDetails(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title: str
    year: int | None = None
    overview: str | None = None
    genres: tuple[str, ...] = ()
    episode_runtime: int | None = None
    certification: str | None = None
    imdb_id: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    seasons: tuple[SeasonSummary, ...] = ()


class EpisodeInfo(msgspec.Struct, frozen=True, kw_only=True):
    episode_number: int
    name: str | None = None
    overview: str | None = None
    air_date: str | None = None
    runtime: int | None = None


class SeasonDetails(msgspec.Struct, frozen=True, kw_only=True):
    season_number: int
    name: str | None = None
    overview: str | None = None
    air_date: str | None = None
    episodes: tuple[EpisodeInfo, ...] = ()


# --- TMDB's wire shapes (only the fields we read) -----------------------------------------

class TmdbClient:
    """TMDB v3 over a shared httpx client.

    `api_key` is either a v3 key (sent as the `api_key` query parameter) or a v4 read
    access token (a long JWT, sent as `Authorization: Bearer`).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = "https://api.themoviedb.org/3",
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        cache_ttl: float = 3600.0,
        cache_size: int = 512,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._retries = retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, Any]] = OrderedDict()
        if _is_v4_token(api_key):
            self._auth_headers = {"Authorization": f"Bearer {api_key}"}
            self._auth_params: dict[str, str] = {}
        else:
            self._auth_headers = {}
            self._auth_params = {"api_key": api_key}
            logging.getLogger("httpx").addFilter(_REDACT_API_KEY)  # idempotent

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> TmdbClient | None:
        """The client for these settings, or None when no key is configured."""
        if not settings.tmdb_api_key:
            return None
        timeout = settings.tmdb_timeout
        return cls(http, api_key=settings.tmdb_api_key, base_url=settings.tmdb_base_url, timeout=timeout,
                   backoff=timeout / 20)  # fmt: skip

    async def search_movie(self, title: str, year: int | None = None) -> list[SearchResult]:
        params = {"query": title, **({"year": str(year)} if year else {})}
        page = await self._get("/search/movie", params, wire.SearchPage)
        return [_search_result(item) for item in page.results]

    async def search_tv(self, title: str, year: int | None = None) -> list[SearchResult]:
        params = {"query": title, **({"first_air_date_year": str(year)} if year else {})}
        page = await self._get("/search/tv", params, wire.SearchPage)
        return [_search_result(item) for item in page.results]

    async def movie(self, tmdb_id: int) -> MovieDetails:
        raw = await self._get(f"/movie/{int(tmdb_id)}", {"append_to_response": "release_dates"}, wire.Movie)
        return MovieDetails(
            id=raw.id,
            title=raw.title,
            year=_year(raw.release_date),
            overview=raw.overview or None,
            genres=tuple(g.name for g in raw.genres if g.name),
            runtime=raw.runtime or None,
            certification=_us_certification(raw.release_dates),
            imdb_id=raw.imdb_id or None,
            poster_path=raw.poster_path,
            backdrop_path=raw.backdrop_path,
        )

    async def tv(self, tmdb_id: int) -> ShowDetails:
        params = {"append_to_response": "content_ratings,external_ids"}
        raw = await self._get(f"/tv/{int(tmdb_id)}", params, wire.Show)
        ratings = raw.content_ratings.results if raw.content_ratings else []
        return ShowDetails(
            id=raw.id,
            title=raw.name,
            year=_year(raw.first_air_date),
            overview=raw.overview or None,
            genres=tuple(g.name for g in raw.genres if g.name),
            episode_runtime=raw.episode_run_time[0] if raw.episode_run_time else None,
            certification=next((r.rating for r in ratings if r.iso_3166_1 == "US" and r.rating), None),
            imdb_id=(raw.external_ids.imdb_id or None) if raw.external_ids else None,
            poster_path=raw.poster_path,
            backdrop_path=raw.backdrop_path,
            seasons=tuple(
                SeasonSummary(season_number=s.season_number, name=s.name,
                              episode_count=s.episode_count or 0, air_date=s.air_date or None)
                for s in raw.seasons
            ),
        )

    async def season(self, tmdb_id: int, season_number: int) -> SeasonDetails:
        raw = await self._get(f"/tv/{int(tmdb_id)}/season/{int(season_number)}", {}, wire.SeasonDetails)
        return SeasonDetails(
            season_number=raw.season_number,
            name=raw.name,
            overview=raw.overview or None,
            air_date=raw.air_date or None,
            episodes=tuple(
                EpisodeInfo(episode_number=e.episode_number, name=e.name or None,
                            overview=e.overview or None, air_date=e.air_date or None,
                            runtime=e.runtime or None)
                for e in raw.episodes
            ),
        )

    # --- transport ---------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str], shape: type[T]) -> T:
        key = (path, tuple(sorted(params.items())))
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            self._cache.move_to_end(key)
            return cached[1]
        body = await self._fetch(path, params)
        try:
            value = msgspec.json.decode(body, type=shape)
        except msgspec.ValidationError as exc:
            raise TmdbError(f"TMDB answered {path} with an unexpected shape: {exc}") from None
        self._cache[key] = (time.monotonic() + self._cache_ttl, value)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return value

    async def _fetch(self, path: str, params: dict[str, str]) -> bytes:
        """GET with retries; raises a TmdbError subclass naming the path (never the key)."""
        url = self._base_url + path
        problem = "no attempt made"
        for attempt in range(self._retries + 1):
            delay = self._backoff * 2**attempt * (0.5 + random.random())
            try:
                response = await self._http.get(
                    url, params={**params, **self._auth_params}, headers=self._auth_headers,
                    timeout=self._timeout, follow_redirects=False,
                )
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = f"could not be reached ({type(exc).__name__})"
            else:
                status = response.status_code
                if status == 200:
                    return response.content
                if status == 401:
                    raise TmdbAuthError("TMDB rejected the API key (401); check MEDIAHUB_TMDB_API_KEY")
                if status == 404:
                    raise TmdbNotFound(f"TMDB has nothing at {path} (404)")
                if status not in _RETRY_STATUS:
                    raise TmdbError(f"TMDB answered {path} with HTTP {status}")
                problem = f"answered HTTP {status}"
                retry_after = _retry_after(response.headers.get("retry-after"))
                if retry_after is not None:
                    delay = min(retry_after, self._max_retry_after)
            if attempt < self._retries:
                log.debug("TMDB %s %s; retry %d in %.2fs", path, problem, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise TmdbUnavailable(f"TMDB {path} {problem} after {self._retries + 1} attempts")


class _RedactApiKey(logging.Filter):
    """httpx logs each request URL at INFO, and a v3 key travels in the query string."""

    _pattern = re.compile(r"(api_key=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._pattern.sub(r"\1***", str(arg)) if "api_key=" in str(arg) else arg for arg in record.args
            )
        return True


_REDACT_API_KEY = _RedactApiKey()


def _is_v4_token(key: str) -> bool:
    """v3 keys are 32 hex characters; v4 read tokens are JWTs (three dot-separated parts)."""
    return key.count(".") == 2 or len(key) > 64


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _year(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def _search_result(item: wire.SearchItem) -> SearchResult:
    return SearchResult(
        id=item.id,
        title=item.title or item.name or "",
        year=_year(item.release_date or item.first_air_date),
        overview=item.overview or None,
        poster_path=item.poster_path,
        backdrop_path=item.backdrop_path,
        popularity=item.popularity,
    )


def _us_certification(release_dates: wire.ReleaseDates | None) -> str | None:
    """The US rating, preferring the theatrical release (type 3) over others."""
    if release_dates is None:
        return None
    for country in release_dates.results:
        if country.iso_3166_1 == "US":
            rated = [r for r in country.release_dates if r.certification.strip()]
            rated.sort(key=lambda r: (r.type != 3, r.type))
            return rated[0].certification.strip() if rated else None
    return None
