"""TMDB client against the fake TMDB: the fields a user sees, and the failure paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mediahub.metadata.tmdb import TmdbAuthError, TmdbClient, TmdbNotFound, TmdbUnavailable
from mediahub.settings import Settings
from tests.fake_tmdb import FakeTmdb

pytestmark = pytest.mark.anyio


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def client(fake: FakeTmdb, http: httpx.AsyncClient, **options) -> TmdbClient:
    options.setdefault("backoff", 0.01)
    return TmdbClient(http, api_key=options.pop("api_key", fake.api_key), base_url=fake.base_url, **options)


async def test_movie_search_and_details(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    tmdb = client(fake_tmdb, http)
    results = await tmdb.search_movie("Inception", 2010)
    assert [(r.id, r.title, r.year) for r in results] == [(27205, "Inception", 2010)]
    assert results[0].poster_path == "/inception-poster.jpg"

    movie = await tmdb.movie(27205)
    assert (movie.title, movie.year, movie.runtime, movie.imdb_id) == ("Inception", 2010, 148, "tt1375666")
    assert movie.genres == ("Action", "Science Fiction", "Adventure")
    assert movie.certification == "PG-13"  # US theatrical, not GB's 12A or the uncertified premiere
    request = fake_tmdb.requests_to("/3/movie/27205")[0]
    assert request.query["append_to_response"] == "release_dates"
    assert request.query["api_key"] == fake_tmdb.api_key


async def test_tv_details_and_season(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    tmdb = client(fake_tmdb, http)
    assert [r.id for r in await tmdb.search_tv("breaking bad", 2008)] == [1396]
    assert await tmdb.search_tv("breaking bad", 1999) == []

    show = await tmdb.tv(1396)
    assert (show.title, show.year, show.certification, show.imdb_id) == ("Breaking Bad", 2008, "TV-MA", "tt0903747")
    assert show.episode_runtime == 45
    assert [(s.season_number, s.episode_count) for s in show.seasons] == [(0, 1), (1, 7), (2, 13)]
    assert fake_tmdb.requests_to("/3/tv/1396")[0].query["append_to_response"] == "content_ratings,external_ids"

    season = await tmdb.season(1396, 1)
    assert [(e.episode_number, e.name) for e in season.episodes][:2] == [(1, "Pilot"), (2, "Cat's in the Bag...")]
    assert season.episodes[0].runtime == 45 and season.episodes[0].air_date == "2008-01-20"


async def test_v4_read_token_goes_in_the_authorization_header(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    tmdb = client(fake_tmdb, http, api_key=fake_tmdb.read_token)
    assert (await tmdb.movie(62)).title == "2001: A Space Odyssey"
    request = fake_tmdb.requests_to("/3/movie/62")[0]
    assert request.headers["Authorization"] == f"Bearer {fake_tmdb.read_token}"
    assert "api_key" not in request.query


async def test_answers_are_cached(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    tmdb = client(fake_tmdb, http)
    first = await tmdb.movie(27205)
    assert await tmdb.movie(27205) == first
    assert len(fake_tmdb.requests_to("/3/movie/27205")) == 1


async def test_server_errors_are_retried(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    fake_tmdb.fail("/3/movie/27205", 500, times=2)
    movie = await client(fake_tmdb, http, retries=3).movie(27205)
    assert movie.runtime == 148
    assert len(fake_tmdb.requests_to("/3/movie/27205")) == 3


async def test_429_waits_for_retry_after(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    fake_tmdb.fail("/3/search/movie", 429, retry_after="1")
    assert (await client(fake_tmdb, http).search_movie("Inception"))[0].id == 27205
    first, second = fake_tmdb.requests_to("/3/search/movie")
    assert second.at - first.at >= 0.95


async def test_retry_after_is_capped(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    fake_tmdb.fail("/3/tv/1396", 429, retry_after="3600")
    # Deadline far below the hour an uncapped wait would take.
    assert (await asyncio.wait_for(client(fake_tmdb, http, max_retry_after=0.2).tv(1396), 60)).title == "Breaking Bad"
    assert len(fake_tmdb.requests_to("/3/tv/1396")) == 2


async def test_timeouts_give_up_with_unavailable(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    tmdb = fake_tmdb.hold("/3/movie")  # never answers: only the client's own timeout ends a request
    with pytest.raises(TmdbUnavailable, match="timed out after 2 attempts"):
        await asyncio.wait_for(client(fake_tmdb, http, timeout=0.3, retries=1).movie(27205), 60)
    assert len(fake_tmdb.requests_to("/3/movie")) == 2
    tmdb.set()


async def test_persistent_500_is_unavailable_and_never_leaks_the_key(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    fake_tmdb.fail("/3/search/tv", 503, times=10)
    with pytest.raises(TmdbUnavailable) as caught:
        await client(fake_tmdb, http, retries=2).search_tv("Firefly")
    assert "HTTP 503" in str(caught.value) and fake_tmdb.api_key not in str(caught.value)
    assert len(fake_tmdb.requests_to("/3/search/tv")) == 3


async def test_not_found_and_bad_key_are_not_retried(fake_tmdb: FakeTmdb, http: httpx.AsyncClient) -> None:
    with pytest.raises(TmdbNotFound):
        await client(fake_tmdb, http).movie(999999)
    with pytest.raises(TmdbAuthError, match="MEDIAHUB_TMDB_API_KEY"):
        await client(fake_tmdb, http, api_key="f" * 32).movie(27205)
    assert len(fake_tmdb.requests_to("/3/movie")) == 2


async def test_no_key_means_no_client(http: httpx.AsyncClient, tmp_path) -> None:
    assert TmdbClient.from_settings(Settings(data_dir=tmp_path), http) is None
    assert TmdbClient.from_settings(Settings(data_dir=tmp_path, tmdb_api_key="k" * 32), http) is not None
