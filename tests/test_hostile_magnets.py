"""Magnets built to break the server: refused with a 400, and never a hang."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import libtorrent as lt
import pytest

from mediahub.db.tables import Download, Torrent
from mediahub.hub import Hub
from mediahub.torrents.policy import apply_policy
from tests.hubs import OWNER_TOKEN, Api, magnet, make_settings, wait_progress
from tests.swarm import Recorder, Swarm, until

pytestmark = pytest.mark.anyio

KIB = 1024
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}
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
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=OWNER) as http:
        bad = (await http.post("/api/media", json={"magnetLink": magnet(A)})).json()["id"]
        good = (await http.post("/api/media", json={"magnetLink": magnet(B)})).json()["id"]
        await Torrent.update({Torrent.magnet_link: stored}).where(Torrent.infohash == A)
        await Download.update({Download.magnet_link: stored}).where(Download.infohash == A)

    async with asyncio.timeout(60):
        async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=OWNER) as http:
            failed = (await http.get(f"/api/media/{bad}/progress")).json()
            assert failed["status"] == "error" and not failed["isActive"]
            assert "magnet link" in failed["error"]
            assert (await http.get(f"/api/media/{good}/progress")).json()["status"] == "added"
            assert [t.infohash for t in hub.engine.torrents()] == [B]  # type: ignore[union-attr]


def naming(target: Recorder, link: str) -> str:
    """`link` plus a tracker, a web seed and a peer on the recorder (an unlisted loopback address)."""
    at = target.address
    return f"{link}&tr=http%3A%2F%2F{at}%2Fadmin%2Freboot&ws=http://{at}/files/&x.pe={at}"


async def test_trackers_web_seeds_and_peers_on_unlisted_addresses_are_never_reached(
    swarm: Swarm, mp4_file: Path, tmp_path: Path, database_url: str
):
    # ~4 s at the seeder's pace: time for libtorrent to announce, dial and try the web seed.
    seed = swarm.seed({"Policy.Test.2020.mp4": mp4_file}, piece_size=16 * KIB, upload_limit=48 * KIB)
    settings = make_settings(tmp_path / "data", database_url)  # lists the seeder's 127.0.0.1 only
    async with Recorder() as target, Hub.open(settings) as hub, httpx.AsyncClient(
        base_url=await hub.serve(), headers=OWNER
    ) as http:
        added = await http.post("/api/media", json={"magnetLink": naming(target, seed.magnet)})
        assert added.status_code == 201  # dropped, not refused: the seeder still delivers
        await wait_progress(http, added.json()["id"], lambda view: view["status"] == "ready", 30)
        assert target.seen == []


async def test_the_policy_holds_for_stored_magnets_and_resume_data(
    swarm: Swarm, mp4_file: Path, tmp_path: Path, database_url: str
):
    """What an earlier, looser list let in is dropped when the engine adds the torrent again."""
    seed = swarm.seed({"Policy.Restart.2021.mp4": mp4_file}, piece_size=16 * KIB, upload_limit=16 * KIB)
    async with Recorder() as target:
        loose = make_settings(tmp_path / "data", database_url, magnet_hosts=("127.0.0.1", Recorder.HOST))
        async with Hub.open(loose) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=OWNER) as http:
            media_id = (await http.post("/api/media", json={"magnetLink": naming(target, seed.magnet)})).json()["id"]
            await wait_progress(http, media_id, lambda view: view["progress"] > 0, 20)
            await until(lambda: len(target.seen) >= 2, 20, "the tracker and the peer to be reached")
        target.seen.clear()
        seed.throttle(64 * KIB)  # the rest in ~2 s
        strict = make_settings(tmp_path / "data", database_url)
        async with Hub.open(strict) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=OWNER) as http:
            await wait_progress(http, media_id, lambda view: view["status"] == "ready", 30)
            assert target.seen == []


async def test_the_engine_keeps_only_what_the_list_vouches_for():
    """The first layer on its own: what libtorrent would be told to contact."""
    public = "93.184.216.34"
    link = (
        f"magnet:?xt=urn:btih:{A}&tr=http://127.0.0.1:8080/admin&tr=http://localhost:6969/announce"
        f"&tr=udp://10.0.0.1:80&tr=http://[::1]:9/a&tr=http://{public}/announce&tr=ftp://{public}/x"
        f"&ws=http://169.254.169.254/latest/&ws=https://{public}/files/"
        f"&x.pe=192.168.1.5:6881&x.pe={public}:6881&x.pe=127.0.0.1:7000&dht=10.1.1.1:6881"
    )
    params = lt.parse_magnet_uri(link)
    await apply_policy(params, ("*", "127.0.0.1:7000"), A)
    assert params.trackers == [f"http://{public}/announce"]
    assert params.url_seeds == [f"https://{public}/files/"]
    assert params.peers == [(public, 6881), ("127.0.0.1", 7000)]
    assert params.dht_nodes == []
