#!/usr/bin/env python3
"""API benchmark; prints one JSON document: each route's throughput next to /health's.

    .venv/bin/python scripts/bench_api.py            # 10,000 items, 100,000 positions
    .venv/bin/python scripts/bench_api.py --quick    # small sizes, for a smoke test

A library of `--items` media (four in five movies, the rest shows with enough episodes to make
`--positions` play positions) is written straight through the Piccolo tables into a fresh
SQLite data dir. Then `uvicorn mediahub:app` serves it, as a user starts it, and Debian's
`wrk` (`--connections` keep-alive connections, two threads) loads one route after another for
`--seconds` each: detail, progress, continue-watching, the first page of the list, a PUT of a
position, search and the whole unpaged list. `vs_health` is a route's requests/s as a fraction
of the app's own /health in the same run (the framework's ceiling on this machine);
`client_cpu_s` next to `server_cpu_s` shows whether the client or the server was the limit.
Each row also has `p50_ms_one_connection`, the latency of a request alone; with 16 connections
a p50 cannot go below 16 / (the server's requests per second), printed as `p50_floor_ms`.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import wrk  # noqa: E402  (scripts/wrk.py)
TOKEN = "bench-owner-token-0123456789abcdef"
BATCH = 500


# --- seeding ----------------------------------------------------------------------------------


async def seed(data_dir: Path, items: int, positions: int) -> dict[str, list[str]]:
    """Write the library through the tables; returns media ids by kind and search words."""
    from mediahub.db.tables import Download, Episode, Media, Position, Season, Torrent
    from mediahub.hub import Hub
    from mediahub.ids import new_id, utcnow
    from mediahub.settings import Settings

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'mediahub.db'}", owner_token=TOKEN,
                        torrent_listen="127.0.0.1:0", torrent_dht=False, torrent_lsd=False, torrent_upnp=False)
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
                async with hub.db.engine.transaction():  # Piccolo's tables: its own connection
                    await table.insert(*batch[start : start + BATCH])
        ids["words"] = words
        ids["counts"] = [len(media), len(rows)]
    return ids


def _position(table, id_, media_id, episode_key, rng, played):  # type: ignore[no-untyped-def]
    duration = 1000.0 + rng.random() * 5000
    return table(id=id_, media=media_id, episode=episode_key or None, episode_key=episode_key,
                 position=rng.random() * duration, duration=duration, updated_at=played)


# --- the server -------------------------------------------------------------------------------


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    """`uvicorn mediahub:app` as a user runs it (access log on), on the seeded data dir."""
    env = _child_env()
    env.update(
        MEDIAHUB_DATA_DIR=str(data_dir),
        MEDIAHUB_OWNER_TOKEN=TOKEN,
        MEDIAHUB_TORRENT_LISTEN="127.0.0.1:0",
        MEDIAHUB_TORRENT_DHT="0",
        MEDIAHUB_TORRENT_LSD="0",
        MEDIAHUB_TORRENT_UPNP="0",
        MEDIAHUB_MAGNET_HOSTS="127.0.0.1",
    )
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "mediahub:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=out, cwd=data_dir.parent,
        )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling with a deadline
    raise TimeoutError("server did not become healthy")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


# --- the load ---------------------------------------------------------------------------------


def endpoints(ids: dict[str, list[str]]) -> dict[str, tuple[list[tuple[str, str, str | None]], int]]:
    """Each row: the requests wrk picks from at random, and the status they must answer."""
    rng = random.Random(1)
    items = ids["movie"] + ids["tv"]
    some = [rng.choice(items) for _ in range(200)]
    movies = [rng.choice(ids["movie"]) for _ in range(200)]
    body = json.dumps({"position": 612.5, "duration": 5400.0})
    return {
        "health": ([("GET", "/health", None)], 200),
        "detail": ([("GET", f"/api/media/{m}", None) for m in some], 200),
        "progress": ([("GET", f"/api/media/{m}/progress", None) for m in some], 200),
        "continue_watching": ([("GET", "/api/media/continue-watching", None)], 200),
        "list_paged": ([("GET", "/api/media?limit=50", None)], 200),
        "put_position": ([("PUT", f"/api/media/{m}/position", body) for m in movies], 204),
        "search": ([("GET", f"/api/media/search?q={w}", None) for w in ids["words"]], 200),
        "list_whole": ([("GET", "/api/media", None)], 200),
    }


def measure(url: str, pid: int, rows: dict, connections: int, seconds: float) -> dict[str, dict[str, float]]:
    """wrk on every row in turn (after a short warm-up), with the server's CPU time beside
    the client's: a client near a core of its own while the server's is saturated is not
    the bottleneck."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    results = {}
    for name, (requests, status) in rows.items():
        wrk.run(url, requests, headers=headers, connections=2, seconds=1, expected_status=status)
        before = cpu_seconds(pid)
        figures = wrk.run(url, requests, headers=headers, connections=connections, seconds=seconds,
                          expected_status=status)  # fmt: skip
        figures["server_cpu_s"] = round(cpu_seconds(pid) - before, 2)
        figures["server_cpu_us_per_request"] = round(figures["server_cpu_s"] / figures["requests"] * 1e6)
        # One connection: the latency of a request on its own, without the queue of 15 others
        # (with N connections, p50 is about N / (requests per second): Little's law).
        alone = wrk.run(url, requests, headers=headers, connections=1, threads=1, seconds=min(seconds, 2),
                        expected_status=status)  # fmt: skip
        figures["p50_ms_one_connection"] = alone["p50_ms"]
        if figures["errors"] or alone["errors"]:
            raise RuntimeError(f"{name}: {figures['errors'] + alone['errors']} requests failed")
        results[name] = figures
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--torrents", type=int, default=20, help="active downloads for the memory figure")
    args = parser.parse_args()
    if args.quick:
        args.items, args.positions, args.connections, args.seconds, args.torrents = 200, 1000, 4, 1, 2
    if not wrk.available():
        sys.exit("bench_api.py needs Debian's wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data_dir = Path(tmp) / "data"
        began = time.perf_counter()
        ids = asyncio.run(seed(data_dir, args.items, args.positions))
        seeded_s = time.perf_counter() - began
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, port, Path(tmp) / "server.log")
        try:
            _wait_healthy(url, server)
            results = measure(url, server.pid, endpoints(ids), args.connections, args.seconds)
            memory = bench_memory(port, server.pid, args.torrents, Path(tmp))
        finally:
            server.terminate()
            server.wait()
    health = results["health"]["requests_per_s"]
    for figures in results.values():
        figures["vs_health"] = round(figures["requests_per_s"] / health, 3)
    # The lowest p50 any route could show with this many connections: /health's throughput.
    floor_ms = round(args.connections / health * 1000, 2)
    print(json.dumps({
        "library": {"items": ids["counts"][0], "positions": ids["counts"][1], "seed_seconds": round(seeded_s, 1)},
        "load": {"client": "wrk", "connections": args.connections, "seconds_per_endpoint": args.seconds,
                 "p50_floor_ms": floor_ms},
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
