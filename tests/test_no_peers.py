"""A magnet nobody seeds stays queued, and says so: `peers: 0` and `stalledSince` in the
progress and the detail, "no peers yet" in the CLI and the notebook dashboard."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mediahub.library.views import AddMedia
from mediahub.notebook import dashboard
from tests.hubs import Api, magnet, progress, wait_progress
from tests.server_process import MEDIAHUB, ServerProcess
from tests.swarm import Swarm, until

pytestmark = pytest.mark.anyio

KIB = 1024


def parse_iso(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.removesuffix("Z") + "+00:00")


async def test_progress_and_detail_say_since_when_nobody_seeds(api: Api):
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    created = (await api.post("/api/media", json={"magnetLink": magnet()})).json()
    view = await progress(api, created["id"])
    assert view["status"] == "added" and view["isActive"] and view["peers"] == 0
    assert before <= parse_iso(view["stalledSince"]) <= datetime.now(timezone.utc)
    detail = (await api.get(f"/api/media/{created['id']}")).json()
    assert (detail["peers"], detail["stalledSince"]) == (0, view["stalledSince"])


async def test_stalled_since_is_null_while_a_peer_is_connected_and_set_when_it_goes(
    api: Api, swarm: Swarm, mp4_file: Path
):
    seed = swarm.seed({"Stall.Test.2020.mp4": mp4_file}, piece_size=16 * KIB, upload_limit=16 * KIB)
    media_id = (await api.post("/api/media", json={"magnetLink": seed.magnet})).json()["id"]
    connected = await wait_progress(api, media_id, lambda v: v["peers"] >= 1 and v["status"] == "downloading", 10)
    assert connected["stalledSince"] is None
    assert (await api.get(f"/api/media/{media_id}")).json()["stalledSince"] is None
    seed.stop()
    lost = await wait_progress(api, media_id, lambda v: v["stalledSince"] is not None, 15)
    assert lost["status"] == "downloading" and lost["isActive"] and lost["peers"] == 0
    assert (await api.post(f"/api/media/{media_id}/pause")).status_code == 204
    assert (await progress(api, media_id))["stalledSince"] is None  # paused is not waiting for anyone


def test_the_cli_says_no_peers_yet(server: ServerProcess):
    env = {**server.env, "MEDIAHUB_URL": server.url}
    added = subprocess.run([MEDIAHUB, "add", magnet(name="Lonely.Movie.2001.mkv")], env=env,
                           capture_output=True, text=True, timeout=60)
    media_id = added.stdout.split("\t")[0]
    listing = subprocess.run([MEDIAHUB, "ls"], env=env, capture_output=True, text=True, timeout=60)
    assert listing.stdout.strip().splitlines()[1].endswith("Lonely Movie (2001)  (no peers yet)")
    watch = subprocess.Popen([MEDIAHUB, "watch", media_id], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert watch.stdout is not None
        assert watch.stdout.readline().rstrip().endswith("0.0%  added  no peers yet")  # and it keeps watching
    finally:
        watch.kill()
        watch.wait()


async def test_the_dashboard_says_no_peers_yet(hub):
    board = dashboard(hub)
    try:
        added = await hub.library.add(hub.default_profile_id, AddMedia(magnet_link=magnet(name="Lonely.Show.S01E01.mkv")))
        await until(lambda: added.media.id in board.table.rows, 10, "the row")
        row = board.table.rows[added.media.id]
        await until(lambda: "no peers yet" in row.numbers.value, 10, "the hint")
    finally:
        board.close()
