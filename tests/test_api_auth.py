"""Tokens and profiles as API.md describes them."""

import os
import stat
from pathlib import Path

import httpx
import pytest

from mediahub.hub import Hub
from mediahub.settings import Settings
from tests.hubs import OWNER_TOKEN, Api, make_settings, magnet

pytestmark = pytest.mark.anyio


async def test_health_needs_no_token(api: Api) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic abc"}])
async def test_api_routes_need_a_valid_token(api: Api, headers: dict[str, str]) -> None:
    for method, url in [("GET", "/api/media"), ("POST", "/api/media"), ("GET", "/api/profiles")]:
        response = await api.http.request(method, url, headers=headers, json={"magnetLink": magnet()})
        assert response.status_code == 401
        assert "token" in response.json()["message"].lower()
    assert (await api.get("/api/media")).json() == []


async def test_query_token_is_refused_on_library_routes(api: Api) -> None:
    response = await api.http.get("/api/media", params={"token": api.headers["Authorization"][7:]})
    assert response.status_code == 401


async def test_first_start_writes_an_owner_token_file(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url, owner_token=None)
    async with Hub.open(settings) as hub:
        token_file = settings.owner_token_file
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        token = token_file.read_text().strip()
        async with httpx.AsyncClient(base_url=await hub.serve()) as client:
            response = await client.get("/api/profiles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Default"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_the_data_dir_and_database_are_private(tmp_path: Path, database_url: str) -> None:
    """Created 0700 and 0600 like owner.token; SQLite's -wal and -shm files follow the database."""
    settings = make_settings(tmp_path / "data", database_url)
    async with Hub.open(settings) as hub:
        assert _mode(settings.data_dir) == 0o700
        async with httpx.AsyncClient(base_url=await hub.serve()) as client:  # a write fills the WAL
            added = await client.post("/api/media", headers={"Authorization": f"Bearer {OWNER_TOKEN}"},
                                      json={"magnetLink": magnet()})
            assert added.status_code == 201
        if database_url.startswith("sqlite"):
            database = settings.data_dir / "mediahub.db"
            files = [database, database.with_name("mediahub.db-wal"), database.with_name("mediahub.db-shm")]
            assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}


async def test_an_existing_data_dir_keeps_its_mode_with_a_warning(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder the user made (maybe shared on purpose) is not changed behind their back."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    async with Hub.open(make_settings(data_dir, database_url)):
        pass
    assert _mode(data_dir) == 0o755
    assert f"{data_dir} can be read by other users (mode 755); `chmod 700 {data_dir}`" in caplog.text


async def test_profiles_and_tokens_lifecycle(api: Api) -> None:
    profile_id, kid = await api.new_profile("Kid")
    names = {p["name"] for p in (await api.get("/api/profiles")).json()}
    assert names == {"Default", "Kid"}
    # A profile token sees only its own profile, cannot manage, and ignores X-Profile-Id.
    own = await kid.get("/api/profiles")
    assert [p["id"] for p in own.json()] == [profile_id]
    assert (await kid.post("/api/profiles", json={"name": "Other"})).status_code == 403
    assert (await kid.post(f"/api/profiles/{profile_id}/tokens", json={})).status_code == 403
    added = await kid.post("/api/media", json={"magnetLink": magnet()})
    assert added.status_code == 201
    default_id = next(p["id"] for p in (await api.get("/api/profiles")).json() if p["name"] == "Default")
    spoofed = await kid.get("/api/media", headers={"X-Profile-Id": default_id})
    assert [m["id"] for m in spoofed.json()] == [added.json()["id"]]
    # The owner acts as any profile through X-Profile-Id; default is "Default".
    assert (await api.get("/api/media")).json() == []
    assert len((await api.as_profile(profile_id).get("/api/media")).json()) == 1
    assert (await api.as_profile("nope").get("/api/media")).status_code == 404
    # Revoking the token locks it out at once.
    tokens = await api.post(f"/api/profiles/{profile_id}/tokens", json={"label": "tv"})
    assert tokens.status_code == 201 and tokens.json()["label"] == "tv"
    tv = api.as_token(tokens.json()["token"])
    assert (await tv.get("/api/media")).status_code == 200
    assert (await api.delete(f"/api/tokens/{tokens.json()['id']}")).status_code == 204
    assert (await tv.get("/api/media")).status_code == 401
    assert (await api.delete(f"/api/tokens/{tokens.json()['id']}")).status_code == 404


async def test_profile_validation_and_deletion(api: Api) -> None:
    assert (await api.post("/api/profiles", json={"name": "  "})).status_code == 400
    assert (await api.post("/api/profiles", json={"name": "x" * 101})).status_code == 400
    assert (await api.post("/api/profiles", json={})).status_code == 400
    assert (await api.post("/api/profiles/nope/tokens", json={})).status_code == 404
    profile_id, kid = await api.new_profile("Guest")
    assert (await kid.post("/api/media", json={"magnetLink": magnet()})).status_code == 201
    assert (await kid.delete(f"/api/profiles/{profile_id}")).status_code == 403
    assert (await api.delete(f"/api/profiles/{profile_id}")).status_code == 204
    assert (await kid.get("/api/media")).status_code == 401  # its tokens went with it
    assert (await api.delete(f"/api/profiles/{profile_id}")).status_code == 404
    only = (await api.get("/api/profiles")).json()
    assert len(only) == 1
    response = await api.delete(f"/api/profiles/{only[0]['id']}")
    assert response.status_code == 409
    assert "last profile" in response.json()["message"]


async def test_errors_are_json_with_a_message(api: Api) -> None:
    for response in [
        await api.get("/api/nothing-here"),
        await api.request("PATCH", "/api/media"),
        await api.post("/api/media", content=b"{not json", headers={"Content-Type": "application/json"}),
    ]:
        assert response.status_code in {400, 404, 405}
        assert response.headers["content-type"].startswith("application/json")
        assert isinstance(response.json()["message"], str) and response.json()["message"]


async def test_openapi_schema_documents_every_route(api: Api) -> None:
    schema = (await api.http.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in [
        "/api/media",
        "/api/media/{media_id}",
        "/api/media/search",
        "/api/media/continue-watching",
        "/api/media/{media_id}/seasons",
        "/api/media/{media_id}/position",
        "/api/profiles",
        "/api/profiles/{profile_id}",
        "/api/profiles/{profile_id}/tokens",
        "/api/tokens/{token_id}",
        "/health",
    ]:
        assert path in paths, path
    assert "AddMedia" in schema["components"]["schemas"]
    for action in ("pause", "resume", "retry"):  # 409 when there is nothing to do
        conflict = paths[f"/api/media/{{media_id}}/{action}"]["post"]["responses"]["409"]
        assert conflict["description"].startswith(f"Nothing to {action}")
        assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


async def test_owner_token_rotation_through_the_environment(tmp_path: Path, database_url: str) -> None:
    """MEDIAHUB_OWNER_TOKEN replaces the owner token: the old one stops working at once (and
    the owner.token file holding it goes), profile tokens and the library stay."""
    env = {"MEDIAHUB_DATA_DIR": str(tmp_path / "data"), "MEDIAHUB_DATABASE_URL": database_url,
           "MEDIAHUB_TORRENT_LISTEN": "127.0.0.1:0", "MEDIAHUB_TORRENT_DHT": "0", "MEDIAHUB_TORRENT_LSD": "0",
           "MEDIAHUB_TORRENT_UPNP": "0"}  # fmt: skip

    async def serving(extra: dict[str, str]) -> tuple[Hub, httpx.AsyncClient]:
        hub = await Hub.open(Settings.from_env({**env, **extra}))
        return hub, httpx.AsyncClient(base_url=await hub.serve())

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    hub, http = await serving({})
    first = hub.settings.owner_token_file.read_text().strip()
    profile = (await http.get("/api/profiles", headers=bearer(first))).json()[0]["id"]
    kid = (await http.post(f"/api/profiles/{profile}/tokens", headers=bearer(first), json={})).json()["token"]
    item = (await http.post("/api/media", headers=bearer(first), json={"magnetLink": magnet()})).json()["id"]
    await http.aclose()
    await hub.close()

    for rotated in ("rotated-owner-token-one-0123456789", "rotated-owner-token-two-0123456789"):
        hub, http = await serving({"MEDIAHUB_OWNER_TOKEN": rotated})
        try:
            assert (await http.get("/api/media", headers=bearer(first))).status_code == 401
            assert [m["id"] for m in (await http.get("/api/media", headers=bearer(rotated))).json()] == [item]
            assert [m["id"] for m in (await http.get("/api/media", headers=bearer(kid))).json()] == [item]
            assert not hub.settings.owner_token_file.exists()
        finally:
            await http.aclose()
            await hub.close()
        first = rotated  # the next rotation retires this one

    hub, http = await serving({})  # the variable unset again: the last owner token stays
    try:
        assert (await http.get("/api/media", headers=bearer(first))).status_code == 200
        assert not hub.settings.owner_token_file.exists()  # nothing new was generated
    finally:
        await http.aclose()
        await hub.close()
