"""The notebook dashboard, driven in-process like a person clicking in Jupyter."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mediahub.events import MediaAdded
from mediahub.notebook import dashboard
from tests.hubs import magnet
from tests.swarm import until

pytestmark = pytest.mark.anyio


async def add(hub, magnet_link: str) -> dict:
    """Add through the API in-process, as a cell of another notebook would."""
    added = await hub.client.post("/api/media", json={"magnetLink": magnet_link})
    assert added.status_code in (200, 201), added.text
    return added.json()


async def listed(hub) -> list[dict]:
    return (await hub.client.get("/api/media")).json()


async def opened(hub):
    board = dashboard(hub)
    await asyncio.wait_for(board.loaded.wait(), 10)
    return board


async def test_bad_magnet_shows_the_error_inline_and_adds_nothing(hub):
    board = await opened(hub)
    try:
        board.add_box.text.value = "magnet:?dn=no-info-hash-here"
        board.add_box.button.click()
        await until(lambda: "⚠" in board.add_box.message.value, 5, "the inline error")
        assert "hash" in board.add_box.message.value.lower()
        assert not board.add_box.button.disabled
        assert board.add_box.text.value == "magnet:?dn=no-info-hash-here"  # kept, to fix it
        assert await listed(hub) == []
        assert board.table.rows == {} and board.table.children == (board.table.empty,)
    finally:
        board.close()


async def test_added_item_gets_a_row_and_delete_removes_it(hub):
    board = await opened(hub)
    try:
        board.add_box.text.value = magnet(name="Sintel.2010.720p.mkv")
        board.add_box.button.click()
        await until(lambda: "Added" in board.add_box.message.value and board.table.rows, 5, "the new row")
        (row,) = board.table.rows.values()
        assert "Sintel" in row.title.value and "(2010)" in row.title.value
        assert board.add_box.text.value == "" and len(board.table.rows) == 1
        row.delete.click()
        await until(lambda: not board.table.rows, 5, "the row to go")
        assert await listed(hub) == []
    finally:
        board.close()


async def test_rows_follow_the_bus_not_a_relisting(hub):
    """An item added elsewhere (HTTP, another cell) appears from its event alone."""
    board = await opened(hub)
    try:
        added = await add(hub, magnet(name="Tears.of.Steel.2012.mp4"))
        await until(lambda: added["id"] in board.table.rows, 5, "the row from MediaAdded")
        assert board.table.hashes == {added["infohash"]: {added["id"]}}
    finally:
        board.close()


async def test_continue_watching_previews_from_the_saved_position(hub):
    added = await add(hub, magnet(name="Big.Buck.Bunny.2008.mp4"))
    await hub.client.put(f"/api/media/{added['id']}/position", json={"position": 83.5, "duration": 600})
    board = await opened(hub)
    try:
        (card,) = board.continue_row.items.children
        assert card.description.startswith("Big Buck Bunny · 1:23 / 10:00")
        card.click()
        await until(lambda: board.player.url is not None, 10, "the preview")
        assert board.player.url.startswith(f"{hub.url}/api/media/{added['id']}/stream?token=mh_")
        # Nothing downloaded (a dead magnet): not a ranged file, so the stream is asked to begin there.
        assert board.player.url.endswith("&start=83.500")
        assert f'src="{board.player.url}"' in board.player.video.value.replace("&amp;", "&")
        token = board.player.url.split("token=")[1].split("&")[0]
        assert (await hub.profiles.authenticate(token, None)).profile_id == hub.default_profile_id
    finally:
        board.close()
    await until(lambda: board.player.token_id is None, 5, "the preview token to be revoked")
    with pytest.raises(Exception, match="Invalid API token"):
        await hub.profiles.authenticate(token, None)


async def test_closing_the_dashboard_stops_its_tasks(hub):
    board = await opened(hub)
    tasks = board.tasks.pending
    assert tasks  # at least the bus listener
    board.close()
    await asyncio.wait(tasks, timeout=5)
    assert all(t.done() for t in tasks) and not board.tasks.pending
    hub.bus.publish(MediaAdded(profile_id=hub.default_profile_id, media_id="whatever"))
    assert board.table.rows == {}
    board.add_box.text.value = magnet()
    board.add_box.button.click()  # a stale button in an old output does nothing
    assert not board.tasks.pending and await listed(hub) == []


async def test_progress_bar_reaches_100_from_real_events(hub, swarm, mp4_file):
    seed = swarm.seed({"Big.Buck.Bunny.2008.mp4": mp4_file}, piece_size=16 * 1024)
    seed.throttle(max(16 * 1024, seed.total_size // 3))  # a few seconds of visible progress
    board = await opened(hub)
    try:
        board.add_box.text.value = seed.magnet
        board.add_box.button.click()
        await until(lambda: board.table.rows, 10, "the row")
        (row,) = board.table.rows.values()
        values, numbers = [], []
        row.bar.observe(lambda change: values.append(change["new"]), "value")
        row.numbers.observe(lambda change: numbers.append(change["new"]), "value")
        assert await board.wait_ready(row.media_id, timeout=60) == "ready"
        assert row.bar.value == 100 and row.bar.bar_style == "success"
        assert any(0 < value < 100 for value in values), values  # it moved on the way, event by event
        assert any("peers" in text and "/s" in text for text in numbers), numbers
    finally:
        board.close()


async def test_pause_and_resume_buttons(hub, swarm, mp4_file):
    seed = swarm.seed({"Sintel.2010.mp4": mp4_file}, piece_size=16 * 1024)
    seed.throttle(16 * 1024)  # slow enough to still be downloading when we click
    board = await opened(hub)
    try:
        added = await add(hub, seed.magnet)
        await until(lambda: added["id"] in board.table.rows, 10, "the row")
        row = board.table.rows[added["id"]]
        await until(lambda: row.status == "downloading", 30, "the download to start")
        row.pause.click()
        await until(lambda: row.status == "paused", 10, "the paused row")
        assert row.pause.tooltip == "Resume" and row.bar.bar_style == "warning"
        assert (await hub.client.get(f"/api/media/{row.media_id}/progress")).json()["status"] == "paused"
        seed.throttle(None)
        row.pause.click()
        assert await board.wait_ready(row.media_id, timeout=60) == "ready"
    finally:
        board.close()
        seed.throttle(None)


async def test_preview_of_a_finished_file_plays_from_the_saved_position(hub, swarm, mp4_file):
    seed = swarm.seed({"Elephants.Dream.2006.mp4": mp4_file}, piece_size=16 * 1024)
    board = await opened(hub)
    try:
        added = await add(hub, seed.magnet)
        assert await board.wait_ready(added["id"], timeout=60) == "ready"
        await hub.client.put(f"/api/media/{added['id']}/position", json={"position": 2.0, "duration": 4.0})
        board.continue_row.reload_button.click()
        await until(lambda: "Elephants Dream" in board.continue_row.items.children[0].description, 5, "the card")
        board.continue_row.items.children[0].click()
        await until(lambda: board.player.url is not None, 10, "the preview")
        assert board.player.url.endswith("#t=2.000")  # a ranged file: the browser seeks itself
        async with httpx.AsyncClient() as client:
            video = await client.get(board.player.url.split("#")[0])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert len(video.content) == (await hub.client.get(f"/api/media/{added['id']}")).json()["fileSize"] > 0
    finally:
        board.close()


async def test_a_profiles_dashboard_shows_and_adds_only_that_profiles_items(hub):
    kids = (await hub.client.post("/api/profiles", json={"name": "Kids"})).json()["id"]
    await add(hub, magnet(name="Heat.1995.mkv"))  # the default profile's
    board = dashboard(hub, kids)
    await asyncio.wait_for(board.loaded.wait(), 10)
    try:
        assert board.table.rows == {}
        board.add_box.text.value = magnet(name="Up.2009.mkv")
        board.add_box.button.click()
        await until(lambda: board.table.rows, 5, "the new row")
        (row,) = board.table.rows.values()
        assert "Up" in row.title.value
        theirs = (await hub.client.get("/api/media", headers={"X-Profile-Id": kids})).json()
        assert [item["id"] for item in theirs] == [row.media_id]
        assert [item["title"] for item in await listed(hub)] == ["Heat"]
    finally:
        board.close()
