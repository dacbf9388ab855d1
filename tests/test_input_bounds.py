"""Numbers and shapes out of range are a 400 with a message, and change nothing, on SQLite and
PostgreSQL alike. (`start=` of a stream is checked in test_stream_api.py.)"""

from __future__ import annotations

import pytest

from mediahub.library.positions import MAX_SECONDS
from tests.hubs import Api, magnet

pytestmark = pytest.mark.anyio

DEEP = b"[" * 20_000


async def test_deeply_nested_bodies_are_400(api: Api) -> None:
    movie = (await api.post("/api/media", json={"magnetLink": magnet()})).json()
    before = (await api.get("/api/media")).json(), (await api.get("/api/profiles")).json()
    for method, url, content_type in [
        ("POST", "/api/media", "application/json"),
        ("POST", "/api/profiles", "application/json"),
        ("PUT", f"/api/media/{movie['id']}/position", "application/json"),
        ("POST", f"/api/media/{movie['id']}/position", "text/plain"),  # navigator.sendBeacon
    ]:
        for body in (DEEP, b'{"magnetLink": "x", "genres": ' + DEEP):
            response = await api.request(method, url, content=body, headers={"Content-Type": content_type})
            assert response.status_code == 400, (method, url, response.text)
            assert "nested" in response.json()["message"]
    assert ((await api.get("/api/media")).json(), (await api.get("/api/profiles")).json()) == before
    nested_strings = {"magnetLink": magnet(), "title": "[[[[" * 100, "genres": ["{{{{" * 20]}
    assert (await api.post("/api/media", json=nested_strings)).status_code == 201  # brackets in text are text


@pytest.mark.parametrize("tmdb_id", [0, -1, 2**31, 2**63, 2**64])
async def test_tmdb_ids_out_of_range_are_400(api: Api, tmdb_id: int) -> None:
    response = await api.post("/api/media", json={"magnetLink": magnet(), "tmdbId": tmdb_id})
    assert response.status_code == 400, response.text
    assert "'tmdbId'" in response.json()["message"]
    assert (await api.get("/api/media")).json() == []
    largest = await api.post("/api/media", json={"magnetLink": magnet(), "tmdbId": 2**31 - 1})
    assert largest.status_code == 201 and largest.json()["tmdbId"] == 2**31 - 1


async def test_positions_out_of_range_are_400(api: Api) -> None:
    movie = (await api.post("/api/media", json={"magnetLink": magnet()})).json()
    url = f"/api/media/{movie['id']}/position"
    assert (await api.put(url, json={"position": 12.5, "duration": 100})).status_code == 204
    for body in [
        {"position": 1e308},
        {"position": 1e39},  # Infinity in PostgreSQL's REAL
        {"position": 2**70},
        {"position": MAX_SECONDS + 1},
        {"position": 1, "duration": 1e300},
        {"position": 1, "duration": 0},
    ]:
        for method in ("PUT", "POST"):
            response = await api.request(method, url, json=body)
            assert response.status_code == 400, (body, response.text)
            assert "seconds" in response.json()["message"]
    assert (await api.get(url)).json() == {"position": 12.5, "duration": 100}
    assert (await api.put(url, json={"position": MAX_SECONDS, "duration": MAX_SECONDS})).status_code == 204
    assert (await api.get(url)).json() == {"position": MAX_SECONDS, "duration": MAX_SECONDS}


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/media?limit=0", 400),
        ("/api/media?limit=1001", 400),
        ("/api/media?limit=99999999999999999999999", 400),
        ("/api/media?offset=-1", 400),
        ("/api/media?limit=5&offset=99999999999999999999999", 200),  # past the end: an empty page
        ("/api/media/search?q=ab&limit=101", 400),
        ("/api/media/search?q=ab&limit=99999999999999999999999", 400),
        ("/api/media/search?q=ab&limit=-1", 400),
    ],
)
async def test_paging_numbers_are_bounded(api: Api, url: str, status: int) -> None:
    await api.post("/api/media", json={"magnetLink": magnet()})
    response = await api.get(url)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == []
    else:
        assert any(name in response.json()["message"] for name in ("'limit'", "'offset'"))
