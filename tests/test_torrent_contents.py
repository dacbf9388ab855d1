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

import httpx
import pytest

from mediahub.hub import Hub
from mediahub.settings import Settings
from tests.fake_tmdb import FakeTmdb
from tests.hubs import OWNER_TOKEN, Api, make_settings, wait_progress
from tests.swarm import Swarm, build_info, until

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


async def test_a_season_pack_named_like_a_movie_becomes_a_show(api: Api, swarm: Swarm, mp4_file: Path):
    """The magnet's name has no TV marker; the file names do. A type the user gave is kept."""
    pack = "Quiet.Harbour.2019.1080p.WEB"
    seed = swarm.seed({f"{pack}/Quiet.Harbour.S01E0{n}.1080p.mp4": mp4_file for n in (1, 2, 3)}, piece_size=16 * KIB)
    detected = await add(api, seed.magnet)
    assert detected["type"] == "movie"  # all the name tells
    _, other = await api.new_profile("Second")
    told = await add(other, seed.magnet, type="movie")
    await wait_progress(api, detected["id"], lambda view: view["status"] == "ready", 30)
    show = (await api.get(f"/api/media/{detected['id']}")).json()
    assert show["type"] == "tv" and show["episodeCount"] == 3
    seasons = (await api.get(f"/api/media/{detected['id']}/seasons")).json()
    episodes = [(s["seasonNumber"], e["episodeNumber"], e["status"]) for s in seasons for e in s["episodes"]]
    assert episodes == [(1, 1, "ready"), (1, 2, "ready"), (1, 3, "ready")]
    movie = (await wait_progress(other, told["id"], lambda view: view["status"] == "ready", 30))
    assert (await other.get(f"/api/media/{told['id']}")).json()["type"] == "movie" and movie["filePath"]


async def test_a_pack_taken_for_a_movie_gets_its_show_from_tmdb(
    swarm: Swarm, mp4_file: Path, fake_tmdb: FakeTmdb, tmp_path: Path, database_url: str
):
    """TMDB has a movie of the pack's name too: the movie match made before the files were
    known goes, and the show is found."""
    fake_tmdb.movies[999] = {**fake_tmdb.movies[27205], "id": 999, "title": "Firefly", "release_date": "2002-01-01"}
    seed = swarm.seed({f"Firefly.2002.1080p/Firefly.S01E0{n}.mp4": mp4_file for n in (1, 2)}, piece_size=16 * KIB)
    settings = make_settings(tmp_path / "data", database_url, tmdb_api_key=fake_tmdb.api_key,
                             tmdb_base_url=fake_tmdb.base_url, tmdb_image_base_url=fake_tmdb.image_base_url)
    async with Hub.open(settings) as hub:
        url = await hub.serve()
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}) as http:
            api = Api(http, hub)
            created = await add(api, seed.magnet)
            await wait_progress(api, created["id"], lambda view: view["status"] == "ready", 30)
            await until(lambda: not hub.enricher.busy, 10, "enrichment to settle")  # type: ignore[union-attr]
            show = (await api.get(f"/api/media/{created['id']}")).json()
            assert (show["type"], show["tmdbId"], show["title"]) == ("tv", 1437, "Firefly")
            seasons = (await api.get(f"/api/media/{created['id']}/seasons")).json()
            assert [e["title"] for e in seasons[0]["episodes"]] == ["Serenity", "The Train Job"]
