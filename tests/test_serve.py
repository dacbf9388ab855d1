"""`Hub.serve`: the HTTP API from inside an already running loop (a notebook, the CLI)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mediahub import Hub
from mediahub.library.views import AddMedia
from tests.hubs import OWNER_TOKEN, magnet, make_settings

pytestmark = pytest.mark.anyio


async def test_serve_answers_in_the_same_loop_and_stops_on_close(settings):
    hub = await Hub.open(settings)
    try:
        url = await hub.serve(port=0)
        assert url.startswith("http://127.0.0.1:") and hub.url == url
        await hub.library.add(hub.default_profile_id, AddMedia(magnet_link=magnet(name="Big.Buck.Bunny.2008.mp4")))
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}) as client:
            assert (await client.get("/health")).json()["status"] == "ok"
            assert [i["title"] for i in (await client.get("/api/media")).json()] == ["Big Buck Bunny"]
        with pytest.raises(RuntimeError, match="already serves"):
            await hub.serve()
    finally:
        await hub.close()
    assert hub.url is None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/health")
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "mediahub-http"]


async def test_serve_on_a_busy_port_raises_and_keeps_the_loop(hub, tmp_path):
    port = int((await hub.serve()).rsplit(":", 1)[1])
    async with Hub.open(make_settings(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}")) as other:
        with pytest.raises(OSError):
            await other.serve(port=port)
        assert other.url is None
    async with httpx.AsyncClient() as client:  # the first server is unharmed
        assert (await client.get(f"{hub.url}/health")).status_code == 200
