"""Downloads through the HTTP API on a real loopback swarm: issue 3's "done when"."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from mediahub.settings import Settings
from tests.hubs import Api
from tests.swarm import Swarm, build_info, until

pytestmark = pytest.mark.anyio

KIB = 1024
ORDER = ["added", "downloading", "completed", "ready"]


async def add(api: Api, magnet: str, **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/media", json={"magnetLink": magnet, **fields})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def progress(api: Api, media_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/media/{media_id}/progress")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_progress(api: Api, media_id: str, condition: Any, timeout: float = 30) -> dict[str, Any]:
    """Poll /progress until `condition(view)` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition(view := await progress(api, media_id)):
        assert loop.time() < deadline, f"still {view} after {timeout} s"
        await asyncio.sleep(0.05)
    return view


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
