"""Who may touch what, route by route, as real requests against uvicorn on loopback.

The routes come from our own OpenAPI schema, so a route added later is covered here without
editing this file: every /api operation refuses missing, invalid and revoked tokens; every
operation on a media id answers 404 to another profile (and changes nothing of theirs);
owner-only operations answer 403 to a profile token; and ids or names that try to climb out
of the data dir (`..`, `%2e%2e`, `%5c`, absolute paths, NUL) get a 4xx and touch nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediahub.db.tables import Episode, Media, Season
from mediahub.ids import new_id
from tests.fake_tmdb import tiny_jpeg
from tests.hubs import Api, magnet
from tests.raw_http import raw_request

pytestmark = pytest.mark.anyio

OWNER_ONLY = {("POST", "/api/profiles"), ("DELETE", "/api/profiles/{profile_id}"),
              ("POST", "/api/profiles/{profile_id}/tokens"), ("DELETE", "/api/tokens/{token_id}")}


@dataclass
class Person:
    api: Api
    profile_id: str
    token_id: str
    movie: str
    show: str
    episode: str

    def fill(self, path: str) -> str:
        ids = {"media_id": self.movie, "profile_id": self.profile_id, "token_id": self.token_id,
               "file_name": "poster.jpg", "subtitle_id": "0"}
        for name, value in ids.items():
            path = path.replace("{" + name + "}", value)
        return path


async def _person(api: Api, name: str) -> Person:
    profile = (await api.post("/api/profiles", json={"name": name})).json()
    token = (await api.post(f"/api/profiles/{profile['id']}/tokens", json={"label": name})).json()
    me = api.as_token(token["token"])
    movie = (await me.post("/api/media", json={"magnetLink": magnet(), "title": f"{name} Movie", "type": "movie"})).json()
    show = (await me.post("/api/media", json={"magnetLink": magnet(), "title": f"{name} Show", "type": "tv"})).json()
    season = Season(id=new_id(), media=show["id"], season_number=1)
    await season.save()
    episode = Episode(id=new_id(), media=show["id"], season=season.id, episode_number=1)
    await episode.save()
    # A cached poster, as the enricher leaves it.
    poster = api.hub.settings.images_dir / movie["id"] / "poster.jpg"
    poster.parent.mkdir(parents=True)
    poster.write_bytes(tiny_jpeg())
    await Media.update({Media.poster_cached: True}).where(Media.id == movie["id"])
    assert (await me.put(f"/api/media/{movie['id']}/position", json={"position": 42, "duration": 100})).status_code == 204
    assert (await me.put(f"/api/media/{show['id']}/position", json={"position": 7, "episodeId": episode.id})).status_code == 204
    return Person(me, profile["id"], token["id"], movie["id"], show["id"], episode.id)


async def _operations(api: Api) -> list[tuple[str, str]]:
    schema = (await api.get("/schema/openapi.json")).json()
    return [(method.upper(), path) for path, ops in schema["paths"].items() if path.startswith("/api/") for method in ops]


async def _view(person: Person) -> dict[str, Any]:
    """Everything a person can see of their own things, to compare before and after."""
    me = person.api
    return {
        "list": (await me.get("/api/media")).json(),
        "movie": (await me.get(f"/api/media/{person.movie}")).json(),
        "show": (await me.get(f"/api/media/{person.show}")).json(),
        "seasons": (await me.get(f"/api/media/{person.show}/seasons")).json(),
        "movie position": (await me.get(f"/api/media/{person.movie}/position")).json(),
        "episode position": (await me.get(f"/api/media/{person.show}/position", params={"episodeId": person.episode})).json(),
        "poster": (await me.get(f"/api/images/{person.movie}/poster.jpg")).content,
        "profiles": (await me.get("/api/profiles")).json(),
    }


async def test_every_api_route_refuses_missing_invalid_and_revoked_tokens(api: Api) -> None:
    alice = await _person(api, "Alice")
    revoked = (await api.post(f"/api/profiles/{alice.profile_id}/tokens", json={})).json()
    assert (await api.delete(f"/api/tokens/{revoked['id']}")).status_code == 204
    before = await _view(alice)
    operations = await _operations(api)
    assert len(operations) >= 16
    bad_headers = [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {revoked['token']}"},
        {"Authorization": f"Basic {revoked['token']}"},
        {"Authorization": "Bearer"},
        {"Cookie": f"token={revoked['token']}"},
    ]
    port = api.http.base_url.port
    for n, (method, path) in enumerate(operations):
        # Each route from its own loopback address, so the token brake (20 per address) stays out of it.
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.1.{n + 1}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport) as stranger:
            for headers in bad_headers:
                response = await stranger.request(
                    method, alice.fill(path), headers=headers, json={"position": 1, "magnetLink": magnet(), "name": "x"}
                )
                assert response.status_code == 401, (method, path, headers, response.status_code)
                if method != "HEAD":
                    assert "token" in response.json()["message"].lower()
    assert await _view(alice) == before


async def test_no_profile_reaches_another_profiles_things(api: Api) -> None:
    alice, bob = await _person(api, "Alice"), await _person(api, "Bob")
    before = await _view(alice)
    default_id = next(p["id"] for p in (await api.get("/api/profiles")).json() if p["name"] == "Default")
    bob_via_owner = api.as_profile(bob.profile_id)
    checked = 0
    for method, path in await _operations(api):
        for caller in (bob.api, bob_via_owner):
            if "{media_id}" in path:
                for media_id, params in [(alice.movie, {}), (alice.show, {"episodeId": alice.episode})]:
                    url = path.replace("{media_id}", media_id).replace("{file_name}", "poster.jpg")
                    url = url.replace("{subtitle_id}", "0")
                    response = await caller.request(method, url, params=params, json={"position": 1, **params})
                    assert response.status_code == 404, (method, url, response.status_code)
                    if method != "HEAD":
                        assert "not found" in response.json()["message"].lower()
                    checked += 1
            elif (method, path) in OWNER_ONLY and caller is bob.api:
                url = alice.fill(path)
                response = await caller.request(method, url, json={"name": "Mallory", "label": "x"})
                assert response.status_code == 403, (method, url, response.status_code)
                checked += 1
    assert checked >= 20
    # Alice's episode is not Bob's, even on Bob's own show: nothing is stored.
    for caller in (bob.api, bob_via_owner):
        url = f"/api/media/{bob.show}/position"
        assert (await caller.put(url, json={"position": 5, "episodeId": alice.episode})).status_code == 400
        assert (await caller.get(url, params={"episodeId": alice.episode})).status_code == 400
    # Bob's lists never show Alice's things; his token ignores X-Profile-Id.
    for caller in (bob.api, bob_via_owner, bob.api.as_profile(alice.profile_id)):
        titles = {m["title"] for m in (await caller.get("/api/media")).json()}
        assert titles == {"Bob Movie", "Bob Show"}
        assert (await caller.get("/api/media/search", params={"q": "alice"})).json() == []
        assert {c["title"] for c in (await caller.get("/api/media/continue-watching")).json()} == {"Bob Movie", "Bob Show"}
    assert [p["id"] for p in (await bob.api.get("/api/profiles")).json()] == [bob.profile_id]
    # The poster is Alice's alone, by header or by ?token=.
    token = alice.api.headers["Authorization"].removeprefix("Bearer ")
    assert (await api.http.get(f"/api/images/{alice.movie}/poster.jpg", params={"token": token})).status_code == 200
    bob_token = bob.api.headers["Authorization"].removeprefix("Bearer ")
    assert (await api.http.get(f"/api/images/{alice.movie}/poster.jpg", params={"token": bob_token})).status_code == 404
    assert await _view(alice) == before
    assert default_id not in {alice.profile_id, bob.profile_id}


TRAVERSALS = [
    "..", "../..", "%2e%2e", "%2E%2E%2F%2E%2E", "..%2f..%2foutside", "..%5c..%5coutside", "%5c..%5c..",
    "%2Fetc%2Fpasswd", "/etc/passwd", "C:%5CWindows", "x%00y", "%00", "....//....//", "%252e%252e",
]


async def test_path_traversal_in_ids_and_names_touches_nothing(api: Api, tmp_path: Path) -> None:
    alice = await _person(api, "Alice")
    token = alice.api.headers["Authorization"].removeprefix("Bearer ")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "poster.jpg"
    secret.write_bytes(b"secret")
    data_dir = api.hub.settings.data_dir
    before_files = sorted(p for p in tmp_path.rglob("*") if data_dir not in p.parents and p != data_dir)
    before = await _view(alice)
    port = api.http.base_url.port
    targets = []
    for evil in TRAVERSALS:
        targets += [
            ("GET", f"/api/media/{evil}"),
            ("DELETE", f"/api/media/{evil}"),
            ("GET", f"/api/media/{evil}/seasons"),
            ("GET", f"/api/media/{alice.show}/position?episodeId={evil}"),
            ("PUT", f"/api/media/{evil}/position"),
            ("GET", f"/api/images/{evil}/poster.jpg"),
            ("GET", f"/api/images/{alice.movie}/{evil}"),
            ("GET", f"/api/images/{alice.movie}/{evil}%2Fposter.jpg"),
            ("GET", f"/api/images/{evil}%2F{alice.movie}/poster.jpg"),
            ("HEAD", f"/api/images/{alice.movie}/{evil}.jpg"),
            ("DELETE", f"/api/profiles/{evil}"),
            ("DELETE", f"/api/tokens/{evil}"),
            ("GET", f"/api/media/{alice.movie}/stream?episodeId={evil}"),
        ]
    for method, target in targets:
        status, body = await raw_request(port, method, target, token)
        assert 400 <= status < 500, (method, target, status)
        assert b"secret" not in body
    assert secret.read_bytes() == b"secret"
    after_files = sorted(p for p in tmp_path.rglob("*") if data_dir not in p.parents and p != data_dir)
    assert after_files == before_files
    assert await _view(alice) == before
