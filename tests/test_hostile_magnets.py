"""Magnets built to break the server: refused with a 400, and never a hang."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from mediahub.db.tables import Download, Torrent
from mediahub.hub import Hub
from tests.hubs import OWNER_TOKEN, Api, magnet, make_settings

pytestmark = pytest.mark.anyio

A, B = "a" * 40, "b" * 40
V2_A, V2_B = "1220" + "c" * 64, "1220" + "d" * 64


@pytest.mark.parametrize(
    "link",
    [
        f"magnet:?xt=urn:btih:{A}&xt=urn:btih:{B}",
        f"magnet:?xt.1=urn:btih:{A}&xt.2=urn:btih:{B}",
        f"magnet:?xt=urn:btih:{A}&XT=urn:btih:{B}",
        f"magnet:?xt=urn:btmh:{V2_A}&xt=urn:btmh:{V2_B}&xt=urn:btih:{A}",
    ],
)
async def test_a_magnet_naming_two_torrents_is_refused_and_hangs_nothing(api: Api, link: str):
    async with asyncio.timeout(10):
        refused = await api.post("/api/media", json={"magnetLink": link})
    assert refused.status_code == 400
    assert "more than one torrent" in refused.json()["message"]
    assert (await api.get("/api/media")).json() == []
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]
    async with asyncio.timeout(10):  # the engine's add lock is free: the next add goes through
        added = await api.post("/api/media", json={"magnetLink": magnet(secrets.token_hex(20))})
    assert added.status_code == 201


async def test_the_same_hash_twice_is_one_torrent(api: Api):
    added = await api.post("/api/media", json={"magnetLink": f"magnet:?xt=urn:btih:{A}&xt=urn:btih:{A.upper()}"})
    assert added.status_code == 201 and added.json()["infohash"] == A


@pytest.mark.parametrize(
    "link",
    [
        f"MAGNET:?XT=URN:BTIH:{A}",
        f"magnet:?xt=URN:BTIH:{A}",
        f"magnet:?xt=urn:btih:{A}%20",
        f"magnet:?xt=%20urn:btih:{A}",
        f"magnet:?&&xt=urn:btih:{A}",
    ],
)
async def test_a_magnet_libtorrent_refuses_is_refused_before_anything_is_stored(api: Api, link: str):
    refused = await api.post("/api/media", json={"magnetLink": link})
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("BitTorrent cannot use this magnet link")
    assert (await api.get("/api/media")).json() == []
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]


@pytest.mark.parametrize("stored", [f"MAGNET:?XT=URN:BTIH:{A}", f"magnet:?xt=urn:btih:{A}&xt=urn:btih:{B}"])
async def test_a_stored_magnet_that_cannot_start_fails_its_item_not_the_server(
    tmp_path: Path, database_url: str, stored: str
):
    """Rows an older version accepted: the server starts, stops, and says what is wrong."""
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        bad = (await http.post("/api/media", json={"magnetLink": magnet(A)})).json()["id"]
        good = (await http.post("/api/media", json={"magnetLink": magnet(B)})).json()["id"]
        await Torrent.update({Torrent.magnet_link: stored}).where(Torrent.infohash == A)
        await Download.update({Download.magnet_link: stored}).where(Download.infohash == A)

    async with asyncio.timeout(60):
        async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
            failed = (await http.get(f"/api/media/{bad}/progress")).json()
            assert failed["status"] == "error" and not failed["isActive"]
            assert "magnet link" in failed["error"]
            assert (await http.get(f"/api/media/{good}/progress")).json()["status"] == "added"
            assert [t.infohash for t in hub.engine.torrents()] == [B]  # type: ignore[union-attr]
