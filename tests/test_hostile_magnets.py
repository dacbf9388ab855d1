"""Magnets built to break the server: refused with a 400, and never a hang."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.hubs import Api, magnet

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
