#!/usr/bin/env python3
"""API benchmark; prints one JSON document (issue 7's figures, with the framework ceiling).

    .venv/bin/python scripts/bench_api.py            # 10,000 items, 100,000 positions
    .venv/bin/python scripts/bench_api.py --quick    # small sizes, for a smoke test

A library of `--items` media (four in five movies, the rest shows with enough episodes to make
`--positions` play positions) is written straight through the Piccolo tables into a fresh
SQLite data dir. One uvicorn process then serves mediahub on it and, in the same process, a
bare Litestar hello-world at /hello: the ceiling any Litestar route on this machine can reach.
For each endpoint, `--connections` keep-alive clients (a raw HTTP/1.1 client, so the client's
own cost stays small) send requests for `--seconds`; the JSON has latency percentiles, requests
per second, and `vs_hello`: the endpoint's throughput as a fraction of hello-world's.
Last, `memory`: the server's RSS idle and with `--torrents` downloads running from a throttled
loopback seeder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-owner-token-0123456789abcdef"
BATCH = 500


# --- seeding ----------------------------------------------------------------------------------


async def seed(data_dir: Path, items: int, positions: int) -> dict[str, list[str]]:
    """Write the library through the tables; returns media ids by kind and search words."""
    from mediahub.db.tables import Download, Episode, Media, Position, Season, Torrent
    from mediahub.hub import Hub
    from mediahub.ids import new_id, utcnow
    from mediahub.settings import Settings

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'mediahub.db'}", owner_token=TOKEN)
    rng = random.Random(7)
    words = ["star", "night", "river", "ghost", "city", "winter", "blue", "last", "iron", "garden"]
    shows = max(1, items // 5)
    movies = items - shows
    per_show = max(1, (positions - movies) // shows)
    now = utcnow()
    async with Hub.open(settings) as hub:
        profile = hub.default_profile_id
        media, torrents, downloads, seasons, episodes, rows = [], [], [], [], [], []
        ids: dict[str, list[str]] = {"movie": [], "tv": []}
        for n in range(items):
            kind = "movie" if n < movies else "tv"
            media_id, infohash = new_id(), os.urandom(20).hex()
            played = now - timedelta(seconds=rng.randrange(10**7))
            title = f"{rng.choice(words).title()} {rng.choice(words)} {n}"
            media.append(
                Media(id=media_id, profile=profile, type=kind, title=title, year=1950 + n % 75, added_at=played,
                      last_played_at=played, last_episode_key="")
            )
            torrents.append(Torrent(infohash=infohash, magnet_link=f"magnet:?xt=urn:btih:{infohash}", added_at=played,
                                    status="ready", progress=100.0, total_bytes=10**9))
            downloads.append(Download(id=new_id(), media=media_id, infohash=infohash,
                                      magnet_link=f"magnet:?xt=urn:btih:{infohash}", added_at=played))
            ids[kind].append(media_id)
            if kind == "movie":
                rows.append(_position(Position, new_id(), media_id, "", rng, played))
                continue
            season_id = new_id()
            seasons.append(Season(id=season_id, media=media_id, season_number=1))
            for e in range(per_show):
                episode_id = new_id()
                episodes.append(Episode(id=episode_id, media=media_id, season=season_id, episode_number=e + 1))
                rows.append(_position(Position, new_id(), media_id, episode_id, rng, played))
            media[-1].last_episode_key = episode_id
        for table, batch in [(Media, media), (Torrent, torrents), (Download, downloads), (Season, seasons),
                             (Episode, episodes), (Position, rows)]:
            for start in range(0, len(batch), BATCH):
                async with hub.db.transaction():
                    await table.insert(*batch[start : start + BATCH])
        ids["words"] = words
        ids["counts"] = [len(media), len(rows)]
    return ids


def _position(table, id_, media_id, episode_key, rng, played):  # type: ignore[no-untyped-def]
    duration = 1000.0 + rng.random() * 5000
    return table(id=id_, media=media_id, episode=episode_key or None, episode_key=episode_key,
                 position=rng.random() * duration, duration=duration, updated_at=played)


# --- the server -------------------------------------------------------------------------------


def serve(data_dir: str, port: int) -> None:
    """Child process: mediahub and a bare Litestar hello-world on one uvicorn."""
    import uvicorn
    from litestar import Litestar, get

    from mediahub.api.app import create_app
    from mediahub.settings import Settings

    @get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    bare = Litestar([hello], openapi_config=None)
    settings = Settings(data_dir=Path(data_dir), database_url=f"sqlite:///{Path(data_dir) / 'mediahub.db'}",
                        owner_token=TOKEN, torrent_listen="127.0.0.1:0", torrent_dht=False, torrent_lsd=False,
                        torrent_upnp=False, magnet_hosts=("127.0.0.1",))  # the loopback seeder
    mediahub_app = create_app(settings=settings)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        target = bare if scope.get("path") == "/hello" else mediahub_app
        await target(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            status, _ = asyncio.run(_one(port, "/health"))
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)  # polling with a deadline
    raise TimeoutError("server did not become healthy")


# --- memory -----------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def bench_memory(port: int, pid: int, torrents: int, workdir: Path) -> dict[str, float]:
    """RSS of the server idle, then with `torrents` downloads running from a throttled loopback
    seeder (each its own torrent, slow enough to stay active while measured)."""
    import httpx

    from tests.media import make_filler
    from tests.swarm import Swarm

    idle = rss_mib(pid)
    (workdir / "swarm").mkdir()
    swarm = Swarm(workdir / "swarm")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            ids = []
            for n in range(torrents):
                film = make_filler(workdir / f"film-{n}.mkv", 4 * 1024 * 1024)
                seed = swarm.seed({f"Memory Test {n} (2020).mkv": film}, upload_limit=48 * 1024)
                added = http.post("/api/media", json={"magnetLink": seed.magnet, "type": "movie"})
                added.raise_for_status()
                ids.append(added.json()["id"])
            deadline = time.monotonic() + 60
            while True:  # every download is running: metadata known, connected to the seeder
                states = [http.get(f"/api/media/{i}/progress").json() for i in ids]
                if all(s["status"] == "downloading" and s["totalBytes"] and s["peers"] for s in states):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not all {torrents} downloads started: {states}")
                time.sleep(0.2)  # polling with a deadline
            active = rss_mib(pid)
    finally:
        swarm.close()
    return {"active_torrents": torrents, "rss_idle_mib": idle, "rss_active_mib": active,
            "per_torrent_mib": round((active - idle) / torrents, 2)}


# --- the client -------------------------------------------------------------------------------


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, int]:
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    await reader.readexactly(length)
    return status, length


async def _one(port: int, path: str) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _request(reader, writer, path)
    finally:
        writer.close()


async def _load(port: int, paths: list[str], connections: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    sizes: list[int] = []

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < until:
            path = rng.choice(paths)
            sent = time.perf_counter()
            status, size = await _request(reader, writer, path)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            latencies.append(time.perf_counter() - sent)
            sizes.append(size)
        writer.close()

    until = time.monotonic() + seconds
    began = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1] * 1000, 2),
        "mean_body_bytes": int(sum(sizes) / len(sizes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--torrents", type=int, default=20, help="active downloads for the memory figure")
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.quick:
        args.items, args.positions, args.connections, args.seconds, args.torrents = 200, 1000, 4, 0.5, 2
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data_dir = Path(tmp) / "data"
        began = time.perf_counter()
        ids = asyncio.run(seed(data_dir, args.items, args.positions))
        seeded_s = time.perf_counter() - began
        port = _free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port)], env=_child_env())
        try:
            _wait_healthy(port, server)
            rng = random.Random(1)
            endpoints = {
                "hello": ["/hello"],
                "list": ["/api/media", "/api/media?type=movie", "/api/media?type=tv"],  # whole lists
                "list_paged": ["/api/media?limit=50"],  # the first page, as a client that pages asks
                "search": [f"/api/media/search?q={w}" for w in ids["words"]] + ["/api/media/search?q=ni&type=tv"],
                "continue_watching": ["/api/media/continue-watching"],
                "detail": [f"/api/media/{rng.choice(ids['movie'] + ids['tv'])}" for _ in range(200)],
            }
            results = {}
            for name, paths in endpoints.items():
                asyncio.run(_load(port, paths, 2, min(0.5, args.seconds)))  # warm-up
                results[name] = asyncio.run(_load(port, paths, args.connections, args.seconds))
            memory = bench_memory(port, server.pid, args.torrents, Path(tmp))
        finally:
            server.terminate()
            server.wait()
    hello = results["hello"]["requests_per_s"]
    for name, figures in results.items():
        figures["vs_hello"] = round(figures["requests_per_s"] / hello, 3)
    print(json.dumps({
        "library": {"items": ids["counts"][0], "positions": ids["counts"][1], "seed_seconds": round(seeded_s, 1)},
        "load": {"connections": args.connections, "seconds_per_endpoint": args.seconds},
        "endpoints": results,
        "memory": memory,
    }, indent=2))


def _child_env() -> dict[str, str]:
    """The child imports mediahub from this checkout even when it is not installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


if __name__ == "__main__":
    main()
