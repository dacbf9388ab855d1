"""One engine per data dir: a second process stops at start, `uvicorn --workers 2` does not
run two engines, and first-start set-up is safe when processes start together."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mediahub.db.engine import close_database, open_database
from mediahub.db.tables import ApiToken, Profile
from mediahub.library.profiles import ProfileService
from tests.hubs import OWNER_TOKEN
from tests.server_process import MEDIAHUB, free_port, loopback_env, start_server

pytestmark = pytest.mark.anyio

BUSY = "already runs on the data dir"


def run_until_exit(command: list[str], env: dict[str, str], log: Path, timeout: float = 60) -> int:
    """Run a server command that is expected to stop by itself; its exit code."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"still running after {timeout} s:\n{log.read_text()[-3000:]}") from None


async def test_a_second_server_on_the_data_dir_stops_with_a_message(tmp_path: Path):
    data_dir = tmp_path / "data"
    with start_server([MEDIAHUB, "serve", "--port", "{port}"], data_dir) as first:
        log = tmp_path / "second.log"
        code = await asyncio.to_thread(run_until_exit, [MEDIAHUB, "serve", "--port", str(free_port())], first.env, log)
        assert code != 0
        said = log.read_text()
        assert BUSY in said and f"pid {first.process.pid}" in said
        assert httpx.get(first.url + "/health").status_code == 200  # the first one runs on
        owner = {"Authorization": f"Bearer {first.token}"}
        assert httpx.get(first.url + "/api/media", headers=owner).json() == []


async def test_uvicorn_with_two_workers_stops_at_once_instead_of_running_two_engines(tmp_path: Path, database_url: str):
    env = {**loopback_env(tmp_path / "data"), "MEDIAHUB_DATABASE_URL": database_url, "MEDIAHUB_OWNER_TOKEN": OWNER_TOKEN}
    log = tmp_path / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "--workers", "2", "--port", str(free_port()), "mediahub:app"]
    await asyncio.to_thread(run_until_exit, command, env, log)
    said = log.read_text()
    assert said.count(BUSY) >= 1 and "failed to start, stopping the parent process" in said
    assert said.count("Started server process") == 2  # no worker was started again: no spinning

    db = await open_database(database_url)
    try:
        assert [p["name"] for p in await Profile.select(Profile.name)] == ["Default"]
        assert await ApiToken.count() == 1
    finally:
        await close_database(db)


async def test_first_start_set_up_runs_once_when_processes_start_together(tmp_path: Path, database_url: str):
    """Two data dirs on one database (API nodes to come) start at the same moment."""
    db = await open_database(database_url)
    try:
        for token in [OWNER_TOKEN] * 5 + [None] * 5:  # a preset owner token, then generated ones
            await asyncio.gather(*(ProfileService(db).bootstrap(token, tmp_path / f"token-{n}") for n in range(8)))
            assert [p["name"] for p in await Profile.select(Profile.name)] == ["Default"]
            assert await ApiToken.count() == 1
            await ApiToken.delete(force=True)
            await Profile.delete(force=True)
    finally:
        await close_database(db)
