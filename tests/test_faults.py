"""Faults: the server is killed, the disk fills up, the seeder vanishes — and nothing a user
saved is lost or corrupt afterwards. Slow by design; CI runs them."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
import pytest

from mediahub.hub import Hub
from tests.hubs import OWNER_TOKEN, Api, magnet, make_settings, wait_progress
from tests.media import make_avi, make_big_mp4
from tests.server_process import start_server
from tests.swarm import Swarm, until

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "fault-test-owner-token-0123456789"
UVICORN = [sys.executable, "-m", "uvicorn", "mediahub:app", "--port", "{port}", "--log-level", "warning"]
OWNER = {"Authorization": f"Bearer {TOKEN}"}


def _integrity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


async def test_sigkill_during_position_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"MEDIAHUB_OWNER_TOKEN": TOKEN}
    acknowledged: dict[str, float] = {}
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=10) as http:
            items = []
            for n in range(10):
                added = await http.post("/api/media", json={"magnetLink": magnet(name=f"Kill.{n}.2010.mkv"), "type": "movie"})
                items.append(added.json()["id"])

            async def writer(media_id: str) -> None:
                position = 0.0
                while True:
                    position += 1
                    try:
                        response = await http.put(f"/api/media/{media_id}/position", json={"position": position})
                    except httpx.TransportError:
                        return  # the server is gone
                    assert response.status_code == 204
                    acknowledged[media_id] = position

            writers = [asyncio.create_task(writer(media_id)) for media_id in items]
            await until(lambda: sum(acknowledged.values()) >= 300, 30, "writes flowing on every connection")
            server.process.kill()  # SIGKILL: no shutdown, no flush, mid-write
            server.process.wait()
            await asyncio.gather(*writers)

    database = data_dir / "mediahub.db"
    assert _integrity(database) == "ok"
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=10) as http:
            for media_id in items:
                saved = (await http.get(f"/api/media/{media_id}/position")).json()["position"]
                # The last acknowledged write survived; at most the one in flight went further.
                assert acknowledged[media_id] <= saved <= acknowledged[media_id] + 1, media_id
            assert (await http.put(f"/api/media/{items[0]}/position", json={"position": 1e6})).status_code == 204
            assert len((await http.get("/api/media")).json()) == 10
    assert _integrity(database) == "ok"


# --- helpers ------------------------------------------------------------------------------------


def _ready(progress: dict) -> bool:
    assert progress["status"] != "error", progress
    return progress["status"] == "ready"


async def _add(http: httpx.AsyncClient, link: str) -> str:
    added = await http.post("/api/media", json={"magnetLink": link, "type": "movie"})
    assert added.status_code == 201, added.text
    return added.json()["id"]


def _decoded(data: bytes) -> tuple[int, float]:
    """(video frames, duration in seconds) of a whole file."""
    with av.open(io.BytesIO(data)) as container:
        frames = sum(1 for _ in container.decode(video=0))
        return frames, float(container.duration or 0) / av.time_base


# --- the server process killed mid-way ------------------------------------------------------------


async def test_sigkill_during_a_download_then_restart_finishes_it(swarm: Swarm, tmp_path: Path) -> None:
    film = make_big_mp4(tmp_path / "film.mp4", 4 * 1024 * 1024)
    seed = swarm.seed({"Killed Download (2020).mp4": film}, upload_limit=768 * 1024)
    data_dir, env = tmp_path / "data", {"MEDIAHUB_OWNER_TOKEN": TOKEN}
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=10) as http:
            media_id = await _add(http, seed.magnet)
            before = await wait_progress(http, media_id, lambda p: p["progress"] >= 30, timeout=90)
            server.process.kill()
            server.process.wait()
    assert before["status"] == "downloading"
    assert _integrity(data_dir / "mediahub.db") == "ok"
    seed.throttle(None)
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=30) as http:
            await wait_progress(http, media_id, _ready, timeout=90)
            body = (await http.get(f"/api/media/{media_id}/stream")).content
    assert body == film.read_bytes()


async def test_sigkill_during_finalize_then_restart_redoes_it(swarm: Swarm, tmp_path: Path) -> None:
    """The AVI must be transcoded into the library's MP4 (seconds of work): killed in the
    middle, the restarted server makes it again, whole; no half-made file is left or served."""
    film = make_avi(tmp_path / "film.avi", seconds=60, size=(640, 360))
    seed = swarm.seed({"Killed Finalize (2020).avi": film})
    data_dir, env = tmp_path / "data", {"MEDIAHUB_OWNER_TOKEN": TOKEN}
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=10) as http:
            media_id = await _add(http, seed.magnet)
            seen = await wait_progress(http, media_id, lambda p: p["status"] in {"completed", "ready", "error"}, timeout=90)
            server.process.kill()
            server.process.wait()
    assert seen["status"] == "completed", seen
    with start_server(UVICORN, data_dir, env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OWNER, timeout=60) as http:
            await wait_progress(http, media_id, _ready, timeout=120)
            detail = (await http.get(f"/api/media/{media_id}")).json()
            body = (await http.get(f"/api/media/{media_id}/stream")).content
    assert detail["filePath"].endswith(".mp4") and detail["fileSize"] == len(body)
    frames, duration = _decoded(body)
    assert frames == 60 * 25 and abs(duration - 60) < 0.5
    library = data_dir / "library"
    assert [p.name for p in library.rglob("*") if p.is_file()] == [Path(detail["filePath"]).name]


# --- faults under a running hub ---------------------------------------------------------------------


@contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[None]:
    """A size-limited tmpfs at `path`: a disk that fills up on demand (mounting needs root, as CI has)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


async def test_disk_full_is_an_error_with_a_clear_message_and_recovers(
    swarm: Swarm, tmp_path: Path, database_url: str
) -> None:
    film = make_big_mp4(tmp_path / "film.mp4", 3 * 1024 * 1024)
    seed = swarm.seed({"Full Disk (2020).mp4": film})
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    with small_filesystem(settings.downloads_dir, "1m"):
        async with Hub.open(settings) as hub:
            async with httpx.AsyncClient(base_url=await hub.serve(), headers=owner, timeout=30) as http:
                media_id = await _add(http, seed.magnet)
                failed = await wait_progress(http, media_id, lambda p: p["status"] == "error", timeout=90)
                assert "space" in failed["error"].lower(), failed["error"]
                assert str(tmp_path) not in failed["error"]  # users see no host paths
                detail = (await http.get(f"/api/media/{media_id}")).json()
                assert detail["status"] == "error" and detail["error"] == failed["error"]
                stream = await http.get(f"/api/media/{media_id}/stream")
                assert stream.status_code == 503 and "space" in stream.json()["message"].lower()
                # Space is freed: a retry finishes the download.
                subprocess.run(["mount", "-o", "remount,size=16m", str(settings.downloads_dir)], check=True)
                assert (await http.post(f"/api/media/{media_id}/retry")).status_code == 202
                await wait_progress(http, media_id, _ready, timeout=90)
                assert (await http.get(f"/api/media/{media_id}/stream")).content == film.read_bytes()


async def test_the_seeder_vanishing_and_coming_back(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_big_mp4(tmp_path / "film.mp4", 3 * 1024 * 1024)
    seed = swarm.seed({"Vanishing Seeder (2020).mp4": film}, upload_limit=384 * 1024)
    added = await api.post("/api/media", json={"magnetLink": seed.magnet, "type": "movie"})
    media_id = added.json()["id"]
    await wait_progress(api, media_id, lambda p: p["progress"] >= 20, timeout=90)
    seed.stop()
    last = {"progress": -1.0, "since": time.monotonic()}

    def no_progress_for_2_seconds(progress: dict) -> bool:
        if progress["progress"] != last["progress"]:
            last.update(progress=progress["progress"], since=time.monotonic())
        return time.monotonic() - last["since"] >= 2

    stalled = await wait_progress(api, media_id, no_progress_for_2_seconds, timeout=30)
    assert stalled["status"] == "downloading" and stalled["progress"] < 100  # waiting, not failed
    seed.throttle(None)
    seed.start(connect_to=[api.hub.engine.listen_port])

    def finished(progress: dict) -> bool:
        assert progress["progress"] >= stalled["progress"]  # nothing verified was thrown away
        return _ready(progress)

    await wait_progress(api, media_id, finished, timeout=90)
    assert (await api.get(f"/api/media/{media_id}/stream")).content == film.read_bytes()


async def test_a_corrupt_resume_file_is_ignored_and_the_files_rechecked(
    swarm: Swarm, tmp_path: Path, database_url: str
) -> None:
    film = make_big_mp4(tmp_path / "film.mp4", 3 * 1024 * 1024)
    seed = swarm.seed({"Corrupt Resume (2020).mp4": film}, upload_limit=512 * 1024)
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    resume = settings.state_dir / "resume" / f"{seed.infohash}.fastresume"
    async with Hub.open(settings) as hub:
        async with httpx.AsyncClient(base_url=await hub.serve(), headers=owner, timeout=30) as http:
            media_id = await _add(http, seed.magnet)
            await wait_progress(http, media_id, lambda p: p["progress"] >= 40, timeout=90)
    assert resume.is_file()  # written at the latest when the hub closed
    resume.write_bytes(b"d8:file-format\x00\xff garbage, not bencode")
    seed.throttle(None)
    async with Hub.open(settings) as hub:
        async with httpx.AsyncClient(base_url=await hub.serve(), headers=owner, timeout=30) as http:
            await wait_progress(http, media_id, _ready, timeout=90)
            assert (await http.get(f"/api/media/{media_id}/stream")).content == film.read_bytes()
