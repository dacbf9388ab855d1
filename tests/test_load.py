"""Load, bounded and on loopback only: the server keeps up and loses nothing.

Slow by design (tens of seconds each); CI runs them. Pacing uses sleeps to hold a request
rate — that is load generation, not synchronisation: every check waits on real answers.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hubs import Api, magnet, wait_progress
from tests.media import make_big_mp4
from tests.server_process import ServerProcess, start_server
from tests.swarm import Swarm

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "load-test-owner-token-0123456789"
CLIENTS = 20
RATE_PER_CLIENT = 10  # 20 clients x 10/s = 200 position updates a second
SECONDS = 30


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`uvicorn mediahub:app` in its own process, as a user runs it, with SQLite in its data dir."""
    command = [sys.executable, "-m", "uvicorn", "mediahub:app", "--port", "{port}", "--log-level", "warning"]
    with start_server(command, tmp_path / "data", {"MEDIAHUB_OWNER_TOKEN": TOKEN}) as server:
        yield server


def server_log(server: ServerProcess) -> str:
    return server.data_dir.with_name(server.data_dir.name + ".log").read_text()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def test_200_position_updates_a_second_for_30_seconds(uvicorn_server: ServerProcess) -> None:
    owner = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=uvicorn_server.url, headers=owner, timeout=30) as admin:
        profile = (await admin.post("/api/profiles", json={"name": "Second"})).json()
        second = (await admin.post(f"/api/profiles/{profile['id']}/tokens", json={})).json()["token"]
        # Half the clients act as the owner's Default profile, half with the second profile's token.
        tokens = [TOKEN if n % 2 == 0 else second for n in range(CLIENTS)]
        items = []
        for n, token in enumerate(tokens):
            added = await admin.post(
                "/api/media",
                json={"magnetLink": magnet(name=f"Load.Movie.{n}.2010.mkv"), "type": "movie"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert added.status_code == 201, added.text
            items.append(added.json()["id"])

    latencies: list[float] = []
    failures: list[str] = []
    last_written: dict[str, float] = {}
    requests_per_client = RATE_PER_CLIENT * SECONDS

    async def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        media_id = items[n]
        async with httpx.AsyncClient(base_url=uvicorn_server.url, headers=headers, timeout=30) as http:
            start = time.perf_counter() + n / (CLIENTS * RATE_PER_CLIENT)  # spread the clients out
            for k in range(1, requests_per_client + 1):
                due = start + k / RATE_PER_CLIENT
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                position = k * 1.5
                sent = time.perf_counter()
                if k % 10 == 0:  # what navigator.sendBeacon sends when the tab closes
                    body = f'{{"position": {position}, "duration": 100000}}'
                    response = await http.post(
                        f"/api/media/{media_id}/position", content=body, headers={"Content-Type": "text/plain"}
                    )
                else:
                    response = await http.put(
                        f"/api/media/{media_id}/position", json={"position": position, "duration": 100000}
                    )
                latencies.append(time.perf_counter() - sent)
                if response.status_code != 204:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                last_written[media_id] = position

    began = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - began
    total = CLIENTS * requests_per_client
    rate = total / elapsed
    print(
        f"\nposition load: {total} writes in {elapsed:.1f} s = {rate:.0f}/s; latency p50 "
        f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    assert failures == []
    assert elapsed <= SECONDS + 3, f"the server fell behind: {rate:.0f} writes/s"
    assert percentile(latencies, 0.99) < 1.0

    # No lost writes: every item holds exactly the last position its client wrote.
    async with httpx.AsyncClient(base_url=uvicorn_server.url, timeout=30) as http:
        for n, media_id in enumerate(items):
            saved = await http.get(f"/api/media/{media_id}/position", headers={"Authorization": f"Bearer {tokens[n]}"})
            assert saved.json() == {"position": last_written[media_id], "duration": 100000}
        for token in (TOKEN, second):
            watching = await http.get("/api/media/continue-watching", headers={"Authorization": f"Bearer {token}"})
            assert len(watching.json()) == CLIENTS // 2
    log = server_log(uvicorn_server)
    assert "database is locked" not in log
    assert "Traceback" not in log


async def _add_and_wait(api: Api, link: str, wanted: set[str], timeout: float = 120) -> str:
    added = await api.post("/api/media", json={"magnetLink": link, "type": "movie"})
    assert added.status_code == 201, added.text
    media_id = added.json()["id"]

    def arrived(view: dict) -> bool:
        assert view["status"] != "error", view
        return view["status"] in wanted

    await wait_progress(api, media_id, arrived, timeout)
    return media_id


async def _read_range(api: Api, url: str, start: int, length: int, deadline: float) -> tuple[bytes, int]:
    """One ranged GET as a player sends it, retrying after a 202 like a player would."""
    while True:
        response = await api.get(url, headers={"Range": f"bytes={start}-{start + length - 1}"})
        if response.status_code != 202:
            return response.content, response.status_code
        assert time.monotonic() < deadline, "still 202 at the deadline"
        await asyncio.sleep(float(response.headers["retry-after"]) / 10)


async def test_100_concurrent_range_readers_of_a_finished_file(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_big_mp4(tmp_path / "film.mp4", 4 * 1024 * 1024)
    data = film.read_bytes()
    media_id = await _add_and_wait(api, swarm.seed({"Many Readers (2020).mp4": film}).magnet, {"ready"})
    url = f"/api/media/{media_id}/stream"
    readers, reads_each, length = 100, 4, 256 * 1024
    rng = random.Random(100)
    plans = [[rng.randrange(0, len(data) - length) for _ in range(reads_each)] for _ in range(readers)]
    latencies: list[float] = []

    async def reader(offsets: list[int]) -> None:
        for start in offsets:
            sent = time.perf_counter()
            body, status = await _read_range(api, url, start, length, time.monotonic() + 30)
            latencies.append(time.perf_counter() - sent)
            assert status == 206 and body == data[start : start + length]

    began = time.perf_counter()
    async with asyncio.timeout(120):
        await asyncio.gather(*(reader(offsets) for offsets in plans))
    elapsed = time.perf_counter() - began
    megabytes = readers * reads_each * length / 2**20
    print(f"\n{readers} range readers: {readers * reads_each} reads, {megabytes:.0f} MiB in {elapsed:.1f} s "
          f"({megabytes / elapsed:.0f} MiB/s), p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms")
    assert len(latencies) == readers * reads_each


async def test_20_concurrent_streams_from_one_active_torrent(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    """20 players at different offsets of a file still downloading: each gets exactly its bytes."""
    film = make_big_mp4(tmp_path / "film.mp4", 8 * 1024 * 1024)
    data = film.read_bytes()
    seed = swarm.seed({"Twenty Players (2021).mp4": film}, piece_size=64 * 1024, upload_limit=768 * 1024)
    media_id = await _add_and_wait(api, seed.magnet, {"downloading"})
    url = f"/api/media/{media_id}/stream"
    length = 128 * 1024
    offsets = [n * (len(data) - length) // 19 for n in range(20)]
    deadline = time.monotonic() + 90
    waited: list[float] = []

    async def player(start: int) -> None:
        sent = time.perf_counter()
        body, status = await _read_range(api, url, start, length, deadline)
        waited.append(time.perf_counter() - sent)
        assert status == 206, status
        assert body == data[start : start + length], start

    await asyncio.gather(*(player(start) for start in offsets))
    progress = (await api.get(f"/api/media/{media_id}/progress")).json()
    print(f"\n20 streams of an active torrent: first bytes after p50 {percentile(waited, 0.5):.1f} s, "
          f"max {max(waited):.1f} s; download at {progress['progress']:.0f}% when all were served")
    assert len(waited) == 20
    assert progress["status"] == "downloading" and progress["progress"] < 95  # their pieces jumped the queue


async def test_20_torrents_from_one_seeder_all_finish(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    """20 downloads from one peer at one address at once: none stalls on a dead connection.

    Over uTP, bursts overflowed the UDP receive buffer on loopback; the seeder timed the
    connection out while our side kept waiting on it, and 12 of 20 sat at 0 bytes for minutes."""
    film = make_big_mp4(tmp_path / "film.mp4", 2 * 1024 * 1024)
    seeds = [
        swarm.seed({f"Crowd {n} (2020).mp4": film}, piece_size=64 * 1024, upload_limit=256 * 1024) for n in range(20)
    ]
    began = time.perf_counter()
    ids = await asyncio.gather(*(_add_and_wait(api, seed.magnet, {"ready"}, timeout=60) for seed in seeds))
    print(f"\n20 torrents of 2 MiB from one seeder at 256 KiB/s each: all ready after {time.perf_counter() - began:.1f} s")
    details = [(await api.get(f"/api/media/{media_id}")).json() for media_id in ids]
    assert all(detail["fileSize"] == film.stat().st_size for detail in details)
