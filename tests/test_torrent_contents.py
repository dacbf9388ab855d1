"""Torrents whose contents are odd: an empty video, symlink entries, a season pack named like
a movie. Each goes through the HTTP API on the loopback swarm."""

from __future__ import annotations

import asyncio
import json
import os
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mediahub.settings import Settings
from tests.hubs import Api, wait_progress
from tests.swarm import Swarm, build_info

pytestmark = pytest.mark.anyio

KIB = 1024


async def add(api: Api, link: str, **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/media", json={"magnetLink": link, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def sse_statuses(api: Api, media_id: str) -> list[str]:
    """The status of every progress event, until the server ends the stream."""
    statuses = []
    async with api.http.stream("GET", f"/api/media/{media_id}/progress/stream", headers=api.headers) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                statuses.append(json.loads(line.partition(":")[2])["status"])
    return statuses


async def test_an_empty_video_fails_at_once_and_ends_the_stream(api: Api, swarm: Swarm):
    seed = swarm.seed({"Empty.Movie.2020/Empty.Movie.2020.mkv": b"", "Empty.Movie.2020/info.nfo": b"x" * 100})
    created = await add(api, seed.magnet)
    statuses = await asyncio.wait_for(sse_statuses(api, created["id"]), 15)
    assert statuses[-1] == "error"
    failed = await wait_progress(api, created["id"], lambda view: True)
    assert failed["error"] == "This torrent's video file is empty (0 bytes)." and not failed["isActive"]


async def test_symlink_entries_are_ignored_and_the_video_kept(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    """BEP 47 lets a torrent carry symlinks: one pointing out of the data dir must not fail the whole download."""
    info = build_info(
        "Linked.Movie.2019",
        [(["Linked.Movie.2019.mp4"], mp4_file.read_bytes())],
        symlinks=[(["passwd"], ["..", "..", "..", "etc", "passwd"]), (["loop"], ["loop"])],
    )
    seed = swarm.seed_info(info, {0: mp4_file.read_bytes()})
    created = await add(api, seed.magnet)
    done = await wait_progress(api, created["id"], lambda view: view["status"] in ("ready", "error"), 30)
    assert done["status"] == "ready", done
    assert (settings.data_dir / done["filePath"].lstrip("/")).read_bytes() == mp4_file.read_bytes()
    assert [p for p in settings.library_dir.rglob("*") if p.is_symlink()] == []
    # libtorrent made the links harmless (one pointing out now points to itself): none leads out.
    download = (settings.downloads_dir / seed.infohash).resolve()
    links = [p for p in settings.data_dir.rglob("*") if p.is_symlink()]
    assert all(Path(os.path.realpath(link)).is_relative_to(download) for link in links)


async def test_format_characters_leave_titles_and_library_paths(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    """U+202E (right-to-left override) makes 'evil\u202e4pm.exe' read as 'evilexe.mp4'; zero-width ones hide."""
    name = "Spoof\u202eLivE\u200b.2020"
    seed = swarm.seed_info(build_info(name, [([f"{name}.mp4"], mp4_file.read_bytes())]), {0: mp4_file.read_bytes()})
    created = await add(api, f"magnet:?xt=urn:btih:{seed.infohash}&dn={quote(name)}&x.pe=127.0.0.1:{swarm.port}")
    assert created["title"] == "SpoofLivE"
    given = await add(api, f"magnet:?xt=urn:btih:{'c' * 40}", title="\u202eTitled\u2066 By Hand")
    assert given["title"] == "Titled By Hand"
    done = await wait_progress(api, created["id"], lambda view: view["status"] == "ready", 30)
    assert done["filePath"] == "/library/movies/SpoofLivE (2020)/SpoofLivE (2020).mp4"
    on_disk = [p.name for p in settings.library_dir.rglob("*")]
    assert on_disk and not any(unicodedata.category(c) == "Cf" for name in on_disk for c in name)
