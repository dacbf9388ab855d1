"""Fixtures for a real Hub and the real HTTP app on it.

The database is SQLite in the test's tmp dir, or, when MEDIAHUB_TEST_POSTGRES_URL is set, a
fresh PostgreSQL database per test on that server (created and dropped here), so the same
suite runs on both engines.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from mediahub.hub import Hub
from mediahub.settings import Settings

OWNER_TOKEN = "test-owner-token-0123456789"
POSTGRES_URL = os.environ.get("MEDIAHUB_TEST_POSTGRES_URL")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'data' / 'mediahub.db'}"
        return
    name = "mh_test_" + secrets.token_hex(6)
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(POSTGRES_URL)
        yield urlunsplit(parts._replace(path=f"/{name}"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a loopback-only hub: no DHT/LSD/UPnP, an ephemeral port, a known owner token,
    and the loopback seeder (tests/swarm.py) listed as a host magnets may name."""
    values: dict[str, object] = dict(
        data_dir=data_dir,
        database_url=database_url,
        owner_token=OWNER_TOKEN,
        torrent_listen="127.0.0.1:0",
        torrent_dht=False,
        torrent_lsd=False,
        torrent_upnp=False,
        magnet_hosts=("127.0.0.1",),
        stream_wait=5.0,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    """`@pytest.mark.parametrize("settings", [{field: value}], indirect=True)` changes fields."""
    return make_settings(tmp_path / "data", database_url, **getattr(request, "param", {}))


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    async with Hub.open(settings) as opened:
        yield opened


@dataclass
class Api:
    """The real app over loopback HTTP, with the owner's headers by default."""

    http: httpx.AsyncClient
    hub: Hub
    headers: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {OWNER_TOKEN}"})

    def as_token(self, token: str) -> Api:
        return Api(self.http, self.hub, {"Authorization": f"Bearer {token}"})

    def as_profile(self, profile_id: str) -> Api:
        return Api(self.http, self.hub, {**self.headers, "X-Profile-Id": profile_id})

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return await self.http.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: object) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def url_token(self, profile_id: str | None = None) -> str:
        """A profile token for `?token=` URLs (the owner token is refused there), of the
        default profile unless `profile_id` is given."""
        profile_id = profile_id or self.hub.default_profile_id
        created = await self.post(f"/api/profiles/{profile_id}/tokens", json={"label": "player"})
        assert created.status_code == 201, created.text
        return created.json()["token"]

    async def new_profile(self, name: str) -> tuple[str, Api]:
        """Create a profile and a token for it; returns its id and a client acting with that token."""
        created = await self.post("/api/profiles", json={"name": name})
        assert created.status_code == 201, created.text
        profile_id = created.json()["id"]
        token = await self.post(f"/api/profiles/{profile_id}/tokens", json={"label": "test"})
        assert token.status_code == 201, token.text
        return profile_id, self.as_token(token.json()["token"])


@pytest.fixture
async def api(hub: Hub) -> AsyncIterator[Api]:
    """uvicorn on loopback in the test's own loop (`Hub.serve`): real HTTP, real streaming."""
    url = await hub.serve()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield Api(client, hub)


def magnet(infohash: str | None = None, name: str = "Big.Buck.Bunny.2008.1080p.mkv") -> str:
    """A syntactically valid magnet that points nowhere (no peers, no trackers)."""
    return f"magnet:?xt=urn:btih:{infohash or secrets.token_hex(20)}&dn={name}"


async def progress(api: Api | httpx.AsyncClient, media_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/media/{media_id}/progress")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_json(
    api: Api | httpx.AsyncClient, url: str, condition: Callable[[Any], object], timeout: float = 30
) -> Any:
    """GET `url` until `condition(json)` holds; fail with the last answer after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        response = await api.get(url)
        assert response.status_code == 200, response.text
        if condition(body := response.json()):
            return body
        assert time.monotonic() < deadline, f"still {body} after {timeout} s"
        await asyncio.sleep(0.05)


async def wait_progress(
    api: Api | httpx.AsyncClient, media_id: str, condition: Callable[[dict[str, Any]], object], timeout: float = 30
) -> dict[str, Any]:
    """Poll /progress until `condition(view)` holds; fail with the last view after `timeout` s."""
    return await wait_json(api, f"/api/media/{media_id}/progress", condition, timeout)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that touch a database: the rest ran on SQLite."""
    if not POSTGRES_URL:
        return
    selected = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    deselected = [item for item in items if item not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
