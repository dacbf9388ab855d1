"""Downloads through the HTTP API on a real loopback swarm: issue 3's "done when"."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediahub.db.tables import ApiToken, Download, Media, Position, Profile, Torrent
from mediahub.events import TorrentChanged
from mediahub.hub import Hub
from mediahub.settings import Settings
from tests.hubs import OWNER_TOKEN, Api, magnet, make_settings, progress, wait_json, wait_progress
from tests.media import make_big_mp4
from tests.server_process import MEDIAHUB, start_server
from tests.swarm import Swarm, build_info, until

pytestmark = pytest.mark.anyio

KIB, MIB = 1024, 1024 * 1024
ORDER = ["added", "downloading", "completed", "ready"]


async def add(api: Api, magnet: str, **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/media", json={"magnetLink": magnet, **fields})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def wait_status(api: Api, media_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    return await wait_progress(api, media_id, lambda view: view["status"] == status, timeout)


async def sse_events(api: Api, media_id: str) -> list[dict[str, Any]]:
    """Every `progress` event of the stream, until the server ends it."""
    events = []
    async with api.http.stream("GET", f"/api/media/{media_id}/progress/stream", headers=api.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:") and kind == "progress":
                events.append(json.loads(line.partition(":")[2]))
    return events


def library_file(settings: Settings, virtual: str) -> Path:
    assert virtual.startswith("/library/")
    return settings.library_dir / virtual.removeprefix("/library/")


async def test_movie_goes_from_added_to_ready_with_live_progress(
    api: Api, swarm: Swarm, mp4_file: Path, settings: Settings
):
    data = mp4_file.read_bytes()
    seed = swarm.seed({"Big.Buck.Bunny.2008.1080p.mp4": mp4_file}, piece_size=16 * KIB, upload_limit=len(data) // 3)
    created = await add(api, seed.magnet)
    assert created["status"] == "added" and created["title"] == "Big Buck Bunny" and created["year"] == 2008
    media_id = created["id"]
    stream = asyncio.create_task(sse_events(api, media_id))

    sample = await wait_progress(api, media_id, lambda v: v["status"] == "downloading" and v["downloadSpeed"], 10)
    assert sample["isActive"] and sample["peers"] >= 1 and sample["seeds"] >= 1
    assert sample["totalBytes"] == len(data) and 0 <= sample["downloadedBytes"] <= len(data)
    assert 0 <= sample["progress"] < 100 and sample["filePath"] is None and sample["eta"] is not None

    events = await asyncio.wait_for(stream, 30)
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "ready" and "downloading" in statuses
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)
    assert len(events) >= 3  # at least once a second while a ~3 s download runs

    done = await progress(api, media_id)
    assert done["status"] == "ready" and done["progress"] == 100 and not done["isActive"]
    assert done["filePath"] == "/library/movies/Big Buck Bunny (2008)/Big Buck Bunny (2008).mp4"
    assert library_file(settings, done["filePath"]).read_bytes() == data
    detail = (await api.get(f"/api/media/{media_id}")).json()
    assert detail["filePath"] == done["filePath"] and detail["fileSize"] == len(data) and detail["status"] == "ready"


@pytest.fixture(scope="session")
def big_mp4(media_dir: Path) -> Path:
    """A real 4 MiB faststart MP4: big enough to stop halfway through."""
    return make_big_mp4(media_dir / "big.mp4", 4 * MIB)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Api]:
    """A hub serving HTTP, for tests that stop and start it again on the same data."""
    async with Hub.open(settings) as hub:
        url = await hub.serve()
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Api(client, hub)


def blocks_on_disk(path: Path) -> int:
    return path.stat().st_blocks if path.exists() else 0


async def test_season_pack_maps_episodes_and_skips_extras(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    pack = "Show.Name.S01.1080p.WEB"
    files: dict[str, bytes | Path] = {
        f"{pack}/Show.Name.S01E01.1080p.WEB.mp4": mp4_file,
        f"{pack}/Show.Name.S01E02.1080p.WEB.mp4": mp4_file,
        f"{pack}/Show.Name.S01E03E04.1080p.WEB.mp4": mp4_file,
        f"{pack}/Sample/show.name.s01e01.sample.mp4": os.urandom(120 * KIB),
        f"{pack}/Show.Name.S01E01.1080p.WEB.srt": b"1\n00:00:01,000 --> 00:00:02,000\nHello\n",
        f"{pack}/Show.Name.nfo": os.urandom(30 * KIB),
    }
    seed = swarm.seed(files, piece_size=16 * KIB)
    created = await add(api, seed.magnet)
    assert created["type"] == "tv" and created["title"] == "Show Name"
    await wait_status(api, created["id"], "ready")

    seasons = (await api.get(f"/api/media/{created['id']}/seasons")).json()
    assert [s["seasonNumber"] for s in seasons] == [1]
    episodes = seasons[0]["episodes"]
    assert [e["episodeNumber"] for e in episodes] == [1, 2, 3, 4]
    assert {e["fileIndex"] for e in episodes[2:]} == {seed.file_index(f"{pack}/Show.Name.S01E03E04.1080p.WEB.mp4")}
    assert all(e["status"] == "ready" and e["progress"] == 100 for e in episodes)
    paths = [e["filePath"] for e in episodes]
    assert paths[:2] == [f"/library/tv/Show Name/Season 01/Show Name - S01E0{n}.mp4" for n in (1, 2)]
    assert paths[2] == paths[3] == "/library/tv/Show Name/Season 01/Show Name - S01E03-E04.mp4"
    for path in set(paths):
        assert library_file(settings, path).read_bytes() == mp4_file.read_bytes()

    torrent_dir = settings.downloads_dir / seed.infohash / pack
    assert blocks_on_disk(torrent_dir / "Sample/show.name.s01e01.sample.mp4") == 0
    assert blocks_on_disk(torrent_dir / "Show.Name.nfo") == 0
    assert (torrent_dir / "Show.Name.S01E01.1080p.WEB.srt").read_bytes() == files[f"{pack}/Show.Name.S01E01.1080p.WEB.srt"]
    detail = (await api.get(f"/api/media/{created['id']}")).json()
    assert detail["seasonCount"] == 1 and detail["episodeCount"] == 4 and detail["downloads"][0]["status"] == "ready"


async def test_stopping_the_server_mid_download_resumes(
    swarm: Swarm, big_mp4: Path, tmp_path: Path, database_url: str
):
    data = big_mp4.read_bytes()
    seed = swarm.seed({"Resume.Test.2021.mp4": big_mp4}, upload_limit=1 * MIB)
    settings = make_settings(tmp_path / "data", database_url)
    async with running(settings) as api:
        media_id = (await add(api, seed.magnet))["id"]
        await wait_progress(api, media_id, lambda v: v["progress"] >= 50, 20)
    uploaded_before = seed.handle.status().total_payload_upload
    seed.throttle(None)
    async with running(settings) as api:
        done = await wait_status(api, media_id, "ready")
    after_restart = seed.handle.status().total_payload_upload - uploaded_before
    assert after_restart < 0.65 * len(data), f"{after_restart} of {len(data)} bytes fetched again"
    assert library_file(settings, done["filePath"]).read_bytes() == data


async def test_sigkill_mid_download_resumes(swarm: Swarm, big_mp4: Path, tmp_path: Path):
    data = big_mp4.read_bytes()
    seed = swarm.seed({"Crash.Test.2022.mp4": big_mp4}, upload_limit=1 * MIB)
    data_dir = tmp_path / "server-data"
    command = [MEDIAHUB, "serve", "--port", "{port}"]
    with start_server(command, data_dir) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            api = Api(http, None, {"Authorization": f"Bearer {server.token}"})  # type: ignore[arg-type]
            media_id = (await add(api, seed.magnet))["id"]
            await wait_progress(api, media_id, lambda v: v["progress"] >= 50, 20)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    uploaded_before = seed.handle.status().total_payload_upload
    seed.throttle(None)
    with start_server(command, data_dir) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            api = Api(http, None, {"Authorization": f"Bearer {server.token}"})  # type: ignore[arg-type]
            done = await wait_status(api, media_id, "ready")
    after_restart = seed.handle.status().total_payload_upload - uploaded_before
    assert after_restart < 0.7 * len(data), f"{after_restart} of {len(data)} bytes fetched again"
    assert (data_dir / done["filePath"].lstrip("/")).read_bytes() == data


async def test_two_profiles_share_one_download(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    seed = swarm.seed({"Shared.Movie.2019.mp4": mp4_file}, piece_size=16 * KIB, upload_limit=100 * KIB)
    _, other = await api.new_profile("Second")
    mine = await add(api, seed.magnet)
    theirs = await add(other, seed.magnet)
    assert mine["id"] != theirs["id"] and mine["infohash"] == theirs["infohash"]
    assert len(api.hub.engine.torrents()) == 1  # type: ignore[union-attr]
    for client, item in ((api, mine), (other, theirs)):
        view = await wait_progress(client, item["id"], lambda v: v["status"] == "downloading" and v["peers"] >= 1, 10)
        assert view["totalBytes"] == mp4_file.stat().st_size
    seed.throttle(None)
    ready = [await wait_status(client, item["id"], "ready") for client, item in ((api, mine), (other, theirs))]
    assert ready[0]["filePath"] == ready[1]["filePath"]  # one library file on disk
    shared = library_file(settings, ready[0]["filePath"])

    assert (await api.delete(f"/api/media/{mine['id']}")).status_code == 204
    assert shared.read_bytes() == mp4_file.read_bytes()
    assert (await progress(other, theirs["id"]))["status"] == "ready"
    assert (await other.delete(f"/api/media/{theirs['id']}")).status_code == 204
    assert not shared.exists() and not shared.parent.exists()
    assert not (settings.downloads_dir / seed.infohash).exists()
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]


@pytest.mark.parametrize("settings", [{"keep_original": True}], indirect=True)  # to look at the download
async def test_hostile_file_names_land_inside_the_data_dir(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    hostile = [(["..", "..", "escape.mkv"], mp4_file.read_bytes()), (["/etc", "x"], b"not yours")]
    seed = swarm.seed_info(build_info("../../Evil.Movie.2020", hostile), dict(enumerate(data for _, data in hostile)))
    created = await add(api, seed.magnet)
    await wait_status(api, created["id"], "ready")
    data_dir = settings.data_dir.resolve()
    outside = [p for p in settings.data_dir.parent.rglob("*") if p.is_file() and not p.resolve().is_relative_to(data_dir)]
    assert outside == []
    inside = [p.name for p in (settings.downloads_dir / seed.infohash).rglob("*") if p.is_file()]
    assert "escape.mkv" in inside


async def test_dead_magnet_stays_added_and_can_be_deleted(api: Api):
    magnet = f"magnet:?xt=urn:btih:{secrets.token_hex(20)}&dn=Nobody.Seeds.This.2001.mkv"
    created = await add(api, magnet)
    view = await progress(api, created["id"])
    assert view["status"] == "added" and view["isActive"] and view["peers"] == 0 and view["progress"] == 0
    assert view["eta"] is None and view["totalBytes"] is None
    assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204
    assert (await api.get(f"/api/media/{created['id']}/progress")).status_code == 404
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]


async def test_pause_resume_and_retry(api: Api, swarm: Swarm, big_mp4: Path):
    seed = swarm.seed({"Pause.Test.2020.mp4": big_mp4}, upload_limit=512 * KIB)
    media_id = (await add(api, seed.magnet))["id"]
    await wait_status(api, media_id, "downloading", 10)
    assert (await api.post(f"/api/media/{media_id}/pause")).status_code == 204
    paused = await progress(api, media_id)
    assert paused["status"] == "paused" and not paused["isActive"]
    assert (await api.post(f"/api/media/{media_id}/retry")).status_code == 409  # nothing failed
    seed.throttle(None)
    assert (await api.post(f"/api/media/{media_id}/resume")).status_code == 204
    await wait_status(api, media_id, "ready")
    assert (await api.post(f"/api/media/{media_id}/pause")).status_code == 409  # finished


async def test_a_pause_is_the_profiles_own(api: Api, swarm: Swarm, big_mp4: Path):
    """Two profiles hold one download: one pausing it does not stop it for the other."""
    seed = swarm.seed({"Shared.Pause.2021.mp4": big_mp4}, upload_limit=256 * KIB)
    _, other = await api.new_profile("Second")
    mine, theirs = (await add(api, seed.magnet))["id"], (await add(other, seed.magnet))["id"]
    await wait_status(api, mine, "downloading", 10)
    assert (await api.post(f"/api/media/{mine}/pause")).status_code == 204
    assert (await progress(api, mine))["status"] == "paused"
    assert (await api.get("/api/media")).json()[0]["status"] == "paused"
    before = await progress(other, theirs)
    assert before["status"] == "downloading" and before["isActive"]
    grown = await wait_progress(other, theirs, lambda v: v["downloadedBytes"] > before["downloadedBytes"], 10)
    assert grown["status"] == "downloading"  # still running for the second profile

    assert (await other.post(f"/api/media/{theirs}/pause")).status_code == 204  # now everyone paused it
    assert (await progress(other, theirs))["status"] == "paused"
    assert api.hub.engine.status(seed.infohash).paused  # type: ignore[union-attr]
    assert (await api.post(f"/api/media/{mine}/resume")).status_code == 204
    assert (await progress(api, mine))["status"] == "downloading"
    assert (await progress(other, theirs))["status"] == "paused"
    assert not api.hub.engine.status(seed.infohash).paused  # type: ignore[union-attr]
    seed.throttle(None)
    await wait_status(api, mine, "ready")
    assert (await progress(other, theirs))["status"] == "ready"  # a finished download is nobody's to pause


async def test_when_the_last_runner_leaves_the_pausers_keep_it_paused(api: Api):
    link = magnet()
    _, other = await api.new_profile("Second")
    mine, theirs = (await add(api, link))["id"], (await add(other, link))["id"]
    infohash = (await api.get(f"/api/media/{mine}")).json()["infohash"]
    assert (await api.post(f"/api/media/{mine}/pause")).status_code == 204
    assert not api.hub.engine.status(infohash).paused  # type: ignore[union-attr]  # the second still wants it
    assert (await other.delete(f"/api/media/{theirs}")).status_code == 204
    assert api.hub.engine.status(infohash).paused  # type: ignore[union-attr]
    assert (await progress(api, mine))["status"] == "paused"


async def test_torrent_without_video_fails_with_a_reason(api: Api, swarm: Swarm):
    seed = swarm.seed({"Just.Text/readme.txt": b"no video here"})
    media_id = (await add(api, seed.magnet, type="movie"))["id"]
    failed = await wait_status(api, media_id, "error", 10)
    assert failed["error"] == "This torrent contains no video file." and not failed["isActive"]
    detail = (await api.get(f"/api/media/{media_id}")).json()
    assert (detail["status"], detail["error"]) == ("error", failed["error"])


async def test_a_failed_download_is_retried_and_finishes(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    """A disk error (a file where the torrent's folder goes) fails the download; once it is
    out of the way, a retry downloads it to the end -- a retry that did nothing stays `error`."""
    seed = swarm.seed({"Retry.Film.2020/Retry.Film.2020.mp4": mp4_file})
    obstacle = settings.downloads_dir / seed.infohash / "Retry.Film.2020"
    obstacle.parent.mkdir(parents=True)
    obstacle.write_bytes(b"in the way")
    media_id = (await add(api, seed.magnet, type="movie"))["id"]
    failed = await wait_status(api, media_id, "error", 20)
    assert failed["error"] == "Disk error while downloading: Not a directory." and not failed["isActive"]
    assert (await api.post(f"/api/media/{media_id}/resume")).status_code == 409  # not paused: retry is the way

    obstacle.unlink()
    retried = await api.post(f"/api/media/{media_id}/retry")
    assert retried.status_code == 202, retried.text
    ready = await wait_status(api, media_id, "ready", 30)
    assert "error" not in ready
    assert library_file(settings, ready["filePath"]).read_bytes() == mp4_file.read_bytes()
    assert (await api.post(f"/api/media/{media_id}/retry")).status_code == 409  # nothing failed now


async def test_mkv_becomes_a_browser_safe_library_mp4_and_goes_with_its_item(
    api: Api, swarm: Swarm, mkv_file: Path, settings: Settings
):
    srt = b"1\n00:00:00,500 --> 00:00:01,500\nHello from the sidecar\n"
    seed = swarm.seed({"Remux.Me.2015/Remux.Me.2015.mkv": mkv_file, "Remux.Me.2015/Remux.Me.2015.en.srt": srt})
    created = await add(api, seed.magnet)
    done = await wait_status(api, created["id"], "ready")
    assert done["filePath"] == "/library/movies/Remux Me (2015)/Remux Me (2015).mp4"
    video = library_file(settings, done["filePath"])
    assert video.read_bytes()[4:8] == b"ftyp"
    assert [p.suffix for p in video.parent.glob("*.vtt")] == [".vtt"]  # the sidecar, as WebVTT
    # The MKV original would double the disk space: it goes, and the torrent stops seeding.
    download_dir = settings.downloads_dir / seed.infohash
    await until(lambda: not download_dir.exists(), 10, "the original to be deleted")
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]
    played = await api.get(f"/api/media/{created['id']}/stream", headers={"Range": "bytes=0-"})
    assert played.status_code == 206 and played.content == video.read_bytes()
    assert (await api.delete(f"/api/media/{created['id']}")).status_code == 204
    assert not video.parent.exists()


async def test_joining_a_download_whose_original_went(api: Api, swarm: Swarm, mkv_file: Path, settings: Settings):
    """Its library file serves a profile that names the item alike; another name downloads again."""
    seed = swarm.seed({"Joined.Late.2018.mkv": mkv_file})
    first = await add(api, seed.magnet)
    done = await wait_status(api, first["id"], "ready")
    await until(lambda: not (settings.downloads_dir / seed.infohash).exists(), 10, "the original to be deleted")
    _, other = await api.new_profile("Second")
    alike = await add(other, seed.magnet)
    same = await wait_progress(other, alike["id"], lambda view: view["filePath"], 30)
    assert same["filePath"] == done["filePath"]
    _, third = await api.new_profile("Third")
    renamed = await add(third, seed.magnet, title="Late Joiner")
    own = await wait_progress(third, renamed["id"], lambda view: (view["filePath"] or "").endswith(".mp4"), 30)
    assert own["filePath"] == "/library/movies/Late Joiner (2018)/Late Joiner (2018).mp4"
    assert library_file(settings, own["filePath"]).read_bytes()[4:8] == b"ftyp"
    assert (await progress(api, first["id"]))["status"] == "ready"
    await until(lambda: not (settings.downloads_dir / seed.infohash).exists(), 10, "the original to go again")


@pytest.mark.parametrize("settings", [{"keep_original": True}], indirect=True)
async def test_keep_original_keeps_the_download_seeding(api: Api, swarm: Swarm, mkv_file: Path, settings: Settings):
    seed = swarm.seed({"Keep.Me.2016.mkv": mkv_file})
    created = await add(api, seed.magnet)
    done = await wait_status(api, created["id"], "ready")
    assert library_file(settings, done["filePath"]).suffix == ".mp4"
    assert (settings.downloads_dir / seed.infohash / "Keep.Me.2016.mkv").read_bytes() == mkv_file.read_bytes()
    assert [t.infohash for t in api.hub.engine.torrents()] == [seed.infohash]  # type: ignore[union-attr]


async def test_originals_kept_before_go_at_the_next_start(swarm: Swarm, mkv_file: Path, tmp_path: Path, database_url: str):
    """Turning MEDIAHUB_KEEP_ORIGINAL off (or a stop right after `ready`) leaves no original behind."""
    seed = swarm.seed({"Kept.Then.Not.2019.mkv": mkv_file})
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    kept = make_settings(tmp_path / "data", database_url, keep_original=True)
    async with Hub.open(kept) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        item = await add(http, seed.magnet)  # type: ignore[arg-type]
        done = await wait_status(http, item["id"], "ready")  # type: ignore[arg-type]
    original = kept.downloads_dir / seed.infohash / "Kept.Then.Not.2019.mkv"
    assert original.exists()
    settings = make_settings(tmp_path / "data", database_url)
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        await until(lambda: not original.parent.exists(), 10, "the kept original to be deleted")
        played = await http.get(f"/api/media/{item['id']}/stream", headers={"Range": "bytes=0-"})
    assert played.status_code == 206 and played.content == library_file(settings, done["filePath"]).read_bytes()


async def test_a_player_of_the_download_keeps_the_original_until_it_stops(
    api: Api, swarm: Swarm, mkv_file: Path, settings: Settings
):
    """Someone watching while it downloads reads the torrent's MKV: it must outlive `ready`."""
    seed = swarm.seed({"Watch.Me.2017.mkv": mkv_file}, piece_size=16 * KIB, upload_limit=200 * KIB)
    created = await add(api, seed.magnet)
    await wait_progress(api, created["id"], lambda view: view["status"] == "downloading" and view["totalBytes"], 10)
    index = (await api.hub.engine.wait_metadata(seed.infohash, 10))[0].index  # type: ignore[union-attr]
    async with api.hub.engine.open_file(seed.infohash, index) as player:  # type: ignore[union-attr]
        assert await player.read(0, 4, timeout=10) == mkv_file.read_bytes()[:4]
        seed.throttle(None)
        await wait_status(api, created["id"], "ready")
        tail = mkv_file.stat().st_size - 1024
        assert await player.read(tail, 1024, timeout=10) == mkv_file.read_bytes()[tail:]
        assert (settings.downloads_dir / seed.infohash).exists()
    await until(lambda: not (settings.downloads_dir / seed.infohash).exists(), 10, "the original to be deleted")


async def test_second_season_joins_the_show_and_progress_sums_both(api: Api, swarm: Swarm, mp4_file: Path):
    seasons = {n: swarm.seed({f"Show.S0{n}/Show.S0{n}E0{e}.mp4": mp4_file for e in (1, 2)}, piece_size=16 * KIB)
               for n in (1, 2)}  # fmt: skip
    seasons[2].throttle(64 * KIB)
    first = await add(api, seasons[1].magnet, type="tv", tmdbId=1399, title="Show")
    second = await api.post("/api/media", json={"magnetLink": seasons[2].magnet, "type": "tv", "tmdbId": 1399})
    assert second.status_code == 200 and second.json()["id"] == first["id"]
    assert len(second.json()["downloads"]) == 2

    busy = await wait_progress(api, first["id"], lambda v: v["status"] == "downloading" and v["totalBytes"], 10)
    assert busy["totalBytes"] == 4 * mp4_file.stat().st_size  # both packs' episodes
    seasons[2].throttle(None)
    await wait_status(api, first["id"], "ready")
    tree = (await api.get(f"/api/media/{first['id']}/seasons")).json()
    assert [(s["seasonNumber"], [e["episodeNumber"] for e in s["episodes"]]) for s in tree] == [(1, [1, 2]), (2, [1, 2])]
    assert len({e["downloadId"] for s in tree for e in s["episodes"]}) == 2
    assert all(e["filePath"].startswith("/library/tv/Show/Season 0") for s in tree for e in s["episodes"])


async def test_detail_and_progress_agree_on_the_error(api: Api, swarm: Swarm, big_mp4: Path):
    """A show with a failed pack and a running one is not `error` yet, in the detail as in
    /progress; once the other is ready, both say `error`, with the same reason."""
    running = swarm.seed({"Mixed.S01/Mixed.S01E01.mp4": big_mp4}, upload_limit=64 * KIB)
    failing = swarm.seed({"Mixed.S02/readme.txt": b"no video here"})
    show = await add(api, running.magnet, type="tv", tmdbId=4242, title="Mixed")
    await add(api, failing.magnet, type="tv", tmdbId=4242)

    async def views() -> tuple[dict[str, Any], dict[str, Any]]:
        return (await api.get(f"/api/media/{show['id']}")).json(), await progress(api, show["id"])

    await wait_json(api, f"/api/media/{show['id']}", lambda d: "error" in {x["status"] for x in d["downloads"]}, 20)
    detail, view = await views()
    assert detail["status"] == view["status"] in ("added", "downloading")
    assert detail["error"] is None and "error" not in view

    running.throttle(None)
    await wait_status(api, show["id"], "error", 60)  # ready + error: the failed pack shows now
    detail, view = await views()
    assert detail["status"] == view["status"] == "error"
    assert detail["error"] == view["error"] == "This torrent contains no video file."


async def test_a_profiles_own_pause_is_announced_at_once(api: Api):
    """Pausing a shared torrent that runs on for another profile changes only this profile's
    view; its change event is out before the 204, so the progress stream need not wait for a tick."""
    link = magnet()  # nobody seeds it: no progress event would wake the stream
    _, other = await api.new_profile("Second")
    mine, theirs = (await add(api, link))["id"], (await add(other, link))["id"]
    infohash = (await api.get(f"/api/media/{mine}")).json()["infohash"]
    events = asyncio.create_task(sse_events(api, mine))
    with api.hub.bus.subscribe() as changes:
        assert (await api.post(f"/api/media/{mine}/pause")).status_code == 204
        published = [changes.queue.get_nowait() for _ in range(changes.queue.qsize())]
    assert any(isinstance(e, TorrentChanged) and e.infohash == infohash for e in published), published
    assert (await progress(other, theirs))["status"] == "added"  # still running for the other profile
    await wait_progress(api, mine, lambda view: view["status"] == "paused", 5)
    assert (await api.delete(f"/api/media/{mine}")).status_code == 204  # ends the stream
    assert "paused" in [e["status"] for e in await asyncio.wait_for(events, 10)]


async def test_deleting_a_profile_takes_its_data_and_leaves_a_shared_download(
    api: Api, swarm: Swarm, mp4_file: Path, mkv_file: Path, settings: Settings
):
    """Owner deletes a profile: its items, positions, tokens and its own torrent go (rows and
    files); the torrent it shared stays whole for the other profile, which still streams it."""
    shared_seed = swarm.seed({"Shared.Film.2019.mp4": mp4_file})
    own_seed = swarm.seed({"Kid.Film.2020.mkv": mkv_file})
    kid_id, kid = await api.new_profile("Kid")
    mine = await add(api, shared_seed.magnet)
    kids = [await add(kid, shared_seed.magnet), await add(kid, own_seed.magnet)]
    ready = {item["id"]: await wait_status(client, item["id"], "ready")
             for client, item in ((api, mine), (kid, kids[0]), (kid, kids[1]))}  # fmt: skip
    shared_file = library_file(settings, ready[mine["id"]]["filePath"])
    own_file = library_file(settings, ready[kids[1]["id"]]["filePath"])
    assert own_file.is_file() and shared_file.is_file()
    assert (await kid.put(f"/api/media/{kids[0]['id']}/position", json={"position": 3})).status_code == 204

    assert (await api.delete(f"/api/profiles/{kid_id}")).status_code == 204
    assert (await kid.get("/api/media")).status_code == 401  # its tokens went with it
    assert await Profile.exists().where(Profile.id == kid_id) is False
    assert await ApiToken.count().where(ApiToken.profile == kid_id) == 0
    assert await Media.count().where(Media.profile == kid_id) == 0
    kid_items = [item["id"] for item in kids]
    assert await Download.count().where(Download.media.is_in(kid_items)) == 0
    assert await Position.count().where(Position.media.is_in(kid_items)) == 0
    # Its own torrent is gone, rows and files; the shared one is whole and still mine.
    assert await Torrent.exists().where(Torrent.infohash == own_seed.infohash) is False
    assert not own_file.exists() and not (settings.downloads_dir / own_seed.infohash).exists()
    assert [t.infohash for t in api.hub.engine.torrents()] == [shared_seed.infohash]  # type: ignore[union-attr]
    assert await Torrent.exists().where(Torrent.infohash == shared_seed.infohash)
    assert shared_file.read_bytes() == mp4_file.read_bytes()
    assert (await progress(api, mine["id"]))["status"] == "ready"
    streamed = await api.get(f"/api/media/{mine['id']}/stream")
    assert streamed.status_code == 200 and streamed.content == mp4_file.read_bytes()
