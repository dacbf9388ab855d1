"""Enrichment over HTTP with the fake TMDB: what a user sees after pasting a magnet."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mediahub.db.tables import Episode, Season
from mediahub.hub import Hub
from mediahub.ids import new_id
from tests.fake_tmdb import FakeTmdb, tiny_jpeg
from tests.hubs import Api, magnet, make_settings
from tests.swarm import until

pytestmark = pytest.mark.anyio

OpenApi = Callable[..., Any]


@pytest.fixture
def open_api(tmp_path: Path, database_url: str, fake_tmdb: FakeTmdb) -> OpenApi:
    """`async with open_api(**settings) as api:` — a real hub serving HTTP on loopback, wired
    to the fake TMDB.

    Retry waits are shortened by settings (TMDB requests time out after 1 s and back off from
    50 ms, enrichment retries after 0.1-0.4 s, an add waits 0.5 s for TMDB) so outage tests
    finish quickly; everything else is the production configuration.
    """

    @asynccontextmanager
    async def opener(key: bool = True, **overrides: Any) -> AsyncIterator[Api]:
        values: dict[str, Any] = dict(
            tmdb_api_key=fake_tmdb.api_key if key else None,
            tmdb_base_url=fake_tmdb.base_url,
            tmdb_image_base_url=fake_tmdb.image_base_url,
            image_hosts=("image.tmdb.org",),
            tmdb_timeout=1.0,
            tmdb_retry=(0.1, 0.2, 0.4, 0.4),
            tmdb_add_lookup=0.5,
        )
        values.update(overrides)
        settings = make_settings(tmp_path / "data", database_url, **values)
        async with Hub.open(settings) as hub:
            async with httpx.AsyncClient(base_url=await hub.serve(), timeout=30) as client:
                yield Api(client, hub)

    return opener


async def eventually(api: Api, url: str, ready: Callable[[dict], bool], timeout: float = 10.0) -> dict:
    """GET `url` until `ready(json)`; fails with the last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(url)).json()
        if ready(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never got ready; last answer: {body}")
        await asyncio.sleep(0.05)  # polling interval of a deadline-bounded wait


async def until_idle(hub: Hub, timeout: float = 10.0) -> None:
    """Wait until the enricher has no pass running or waiting to retry."""
    deadline = time.monotonic() + timeout
    while hub.enricher.busy:
        if time.monotonic() > deadline:
            raise AssertionError("enrichment never finished")
        await asyncio.sleep(0.05)


async def add_episodes(hub: Hub, media_id: str, season_number: int, numbers: range) -> None:
    """What the download side does once a pack's files are mapped: season/episode rows, then it
    tells the enricher."""
    season_id = new_id()
    await Season.insert(Season(id=season_id, media=media_id, season_number=season_number))
    await Episode.insert(*[Episode(id=new_id(), media=media_id, season=season_id, episode_number=n) for n in numbers])
    hub.enricher.episodes_changed(media_id)


async def test_movie_is_enriched_from_its_release_name(open_api: OpenApi, fake_tmdb: FakeTmdb) -> None:
    async with open_api() as api:
        tmdb = fake_tmdb.hold("/3/")  # the add answers while TMDB has not answered anything
        added = await api.post("/api/media", json={"magnetLink": magnet(name="Inception.2010.1080p.BluRay.x264-SPARKS")})
        assert added.status_code == 201
        assert (added.json()["type"], added.json()["title"], added.json()["year"]) == ("movie", "Inception", 2010)
        tmdb.set()
        media_id = added.json()["id"]

        detail = await eventually(api, f"/api/media/{media_id}",
                                  lambda m: m["tmdbId"] and m["posterUrl"] and m["posterUrl"].startswith("/api/"))
        assert detail["tmdbId"] == 27205 and detail["imdbId"] == "tt1375666"
        assert (detail["runtime"], detail["certification"]) == (148, "PG-13")
        assert detail["genres"] == ["Action", "Science Fiction", "Adventure"]
        assert detail["overview"].startswith("Cobb")
        await eventually(api, f"/api/media/{media_id}", lambda m: (m["backdropUrl"] or "").startswith("/api/"))
        detail = (await api.get(f"/api/media/{media_id}")).json()
        assert detail["posterUrl"] == f"/api/images/{media_id}/poster.jpg"
        assert detail["backdropUrl"] == f"/api/images/{media_id}/backdrop.jpg"
        listed = (await api.get("/api/media")).json()
        assert listed[0]["posterUrl"] == detail["posterUrl"] and listed[0]["runtime"] == 148

        poster = await api.get(detail["posterUrl"])
        assert poster.status_code == 200 and poster.content == tiny_jpeg()
        assert poster.headers["content-type"] == "image/jpeg"
        assert "max-age=31536000" in poster.headers["cache-control"]
        assert (await api.get(detail["posterUrl"], headers={"If-None-Match": poster.headers["etag"]})).status_code == 304
        head = await api.request("HEAD", detail["backdropUrl"])
        assert head.status_code == 200 and head.content == b""
        # only the TMDB sizes we asked for were fetched, once each
        assert sorted(r.path for r in fake_tmdb.requests_to("/t/p/")) == [
            "/t/p/w1280/inception-backdrop.jpg", "/t/p/w500/inception-poster.jpg"]


async def test_images_are_scoped_to_the_profile(open_api: OpenApi) -> None:
    async with open_api() as api:
        media_id = (await api.post("/api/media", json={"magnetLink": magnet(name="Inception.2010.1080p")})).json()["id"]
        await eventually(api, f"/api/media/{media_id}", lambda m: (m["posterUrl"] or "").startswith("/api/"))
        url = f"/api/images/{media_id}/poster.jpg"

        _, other = await api.new_profile("Guest")
        assert (await other.get(url)).status_code == 404
        other_token = other.headers["Authorization"].removeprefix("Bearer ")
        anonymous = Api(api.http, api.hub, {})
        assert (await anonymous.get(f"{url}?token={other_token}")).status_code == 404
        assert (await anonymous.get(url)).status_code == 401
        player = await anonymous.get(f"{url}?token={await api.url_token()}")
        assert player.status_code == 200 and player.content == tiny_jpeg()
        assert (await api.get(f"/api/images/{media_id}/thumb.jpg")).status_code == 404
        assert (await api.get(f"/api/images/{media_id}/poster.png")).status_code == 404

        assert (await api.delete(f"/api/media/{media_id}")).status_code == 204
        assert (await api.get(url)).status_code == 404


async def test_request_fields_win_over_tmdb(open_api: OpenApi) -> None:
    async with open_api() as api:
        body = {"magnetLink": magnet(name="Inception.2010.1080p"), "tmdbId": 27205, "title": "My Inception",
                "certification": "R", "genres": ["Heist"]}
        media_id = (await api.post("/api/media", json=body)).json()["id"]
        detail = await eventually(api, f"/api/media/{media_id}", lambda m: m["runtime"] is not None)
        assert (detail["title"], detail["certification"], detail["genres"]) == ("My Inception", "R", ["Heist"])
        assert (detail["runtime"], detail["imdbId"]) == (148, "tt1375666")


async def test_show_gets_seasons_and_episode_titles(open_api: OpenApi) -> None:
    async with open_api() as api:
        added = await api.post("/api/media", json={"magnetLink": magnet(name="Breaking.Bad.S01.720p.BluRay.x264")})
        assert added.status_code == 201
        show = added.json()
        assert (show["type"], show["title"], show["tmdbId"]) == ("tv", "Breaking Bad", 1396)
        detail = await eventually(api, f"/api/media/{show['id']}", lambda m: m["certification"] is not None)
        assert (detail["certification"], detail["runtime"], detail["year"]) == ("TV-MA", 45, 2008)
        assert detail["genres"] == ["Drama", "Crime"] and detail["imdbId"] == "tt0903747"

        await add_episodes(api.hub, show["id"], 1, range(1, 8))
        seasons = await eventually(api, f"/api/media/{show['id']}/seasons",
                                   lambda s: all(e["title"] for e in s[0]["episodes"]))
        assert seasons[0]["name"] == "Season 1"
        assert [e["title"] for e in seasons[0]["episodes"]][:3] == [
            "Pilot", "Cat's in the Bag...", "...And the Bag's in the River"]


async def test_second_season_magnet_joins_the_show(open_api: OpenApi) -> None:
    async with open_api() as api:
        first = (await api.post("/api/media", json={"magnetLink": magnet(name="Breaking.Bad.S01.720p")})).json()
        second = await api.post("/api/media", json={"magnetLink": magnet(name="Breaking.Bad.S02.1080p.WEB-DL")})
        assert second.status_code == 200 and second.json()["id"] == first["id"]
        assert [d["name"] for d in second.json()["downloads"]] == ["Breaking.Bad.S01.720p", "Breaking.Bad.S02.1080p.WEB-DL"]

        await add_episodes(api.hub, first["id"], 2, range(1, 14))
        seasons = await eventually(api, f"/api/media/{first['id']}/seasons",
                                   lambda s: s and all(e["title"] for e in s[0]["episodes"]))
        assert seasons[0]["episodes"][-1]["title"] == "ABQ"
        assert len((await api.get("/api/media?type=tv")).json()) == 1


async def test_show_detected_during_an_outage_is_merged_later_and_its_id_keeps_answering(
    open_api: OpenApi, fake_tmdb: FakeTmdb
) -> None:
    async with open_api() as api:
        body = {"magnetLink": magnet(name="Breaking.Bad.S01.720p"), "tmdbId": 1396}
        first = (await api.post("/api/media", json=body)).json()
        fake_tmdb.fail("/3/search/tv", 503, times=12)  # the add-time lookup and the first passes fail
        second = await api.post("/api/media", json={"magnetLink": magnet(name="Breaking.Bad.S02.1080p")})
        assert second.status_code == 201
        added = second.json()["id"]
        assert added != first["id"] and second.json()["tmdbId"] is None

        await eventually(api, "/api/media?type=tv", lambda items: len(items) == 1)
        show = await eventually(api, f"/api/media/{first['id']}", lambda m: (m["posterUrl"] or "").startswith("/api/"))
        assert [d["name"] for d in show["downloads"]] == ["Breaking.Bad.S01.720p", "Breaking.Bad.S02.1080p"]
        # The id the POST answered with still answers, as the show it was merged into.
        assert (await api.get(f"/api/media/{added}")).json() == show
        for path in ("progress", "seasons", "position"):
            assert (await api.get(f"/api/media/{added}/{path}")).json() == (
                await api.get(f"/api/media/{first['id']}/{path}")).json(), path  # position: 400, a show
        assert (await api.get(f"/api/media/{added}/stream")).status_code == 400  # a show needs episodeId
        poster = await api.get(f"/api/images/{added}/poster.jpg")
        assert poster.status_code == 200 and poster.content == tiny_jpeg()
        assert (await api.post(f"/api/media/{added}/pause")).status_code == 204
        assert {d["status"] for d in (await api.get(f"/api/media/{first['id']}")).json()["downloads"]} == {"paused"}
        assert (await api.post(f"/api/media/{added}/resume")).status_code == 204
        _, other = await api.new_profile("Guest")
        assert (await other.get(f"/api/media/{added}")).status_code == 404  # still this profile's alone

        assert (await api.delete(f"/api/media/{added}")).status_code == 204  # the show it names
        for media_id in (added, first["id"]):
            assert (await api.get(f"/api/media/{media_id}")).status_code == 404
        assert (await api.get("/api/media")).json() == []


async def test_tmdb_errors_are_retried_in_the_background(open_api: OpenApi, fake_tmdb: FakeTmdb) -> None:
    async with open_api() as api:
        fake_tmdb.fail("/3/search/movie", 500, times=6)  # more than one pass of client retries
        fake_tmdb.fail("/3/movie/27205", 429, retry_after="1")
        added = await api.post("/api/media", json={"magnetLink": magnet(name="Inception.2010.720p")})
        assert added.status_code == 201
        detail = await eventually(api, f"/api/media/{added.json()['id']}", lambda m: m["runtime"] is not None)
        assert detail["runtime"] == 148
        assert len(fake_tmdb.requests_to("/3/search/movie")) == 7
        first, second = fake_tmdb.requests_to("/3/movie/27205")
        assert second.at - first.at >= 0.95  # Retry-After honoured


async def test_slow_tmdb_never_slows_an_add(open_api: OpenApi, fake_tmdb: FakeTmdb) -> None:
    async with open_api() as api:
        tmdb = fake_tmdb.hold("/3/")  # TMDB answers nothing until the adds are done
        movie = await api.post("/api/media", json={"magnetLink": magnet(name="Inception.2010.720p")})
        assert movie.status_code == 201
        show = await api.post("/api/media", json={"magnetLink": magnet(name="Firefly.S01.DVDRip")})
        assert show.status_code == 201  # its add-time lookup gave up after the 0.5 s budget
        titles = {m["title"] for m in (await api.get("/api/media")).json()}
        assert titles == {"Inception", "Firefly"}
        tmdb.set()


async def test_without_a_key_titles_come_from_names_and_given_art_is_cached(
    open_api: OpenApi, fake_tmdb: FakeTmdb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mediahub.metadata.enrich")
    async with open_api(key=False, image_hosts=("127.0.0.1",)) as api:
        body = {"magnetLink": magnet(name="Blade.Runner.2049.2017.1080p.WEB-DL"),
                "posterUrl": fake_tmdb.url("/img/br2049.jpg")}
        added = await api.post("/api/media", json=body)
        assert added.status_code == 201
        assert (added.json()["title"], added.json()["year"]) == ("Blade Runner 2049", 2017)
        show = await api.post("/api/media", json={"magnetLink": magnet(name="Firefly.S01E02.The.Train.Job.mkv")})
        assert (show.json()["type"], show.json()["title"]) == ("tv", "Firefly")
        media_id = added.json()["id"]
        detail = await eventually(api, f"/api/media/{media_id}", lambda m: (m["posterUrl"] or "").startswith("/api/"))
        assert detail["tmdbId"] is None and detail["backdropUrl"] is None
        assert (await api.get(detail["posterUrl"])).content == tiny_jpeg()
        assert not fake_tmdb.requests_to("/3/")
    off = [r for r in caplog.records if "enrichment is off" in r.getMessage()]
    assert len(off) == 1


async def test_ssrf_urls_are_refused_and_the_item_is_still_added(open_api: OpenApi, fake_tmdb: FakeTmdb) -> None:
    async with open_api() as api:  # image hosts: image.tmdb.org only
        body = {"magnetLink": magnet(name="Inception.2010.1080p"),
                "posterUrl": fake_tmdb.url("/img/internal.jpg"),  # loopback, not listed
                "backdropUrl": "http://10.0.0.1/backdrop.jpg"}
        added = await api.post("/api/media", json=body)
        assert added.status_code == 201
        media_id = added.json()["id"]
        # refused; TMDB's artwork is used instead
        detail = await eventually(api, f"/api/media/{media_id}",
                                  lambda m: all((m[k] or "").startswith("/api/") for k in ("posterUrl", "backdropUrl")))
        assert detail["tmdbId"] == 27205
        assert not fake_tmdb.requests_to("/img/")


@pytest.mark.parametrize("poster", ["/redirect?to={loopback}", "/img/big.jpg", "/img/not-image.jpg"])
async def test_bad_images_from_listed_hosts_are_refused(open_api: OpenApi, fake_tmdb: FakeTmdb, poster: str) -> None:
    loopback = quote(f"http://localhost:{fake_tmdb.port}/img/poster.jpg", safe="")
    async with open_api(key=False, image_hosts=("127.0.0.1", "*")) as api:
        body = {"magnetLink": magnet(name="Inception.2010.1080p"), "posterUrl": fake_tmdb.url(poster.format(loopback=loopback))}
        added = await api.post("/api/media", json=body)
        assert added.status_code == 201
        media_id = added.json()["id"]
        await until_idle(api.hub)
        assert fake_tmdb.requests  # the fetch was tried
        assert (await api.get(f"/api/images/{media_id}/poster.jpg")).status_code == 404
        assert (await api.get(f"/api/media/{media_id}")).json()["title"] == "Inception"
        assert not fake_tmdb.requests_to("/img/poster.jpg")


async def test_enrichment_resumes_after_a_restart(open_api: OpenApi, fake_tmdb: FakeTmdb) -> None:
    """Stopped while TMDB had not answered: the next start finishes the item's metadata and art."""
    tmdb = fake_tmdb.hold("/3/")
    async with open_api() as api:
        added = (await api.post("/api/media", json={"magnetLink": magnet(name="Inception.2010.720p")})).json()
        await until(lambda: fake_tmdb.requests_to("/3/search/movie"), 10, "the enricher to ask TMDB")
        assert (await api.get(f"/api/media/{added['id']}")).json()["tmdbId"] is None
    tmdb.set()  # TMDB is back; the server is not
    async with open_api() as api:
        detail = await eventually(api, f"/api/media/{added['id']}",
                                  lambda m: m["runtime"] is not None and (m["posterUrl"] or "").startswith("/api/"))
        assert (detail["tmdbId"], detail["runtime"], detail["imdbId"]) == (27205, 148, "tt1375666")
        assert (await api.get(detail["posterUrl"])).content == tiny_jpeg()
