"""Faults: the server is killed, the disk fills up, the seeder vanishes — and nothing a user
saved is lost or corrupt afterwards. Slow by design; CI runs them."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from tests.hubs import magnet
from tests.server_process import start_server

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
            while sum(acknowledged.values()) < 300:  # writes are flowing on every connection
                await asyncio.sleep(0.01)
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
