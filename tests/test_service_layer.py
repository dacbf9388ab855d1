"""The service layer's contracts: one resolver, one status rule, few statements per request.

Real requests against uvicorn in the test's loop; the statement counts come from the hub's
own database handle (`Database.statements`), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from mediahub.db.tables import Episode, MediaAlias, Season, Torrent
from mediahub.errors import BadRequest, NotFound
from mediahub.ids import new_id
from tests.hubs import Api, magnet

pytestmark = pytest.mark.anyio


async def statements(api: Api, method: str, url: str, **kwargs: object) -> tuple[int, int]:
    """(status code, statements the database ran for it) of one request."""
    before = api.hub.db.statements
    response = await api.request(method, url, **kwargs)
    return response.status_code, api.hub.db.statements - before


async def test_hot_routes_stay_within_their_statement_budget(api: Api) -> None:
    movie = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "movie"})).json()["id"]
    show = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "tv"})).json()["id"]
    season = Season(id=new_id(), media=show, season_number=1)
    await season.save()
    episode = Episode(id=new_id(), media=show, season=season.id, episode_number=1)
    await episode.save()
    budget = [
        ("GET", f"/api/media/{movie}", {}, 200, 2),
        ("GET", f"/api/media/{show}", {}, 200, 2),
        ("GET", f"/api/media/{movie}/progress", {}, 200, 2),
        ("GET", "/api/media/continue-watching", {}, 200, 1),
        ("GET", "/api/media?limit=50", {}, 200, 2),  # the page, and its count until nothing changes
        ("PUT", f"/api/media/{movie}/position", {"json": {"position": 12.5, "duration": 90}}, 204, 3),
        ("PUT", f"/api/media/{show}/position", {"json": {"position": 3, "episodeId": episode.id}}, 204, 3),
        ("GET", f"/api/media/{show}/position", {"params": {"episodeId": episode.id}}, 200, 2),
    ]
    for method, url, kwargs, status, most in budget:
        code, ran = await statements(api, method, url, **kwargs)
        assert code == status and ran <= most, (method, url, code, ran)
    # The saves took effect: positions, and the item most recently played first.
    assert (await api.get(f"/api/media/{movie}/position")).json() == {"position": 12.5, "duration": 90}
    assert [c["id"] for c in (await api.get("/api/media/continue-watching")).json()] == [show, movie]


async def test_the_whole_list_is_kept_until_something_changes(api: Api) -> None:
    first = (await api.post("/api/media", json={"magnetLink": magnet(name="Heat.1995.mkv")})).json()
    listed = await api.get("/api/media")
    assert [i["id"] for i in listed.json()] == [first["id"]] and listed.headers["x-total-count"] == "1"
    etag = listed.headers["etag"]
    code, ran = await statements(api, "GET", "/api/media")
    assert (code, ran) == (200, 0)  # nothing changed: no statement
    again = await api.get("/api/media", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    second = (await api.post("/api/media", json={"magnetLink": magnet(name="Up.2009.mkv")})).json()
    changed = await api.get("/api/media", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert [i["id"] for i in changed.json()] == [second["id"], first["id"]]
    assert (await api.post(f"/api/media/{second['id']}/pause")).status_code == 204
    assert (await api.get("/api/media")).json()[0]["status"] == "paused"


async def test_one_status_rule_for_list_detail_and_progress(api: Api) -> None:
    """A show with two season packs: as far as its least finished one, progress by bytes,
    and an error only while the show as a whole is `error`."""
    body = {"type": "tv", "title": "Two Packs", "tmdbId": 1399}
    show = (await api.post("/api/media", json={"magnetLink": magnet(), **body})).json()
    again = (await api.post("/api/media", json={"magnetLink": magnet(), **body})).json()
    assert again["id"] == show["id"] and len(again["downloads"]) == 2
    one, two = (d["infohash"] for d in again["downloads"])

    async def torrent(infohash: str, **values: object) -> None:
        """What the download side records (written here directly: nobody seeds these magnets)."""
        await Torrent.update({getattr(Torrent, k): v for k, v in values.items()}).where(Torrent.infohash == infohash)

    async def views() -> list[tuple]:
        listed = next(i for i in (await api.get("/api/media?limit=10")).json() if i["id"] == show["id"])
        detail = (await api.get(f"/api/media/{show['id']}")).json()
        progress = (await api.get(f"/api/media/{show['id']}/progress")).json()
        return [(v["status"], v["progress"], v.get("error")) for v in (listed, detail, progress)]

    await torrent(one, status="ready", progress=100.0, total_bytes=3000)
    await torrent(two, status="downloading", progress=50.0, total_bytes=1000)
    assert await views() == [("downloading", 87.5, None)] * 3
    await torrent(two, status="error", error="No space left on device.")
    failed = ("error", 87.5, "No space left on device.")
    assert await views() == [("error", 87.5, None), failed, failed]  # a list item carries no error
    await torrent(two, status="ready", progress=100.0, error=None)
    assert await views() == [("ready", 100.0, None)] * 3


async def test_the_resolver_scopes_ids_and_episodes(api: Api) -> None:
    hub = api.hub
    movie = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "movie"})).json()["id"]
    show = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "tv"})).json()["id"]
    other, _ = await api.new_profile("Other")
    season = Season(id=new_id(), media=show, season_number=1)
    await season.save()
    episode = Episode(id=new_id(), media=show, season=season.id, episode_number=4)
    await episode.save()
    owner = hub.default_profile_id

    ref = await hub.resolver.resolve(owner, show, episode.id, episode_required=True)
    assert (ref.id, ref.type, ref.episode_key, ref.episode["episode_number"]) == (show, "tv", episode.id, 4)
    assert (await hub.resolver.resolve(owner, movie)).episode_key == ""
    for profile_id, media_id in [(other, movie), (owner, "no-such-id"), (owner, "")]:
        with pytest.raises(NotFound):
            await hub.resolver.resolve(profile_id, media_id)
    with pytest.raises(BadRequest, match="movie has no episodes"):
        await hub.resolver.resolve(owner, movie, episode.id)
    with pytest.raises(BadRequest, match="needs 'episodeId'"):
        await hub.resolver.resolve(owner, show, episode_required=True)
    with pytest.raises(BadRequest, match="does not belong"):
        await hub.resolver.resolve(owner, show, new_id())
    # An id handed out before a merge answers as the item it became, for its own profile only.
    await MediaAlias.insert(MediaAlias(id="merged-away", media=show))
    assert (await hub.resolver.resolve(owner, "merged-away")).id == show
    with pytest.raises(NotFound):
        await hub.resolver.resolve(other, "merged-away")
