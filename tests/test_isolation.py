"""Profile isolation: another profile's ids are 404 on every route, and its lists never show them."""

import pytest

from mediahub.db.tables import Episode, Position, Season
from mediahub.ids import new_id
from tests.hubs import Api, magnet

pytestmark = pytest.mark.anyio


async def test_profile_b_never_sees_profile_a(api: Api) -> None:
    _, alice = await api.new_profile("Alice")
    _, bob = await api.new_profile("Bob")
    movie = (await alice.post("/api/media", json={"magnetLink": magnet(), "title": "Secret Movie", "type": "movie"})).json()
    show = (await alice.post("/api/media", json={"magnetLink": magnet(), "title": "Secret Show", "type": "tv"})).json()
    season = Season(id=new_id(), media=show["id"], season_number=1)
    await season.save()
    episode = Episode(id=new_id(), media=show["id"], season=season.id, episode_number=1)
    await episode.save()
    await alice.put(f"/api/media/{movie['id']}/position", json={"position": 10, "duration": 100})
    await alice.put(f"/api/media/{show['id']}/position", json={"position": 10, "episodeId": episode.id})

    for media_id, params in [(movie["id"], {}), (show["id"], {"episodeId": episode.id})]:
        for method, path, body in [
            ("GET", "", None),
            ("GET", "/seasons", None),
            ("GET", "/position", None),
            ("PUT", "/position", {"position": 99, **params}),
            ("POST", "/position", {"position": 99, **params}),
            ("DELETE", "", None),
        ]:
            response = await bob.request(method, f"/api/media/{media_id}{path}", params=params, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json() == {"message": "Media not found."}

    assert (await bob.get("/api/media")).json() == []
    assert (await bob.get("/api/media/search", params={"q": "secret"})).json() == []
    assert (await bob.get("/api/media/continue-watching")).json() == []
    # Bob adding the same magnet gets his own item, not Alice's.
    mine = await bob.post("/api/media", json={"magnetLink": movie["magnetLink"]})
    assert mine.status_code == 201 and mine.json()["id"] != movie["id"]
    assert mine.json()["title"] != "Secret Movie"
    # Nothing of Alice's changed.
    assert (await alice.get(f"/api/media/{movie['id']}/position")).json() == {"position": 10, "duration": 100}
    assert await Position.count() == 2
    assert len((await alice.get("/api/media/continue-watching")).json()) == 2
    assert {m["id"] for m in (await alice.get("/api/media")).json()} == {movie["id"], show["id"]}


async def test_deleting_in_one_profile_keeps_the_other(api: Api) -> None:
    _, alice = await api.new_profile("Alice")
    _, bob = await api.new_profile("Bob")
    link = magnet()
    a = (await alice.post("/api/media", json={"magnetLink": link})).json()
    b = (await bob.post("/api/media", json={"magnetLink": link})).json()
    assert (await alice.delete(f"/api/media/{a['id']}")).status_code == 204
    kept = await bob.get(f"/api/media/{b['id']}")
    assert kept.status_code == 200 and kept.json()["infohash"] == a["infohash"]
