"""A restart keeps profiles, tokens, items and positions."""

from pathlib import Path

import httpx
import pytest

from mediahub.db.tables import Download, Media, SchemaVersion
from mediahub.hub import Hub
from tests.hubs import OWNER_TOKEN, make_settings, magnet

pytestmark = pytest.mark.anyio


async def test_everything_survives_a_restart(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve()) as http:
        profile = (await http.post("/api/profiles", json={"name": "Kid"}, headers=owner)).json()
        token = (await http.post(f"/api/profiles/{profile['id']}/tokens", json={}, headers=owner)).json()["token"]
        kid = {"Authorization": f"Bearer {token}"}
        item = (await http.post("/api/media", json={"magnetLink": magnet(), "title": "Up"}, headers=kid)).json()
        await http.put(f"/api/media/{item['id']}/position", json={"position": 42.5, "duration": 5000}, headers=kid)

    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve()) as http:
        assert {p["name"] for p in (await http.get("/api/profiles", headers=owner)).json()} == {"Default", "Kid"}
        items = (await http.get("/api/media", headers=kid)).json()
        assert [(i["id"], i["title"]) for i in items] == [(item["id"], "Up")]
        position = (await http.get(f"/api/media/{item['id']}/position", headers=kid)).json()
        assert position == {"position": 42.5, "duration": 5000}
        watching = (await http.get("/api/media/continue-watching", headers=kid)).json()
        assert [w["id"] for w in watching] == [item["id"]]


async def test_a_database_from_before_per_profile_pauses_is_upgraded(tmp_path: Path, database_url: str) -> None:
    """Schema 2 knew pauses only per torrent: its paused downloads stay paused after the upgrade."""
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        paused = (await http.post("/api/media", json={"magnetLink": magnet()})).json()["id"]
        running = (await http.post("/api/media", json={"magnetLink": magnet()})).json()["id"]
        assert (await http.post(f"/api/media/{paused}/pause")).status_code == 204
        await Download.raw("ALTER TABLE download DROP COLUMN paused")  # back to schema 2
        await SchemaVersion.delete().where(SchemaVersion.version == 3)

    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        listed = {i["id"]: i["status"] for i in (await http.get("/api/media")).json()}
        assert listed == {paused: "paused", running: "added"}
        assert (await http.post(f"/api/media/{paused}/resume")).status_code == 204
        assert (await http.get(f"/api/media/{paused}/progress")).json()["status"] == "added"


async def test_a_database_from_before_detected_types_is_upgraded(tmp_path: Path, database_url: str) -> None:
    """Schema 7 notes whether a type was guessed: items from before keep theirs, unless still unnamed."""
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        named = (await http.post("/api/media", json={"magnetLink": magnet()})).json()["id"]
        unnamed = (await http.post("/api/media", json={"magnetLink": f"magnet:?xt=urn:btih:{'e' * 40}"})).json()["id"]
        await Media.raw("ALTER TABLE media DROP COLUMN type_detected")  # back to schema 6
        await SchemaVersion.delete().where(SchemaVersion.version == 7)

    async with Hub.open(settings):
        rows = await Media.select(Media.id, Media.type, Media.type_detected)
        assert {r["id"]: (r["type"], r["type_detected"]) for r in rows} == {
            named: ("movie", False), unnamed: ("movie", True)}


async def test_a_database_from_before_media_aliases_is_upgraded(tmp_path: Path, database_url: str) -> None:
    """Schema 3 had no media_alias table: after the upgrade an unknown id is a 404 again, not a 500."""
    settings = make_settings(tmp_path / "data", database_url)
    owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}
    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        item = (await http.post("/api/media", json={"magnetLink": magnet()})).json()["id"]
        await SchemaVersion.raw("DROP TABLE media_alias")  # back to schema 3
        await SchemaVersion.delete().where(SchemaVersion.version == 4)

    async with Hub.open(settings) as hub, httpx.AsyncClient(base_url=await hub.serve(), headers=owner) as http:
        assert (await http.get(f"/api/media/{item}")).status_code == 200
        assert (await http.get("/api/media/never-was")).status_code == 404
