"""Requests that meet in the middle: the same add twice at once, a delete while downloading."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mediahub.db.tables import Download, Episode, Season, Torrent
from mediahub.settings import Settings
from tests.hubs import Api, wait_progress
from tests.swarm import Swarm, until

pytestmark = pytest.mark.anyio

KIB = 1024


@pytest.mark.parametrize("kind", ["movie", "tv"])
async def test_two_identical_adds_at_once_make_one_item_and_one_download(
    api: Api, swarm: Swarm, mp4_file: Path, settings: Settings, kind: str
):
    seed = swarm.seed({f"Twice.Added.S01/Twice.Added.S01E0{n}.mp4": mp4_file for n in (1, 2)}, piece_size=16 * KIB)
    body = {"magnetLink": seed.magnet, "type": kind}
    first, second = await asyncio.gather(api.post("/api/media", json=body), api.post("/api/media", json=body))
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json()["id"] == second.json()["id"]
    assert [item["id"] for item in (await api.get("/api/media")).json()] == [first.json()["id"]]
    assert await Download.count() == 1 and await Torrent.count() == 1
    assert [t.infohash for t in api.hub.engine.torrents()] == [seed.infohash]  # type: ignore[union-attr]
    await wait_progress(api, first.json()["id"], lambda view: view["status"] == "ready", 30)
    files = [p for p in settings.library_dir.rglob("*") if p.is_file()]
    assert len(files) == (2 if kind == "tv" else 1)


async def test_deleting_a_show_while_it_downloads(api: Api, swarm: Swarm, mp4_file: Path, settings: Settings):
    seed = swarm.seed({f"Gone.Show.S01/Gone.Show.S01E0{n}.mp4": mp4_file for n in (1, 2, 3)},
                      piece_size=16 * KIB, upload_limit=32 * KIB)  # fmt: skip
    show = (await api.post("/api/media", json={"magnetLink": seed.magnet})).json()
    assert show["type"] == "tv"
    await wait_progress(api, show["id"], lambda view: view["status"] == "downloading" and view["downloadedBytes"], 20)
    assert await Episode.count() == 3
    assert (await api.delete(f"/api/media/{show['id']}")).status_code == 204
    assert (await api.get(f"/api/media/{show['id']}")).status_code == 404
    assert (await api.get(f"/api/media/{show['id']}/seasons")).status_code == 404
    assert (await api.delete(f"/api/media/{show['id']}")).status_code == 404
    assert await Season.count() == 0 and await Episode.count() == 0 and await Download.count() == 0
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]
    await until(lambda: not (settings.downloads_dir / seed.infohash).exists(), 10, "the download to be deleted")
    assert [p for p in settings.library_dir.rglob("*") if p.is_file()] == []


async def test_deleting_a_show_before_its_files_are_known(api: Api):
    """A dead magnet: no metadata, so no seasons or episodes yet."""
    show = (await api.post("/api/media", json={"magnetLink": f"magnet:?xt=urn:btih:{'f' * 40}&dn=Never.Seen.S01"})).json()
    assert show["type"] == "tv" and show["episodeCount"] is None
    assert (await api.delete(f"/api/media/{show['id']}")).status_code == 204
    assert (await api.get(f"/api/media/{show['id']}")).status_code == 404
    assert api.hub.engine.torrents() == []  # type: ignore[union-attr]
