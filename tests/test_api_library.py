"""Library routes of API.md that need no finished download, over real HTTP and a real database."""

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from mediahub.db.tables import Download, Episode, Media, Season, Torrent
from mediahub.ids import new_id
from tests.hubs import Api, magnet

pytestmark = pytest.mark.anyio


async def add(api: Api, **body: object) -> dict:
    body.setdefault("magnetLink", magnet())
    response = await api.post("/api/media", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_add_movie_then_read_it_back(api: Api) -> None:
    link = magnet(name="Inception.2010.1080p.BluRay.x264-GROUP")
    created = await add(
        api,
        magnetLink=link,
        tmdbId=27205,
        overview="Dreams within dreams.",
        genres=["Action", "Science Fiction"],
        certification="PG-13",
    )
    assert created["type"] == "movie"
    assert (created["title"], created["year"]) == ("Inception", 2010)
    assert created["status"] == "added" and created["progress"] == 0
    assert created["magnetLink"] == link
    detail = (await api.get(f"/api/media/{created['id']}")).json()
    assert detail["genres"] == ["Action", "Science Fiction"]
    assert detail["certification"] == "PG-13" and detail["tmdbId"] == 27205
    assert detail["playPosition"] == 0 and detail["playDuration"] is None
    assert detail["addedAt"].endswith("Z") and detail["lastPlayedAt"] is None
    assert detail["filePath"] is None and "seasonCount" not in detail


@pytest.mark.parametrize(
    "xt",
    [
        "urn:btih:" + "AB" * 20,
        "urn:btih:" + base64.b32encode(bytes.fromhex("ab" * 20)).decode(),
    ],
)
async def test_hex_and_base32_hashes_are_the_same_item(api: Api, xt: str) -> None:
    first = await api.post("/api/media", json={"magnetLink": "magnet:?xt=urn:btih:" + "ab" * 20})
    again = await api.post("/api/media", json={"magnetLink": f"magnet:?xt={xt}&dn=Other"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["infohash"] == "ab" * 20
    assert len((await api.get("/api/media")).json()) == 1


async def test_v2_magnet_is_accepted(api: Api) -> None:
    digest = secrets.token_hex(32)
    created = await add(api, magnetLink=f"magnet:?xt=urn:btmh:1220{digest}&dn=Some.Movie.2020")
    assert created["infohash"] == digest


@pytest.mark.parametrize(
    "body",
    [
        {"magnetLink": "http://example.org/file.torrent"},
        {"magnetLink": "magnet:?dn=NoHash"},
        {"magnetLink": "magnet:?xt=urn:btih:1234"},
        {"magnetLink": "magnet:?xt=urn:btih:" + "g" * 40},
        {"magnetLink": ""},
        {},
        {"magnetLink": 42},
        {"magnetLink": magnet(), "type": "music"},
        {"magnetLink": magnet(), "year": 1500},
        {"magnetLink": magnet(), "tmdbId": -3},
        {"magnetLink": magnet(), "title": ""},
        {"magnetLink": magnet(), "genres": "Drama"},
        {"magnetLink": magnet(), "posterUrl": "file:///etc/passwd"},
        [],
    ],
)
async def test_bad_add_requests_store_nothing(api: Api, body: object) -> None:
    response = await api.post("/api/media", json=body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert (await api.get("/api/media")).json() == []


async def test_bad_json_and_oversize_bodies_store_nothing(api: Api) -> None:
    bad = await api.post("/api/media", content=b'{"magnetLink": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    huge = await api.post("/api/media", json={"magnetLink": magnet(), "overview": "x" * 70_000})
    assert huge.status_code == 413
    assert huge.json()["message"]
    assert (await api.get("/api/media")).json() == []


async def test_type_is_detected_from_the_name(api: Api) -> None:
    show = await add(api, magnetLink=magnet(name="The.Office.US.S02E03.720p.HDTV"))
    pack = await add(api, magnetLink=magnet(name="Breaking Bad Season 1 Complete 1080p"))
    film = await add(api, magnetLink=magnet(name="Heat.1995.REMASTERED.1080p.BluRay"))
    assert (show["type"], pack["type"], film["type"]) == ("tv", "tv", "movie")
    assert show["title"] == "The Office US" or show["title"].startswith("The Office")
    assert show["downloads"][0]["status"] == "added"


async def test_second_season_with_same_tmdb_id_joins_the_show(api: Api) -> None:
    s1 = await add(api, magnetLink=magnet(name="Dark.S01.1080p"), type="tv", tmdbId=70523, title="Dark")
    response = await api.post("/api/media", json={"magnetLink": magnet(name="Dark.S02.1080p"), "tmdbId": 70523})
    assert response.status_code == 200
    show = response.json()
    assert show["id"] == s1["id"]
    assert [d["name"] for d in show["downloads"]] == ["Dark.S01.1080p", "Dark.S02.1080p"]
    assert len((await api.get("/api/media")).json()) == 1


async def test_list_filters_by_type_newest_first(api: Api) -> None:
    a = await add(api, type="movie", title="Alpha")
    b = await add(api, type="tv", title="Beta")
    c = await add(api, type="movie", title="Gamma")
    assert [m["id"] for m in (await api.get("/api/media")).json()] == [c["id"], b["id"], a["id"]]
    assert [m["id"] for m in (await api.get("/api/media", params={"type": "movie"})).json()] == [c["id"], a["id"]]
    assert [m["id"] for m in (await api.get("/api/media", params={"type": "tv"})).json()] == [b["id"]]
    assert (await api.get("/api/media", params={"type": "music"})).status_code == 400
    item = (await api.get("/api/media")).json()[0]
    assert set(item) == {"id", "type", "title", "year", "status", "progress", "tmdbId", "posterUrl", "runtime", "addedAt"}


async def stored_item(api: Api, title: str, added_at: datetime, type: str = "movie",
                      torrents: Sequence[dict] = ()) -> str:
    """An item with one download per torrent state, written straight to the tables (the engine
    never hears of it, so the states stay as written); a state of {} is a download whose torrent
    row does not exist yet."""
    media_id = new_id()
    await Media(id=media_id, profile=api.hub.default_profile_id, type=type, title=title, added_at=added_at).save()
    for state in torrents:
        infohash = secrets.token_hex(20)
        await Download(id=new_id(), media=media_id, infohash=infohash, magnet_link=magnet(), added_at=added_at).save()
        if state:
            await Torrent(infohash=infohash, magnet_link=magnet(), added_at=added_at, **state).save()
    return media_id


async def test_list_status_and_progress_combine_an_items_downloads(api: Api) -> None:
    now = datetime.now(timezone.utc)
    expected = {
        await stored_item(api, "Nothing yet", now): ("added", 0),
        await stored_item(api, "No torrent row", now, torrents=[{}]): ("added", 0),
        await stored_item(api, "Half a season", now, "tv", [
            {"status": "ready", "progress": 100.0, "total_bytes": 1000},
            {"status": "downloading", "progress": 50.0, "total_bytes": 3000},
        ]): ("downloading", 62.5),  # weighted by bytes
        await stored_item(api, "Sizes unknown", now, "tv", [
            {"status": "completed", "progress": 100.0},
            {"status": "error", "progress": 20.0, "error": "No space left on device"},
        ]): ("error", 60),  # plain mean
        await stored_item(api, "Paused", now, torrents=[{"status": "paused", "progress": 33.333, "total_bytes": 9}]): (
            "paused", 33.33),
    }
    listed = {m["id"]: (m["status"], m["progress"]) for m in (await api.get("/api/media")).json()}
    assert listed == expected
    for media_id, (status, progress) in expected.items():  # the same as each item's own page
        detail = (await api.get(f"/api/media/{media_id}")).json()
        assert (detail["status"], detail["progress"]) == (status, progress)


async def test_pages_cover_the_list_once_newest_first(api: Api) -> None:
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    # Three items share one addedAt: paging must still neither repeat nor skip any of them.
    stamps = [start, start, start, start + timedelta(days=1), start + timedelta(days=2)] + [
        start - timedelta(days=n) for n in range(1, 6)
    ]
    for n, stamp in enumerate(stamps):
        await stored_item(api, f"Item {n}", stamp, "tv" if n % 3 == 0 else "movie", [{"status": "ready"}])
    whole = await api.get("/api/media")
    assert whole.headers["X-Total-Count"] == "10"
    ids = [m["id"] for m in whole.json()]
    added = [m["addedAt"] for m in whole.json()]
    assert len(set(ids)) == 10 and added == sorted(added, reverse=True)
    for filter, size in [({}, 3), ({}, 1), ({"type": "movie"}, 4), ({"type": "tv"}, 2)]:
        everything = (await api.get("/api/media", params=filter)).json()
        pages: list[dict] = []
        for offset in range(0, len(everything) + size, size):  # one page past the end: empty
            page = await api.get("/api/media", params={**filter, "limit": size, "offset": offset})
            assert page.status_code == 200
            assert page.headers["X-Total-Count"] == str(len(everything))
            assert len(page.json()) == min(size, max(0, len(everything) - offset))
            pages += page.json()
        assert pages == everything
        assert all(m["type"] == filter.get("type", m["type"]) for m in pages)
    first = await api.get("/api/media", params={"limit": 4})
    assert first.json() == whole.json()[:4]
    rest = await api.get("/api/media", params={"offset": 4})  # no limit: the rest of the list
    assert rest.json() == whole.json()[4:] and rest.headers["X-Total-Count"] == "10"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"limit": 10, "offset": "x", "type": "movie"}, "offset"),
        ({"limit": 10, "type": "music"}, "type"),
    ],
)
async def test_bad_paging_is_refused_and_changes_nothing(api: Api, params: dict, name: str) -> None:
    await add(api, type="movie", title="Alpha")
    before = (await api.get("/api/media")).json()
    response = await api.get("/api/media", params=params)
    assert response.status_code == 400
    assert name in response.json()["message"]
    assert (await api.get("/api/media")).json() == before


async def test_search_limit(api: Api) -> None:
    for n in range(5):
        await stored_item(api, f"Star {'x' * n}", datetime.now(timezone.utc))
    everything = (await api.get("/api/media/search", params={"q": "star"})).json()
    assert [h["title"] for h in everything] == ["Star ", "Star x", "Star xx", "Star xxx", "Star xxxx"]
    two = (await api.get("/api/media/search", params={"q": "star", "limit": 2})).json()
    assert two == everything[:2]
    for limit in (0, 101, "many"):
        refused = await api.get("/api/media/search", params={"q": "star", "limit": limit})
        assert refused.status_code == 400 and "limit" in refused.json()["message"]
    assert len((await api.get("/api/media/search", params={"q": "star", "limit": 100})).json()) == 5


async def test_delete_twice_gives_404(api: Api) -> None:
    item = await add(api)
    assert (await api.delete(f"/api/media/{item['id']}")).status_code == 204
    assert (await api.get(f"/api/media/{item['id']}")).status_code == 404
    assert (await api.delete(f"/api/media/{item['id']}")).status_code == 404
    assert (await api.get("/api/media")).json() == []


async def test_search_ranks_best_match_first(api: Api) -> None:
    for title in ["The Matrix Reloaded", "Matrix", "Animatrix", "Heat", "The Matrix"]:
        await add(api, title=title, type="movie")
    await add(api, title="Matrix Show", type="tv")
    hits = (await api.get("/api/media/search", params={"q": "MATRIX"})).json()
    assert [h["title"] for h in hits] == ["Matrix", "Matrix Show", "The Matrix", "The Matrix Reloaded", "Animatrix"]
    movies = (await api.get("/api/media/search", params={"q": "matrix", "type": "movie"})).json()
    assert "Matrix Show" not in [h["title"] for h in movies]
    assert set(hits[0]) == {"id", "title", "type", "year"}
    assert (await api.get("/api/media/search", params={"q": "%"})).status_code == 400
    assert (await api.get("/api/media/search", params={"q": "%_"})).json() == []
    assert (await api.get("/api/media/search")).status_code == 400
    assert (await api.get("/api/media/search", params={"q": "x", "type": "tv"})).status_code == 400


async def make_show(api: Api, title: str = "Dark") -> tuple[str, list[str]]:
    """A show with two seasons of episodes, rows as the download engine would write them."""
    show = await add(api, type="tv", title=title)
    episodes = []
    for season_number in (2, 1):
        season = Season(id=new_id(), media=show["id"], season_number=season_number, name=f"Season {season_number}")
        await season.save()
        for number in (2, 1):
            episode = Episode(id=new_id(), media=show["id"], season=season.id, episode_number=number, title=f"E{number}")
            await episode.save()
            episodes.append(episode.id)
    return show["id"], episodes


async def test_seasons_in_number_order(api: Api) -> None:
    show_id, _ = await make_show(api)
    seasons = (await api.get(f"/api/media/{show_id}/seasons")).json()
    assert [s["seasonNumber"] for s in seasons] == [1, 2]
    assert [e["episodeNumber"] for e in seasons[0]["episodes"]] == [1, 2]
    episode = seasons[0]["episodes"][0]
    assert episode["seasonId"] == seasons[0]["id"] and seasons[0]["mediaId"] == show_id
    assert {"status", "progress", "downloadId", "fileSize", "playPosition", "playDuration"} <= set(episode)
    movie = await add(api, type="movie")
    assert (await api.get(f"/api/media/{movie['id']}/seasons")).status_code == 400


async def test_movie_positions(api: Api) -> None:
    movie = await add(api, type="movie")
    url = f"/api/media/{movie['id']}/position"
    assert (await api.get(url)).json() == {"position": 0, "duration": None}
    assert (await api.put(url, json={"position": 61.5, "duration": 5400})).status_code == 204
    assert (await api.get(url)).json() == {"position": 61.5, "duration": 5400}
    beacon = await api.post(url, content=b'{"position": 90, "duration": 5400}', headers={"Content-Type": "text/plain"})
    assert beacon.status_code == 204
    detail = (await api.get(f"/api/media/{movie['id']}")).json()
    assert (detail["playPosition"], detail["playDuration"]) == (90, 5400)
    assert detail["lastPlayedAt"].endswith("Z")


@pytest.mark.parametrize(
    "body",
    [
        b'{"position": -1}',
        b'{"position": NaN}',
        b'{"position": 10, "duration": 0}',
        b'{"position": 1e999}',
        b'{"duration": 10}',
        b"not json",
        b'{"position": 10, "episodeId": "abc"}',
    ],
)
async def test_bad_positions_are_refused_and_nothing_changes(api: Api, body: bytes) -> None:
    movie = await add(api, type="movie")
    url = f"/api/media/{movie['id']}/position"
    await api.put(url, json={"position": 5})
    for method in ("PUT", "POST"):
        response = await api.request(method, url, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (method, response.text)
        assert response.json()["message"]
    assert (await api.get(url)).json()["position"] == 5


async def test_reading_a_position_or_the_detail_leaves_last_played_alone(api: Api) -> None:
    """Only saving a position counts as playing: reads do not reorder continue-watching."""
    first, second = await add(api, type="movie", title="First"), await add(api, type="movie", title="Second")
    for movie in (first, second):
        assert (await api.put(f"/api/media/{movie['id']}/position", json={"position": 30})).status_code == 204
    played = (await api.get(f"/api/media/{first['id']}")).json()["lastPlayedAt"]
    assert played is not None
    for url in (f"/api/media/{first['id']}/position", f"/api/media/{first['id']}", "/api/media",
                "/api/media/continue-watching", f"/api/media/{first['id']}/progress"):
        assert (await api.get(url)).status_code == 200, url
    assert (await api.get(f"/api/media/{first['id']}")).json()["lastPlayedAt"] == played
    assert [i["id"] for i in (await api.get("/api/media/continue-watching")).json()] == [second["id"], first["id"]]


async def test_show_positions_need_one_of_its_episodes(api: Api) -> None:
    show_id, episodes = await make_show(api)
    other_id, other_episodes = await make_show(api, "Other")
    url = f"/api/media/{show_id}/position"
    assert (await api.put(url, json={"position": 10})).status_code == 400
    assert (await api.get(url)).status_code == 400
    assert (await api.put(url, json={"position": 10, "episodeId": other_episodes[0]})).status_code == 400
    assert (await api.put(url, json={"position": 10, "episodeId": episodes[0]})).status_code == 204
    assert (await api.get(url, params={"episodeId": episodes[0]})).json() == {"position": 10, "duration": None}
    assert (await api.get(url, params={"episodeId": episodes[1]})).json() == {"position": 0, "duration": None}
    # The show itself has no one position (each episode has its own, in /seasons).
    detail = (await api.get(f"/api/media/{show_id}")).json()
    assert (detail["playPosition"], detail["playDuration"]) == (None, None)
    assert detail["lastPlayedAt"] is not None
    seasons = (await api.get(f"/api/media/{show_id}/seasons")).json()
    positions = {e["id"]: e["playPosition"] for s in seasons for e in s["episodes"]}
    assert positions == {episode: 10 if episode == episodes[0] else 0 for episode in episodes}


async def test_continue_watching_order_cutoff_and_limit(api: Api) -> None:
    movies = [await add(api, type="movie", title=f"Movie {i}") for i in range(23)]
    for movie in movies:
        await api.put(f"/api/media/{movie['id']}/position", json={"position": 100, "duration": 1000})
    # Finished (≥ 90 %) and never-started items are left out.
    await api.put(f"/api/media/{movies[0]['id']}/position", json={"position": 900, "duration": 1000})
    await api.put(f"/api/media/{movies[1]['id']}/position", json={"position": 0, "duration": 1000})
    await api.put(f"/api/media/{movies[2]['id']}/position", json={"position": 899.9, "duration": 1000})
    await api.put(f"/api/media/{movies[3]['id']}/position", json={"position": 50})  # unknown duration counts
    items = (await api.get("/api/media/continue-watching")).json()
    assert len(items) == 20
    ids = [i["id"] for i in items]
    assert ids[:2] == [movies[3]["id"], movies[2]["id"]]
    assert movies[0]["id"] not in ids and movies[1]["id"] not in ids
    assert ids[2:] == [m["id"] for m in reversed(movies[4:])][:18]
    stamps = [i["lastPlayedAt"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert set(items[0]) == {"id", "type", "title", "year", "posterUrl", "playPosition", "playDuration", "lastPlayedAt"}


async def test_continue_watching_lists_a_show_once_for_its_latest_episode(api: Api) -> None:
    show_id, episodes = await make_show(api)
    url = f"/api/media/{show_id}/position"
    await api.put(url, json={"position": 100, "duration": 1000, "episodeId": episodes[0]})
    await api.put(url, json={"position": 200, "duration": 1000, "episodeId": episodes[3]})
    items = (await api.get("/api/media/continue-watching")).json()
    assert len(items) == 1
    item = items[0]
    assert item["id"] == show_id and item["episodeId"] == episodes[3]
    row = await Episode.select(Episode.episode_number, Episode.season.season_number, Episode.title).where(
        Episode.id == episodes[3]
    ).first()
    assert (item["seasonNumber"], item["episodeNumber"]) == (row["season.season_number"], row["episode_number"])
    assert item["episodeTitle"] == row["title"] and item["playPosition"] == 200


async def test_deleting_a_show_removes_its_rows(api: Api) -> None:
    show_id, _ = await make_show(api)
    assert (await api.delete(f"/api/media/{show_id}")).status_code == 204
    assert await Episode.count().where(Episode.media == show_id) == 0
    assert await Media.count() == 0
