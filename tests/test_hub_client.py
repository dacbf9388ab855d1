"""`hub.client`: the HTTP API in-process, acting as the owner with no token on the wire.

What a notebook user or `mediahub --local` relies on: requests work without a token, pick a
profile with `X-Profile-Id` and stay inside it; and what everyone else relies on: nothing sent
over the network can pass for such a request.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from mediahub.api.app import create_app
from tests.hubs import OWNER_TOKEN, Api, magnet
from tests.server_process import loopback_env

pytestmark = pytest.mark.anyio


async def test_in_process_requests_need_no_token_and_act_as_the_owner(hub) -> None:
    added = await hub.client.post("/api/media", json={"magnetLink": magnet(name="Sintel.2010.mkv")})
    assert added.status_code == 201 and added.json()["title"] == "Sintel"
    assert "authorization" not in {k.lower() for k in added.request.headers}
    listed = await hub.client.get("/api/media")
    assert [item["id"] for item in listed.json()] == [added.json()["id"]]
    created = await hub.client.post("/api/profiles", json={"name": "Kids"})  # owner only
    assert created.status_code == 201
    refused = await hub.client.post("/api/media", json={"magnetLink": "magnet:?dn=no-hash"})
    assert refused.status_code == 400 and "info-hash" in refused.json()["message"]
    assert len((await hub.client.get("/api/media")).json()) == 1  # the refused one was not stored


async def test_a_presented_token_is_checked_not_overridden(hub) -> None:
    kid = (await hub.client.post("/api/profiles", json={"name": "Kid"})).json()
    token = (await hub.client.post(f"/api/profiles/{kid['id']}/tokens", json={})).json()["token"]
    as_kid = {"Authorization": f"Bearer {token}"}
    assert (await hub.client.post("/api/profiles", json={"name": "X"}, headers=as_kid)).status_code == 403
    assert (await hub.client.get("/api/profiles", headers=as_kid)).json() == [kid]
    wrong = await hub.client.get("/api/media", headers={"Authorization": "Bearer mh_not-a-real-token-000"})
    assert wrong.status_code == 401


async def test_x_profile_id_picks_the_profile_and_its_data_stays_scoped(hub) -> None:
    kids = (await hub.client.post("/api/profiles", json={"name": "Kids"})).json()["id"]
    as_kids = {"X-Profile-Id": kids}
    theirs = (await hub.client.post("/api/media", json={"magnetLink": magnet(name="Up.2009.mkv")}, headers=as_kids)).json()
    mine = (await hub.client.post("/api/media", json={"magnetLink": magnet(name="Heat.1995.mkv")})).json()

    assert [m["title"] for m in (await hub.client.get("/api/media", headers=as_kids)).json()] == ["Up"]
    assert [m["title"] for m in (await hub.client.get("/api/media")).json()] == ["Heat"]
    for method, path in [("GET", ""), ("GET", "/progress"), ("GET", "/position"), ("POST", "/pause"), ("DELETE", "")]:
        answer = await hub.client.request(method, f"/api/media/{mine['id']}{path}", headers=as_kids)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await hub.client.get(f"/api/media/{mine['id']}")).json()["status"] == "added"  # untouched
    unknown = await hub.client.get("/api/media", headers={"X-Profile-Id": "no-such-profile"})
    assert unknown.status_code == 404


@pytest.mark.parametrize("settings", [{"allowed_hosts": ("media.example.org",)}], indirect=True)
async def test_the_network_cannot_pass_for_an_in_process_request(hub, api: Api) -> None:
    """Over a real socket, no header stands in for the in-process mark; in-process, the Host
    guard (here set to a public name only) does not stand in the way."""
    assert (await hub.client.get("/api/media")).status_code == 200
    forged = {"mediahub.in_process": "1", "mediahub-in-process": "1", "X-Profile-Id": hub.default_profile_id}
    for host in ("media.example.org", "localhost"):
        answer = await api.http.get("/api/media", headers={**forged, "Host": host})
        assert answer.status_code == (401 if host == "media.example.org" else 400), (host, answer.text)
    owner = await api.http.get("/api/media", headers={"Host": "media.example.org", "Authorization": f"Bearer {OWNER_TOKEN}"})
    assert owner.status_code == 200


async def test_the_app_of_an_open_hub_answers_without_its_lifespan(hub) -> None:
    """`create_app(hub)` serves that hub from the start: ASGITransport runs no lifespan."""
    transport = httpx.ASGITransport(app=create_app(hub))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        answer = await client.get("/api/profiles", headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
        assert answer.status_code == 200 and answer.json()[0]["name"] == "Default"
        assert (await client.get("/api/profiles")).status_code == 401  # no mark: a token is needed


def test_mediahub_app_is_built_once(tmp_path) -> None:
    check = "import mediahub; first = mediahub.app; assert first is mediahub.app is mediahub.app; print(type(first).__name__)"
    result = subprocess.run([sys.executable, "-c", check], env=loopback_env(tmp_path / "data"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Litestar"
