"""A real mediahub server in a child process, for tests of the CLI, scripts and the .pyz.

`start_server(command, data_dir)` runs any command that serves HTTP on `{port}` (a free
loopback port), waits until its `health` path answers, and stops it afterwards. The `server` fixture
is `mediahub serve` from the console script. These servers use SQLite in their data dir: what
they test is the process face (CLI, scripts, .pyz), not the database engine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MEDIAHUB = str(Path(sys.executable).with_name("mediahub"))


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    env: dict[str, str]  # what a client process needs: no token, no URL (tests pass those)
    process: subprocess.Popen

    @property
    def token(self) -> str:
        return (self.data_dir / "owner.token").read_text().strip()

    @property
    def log(self) -> Path:
        """What the server wrote to stdout and stderr."""
        return log_path(self.data_dir)


def log_path(data_dir: Path) -> Path:
    return data_dir.with_name(data_dir.name + ".log")  # a file, not a pipe nobody drains


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_env(data_dir: Path) -> dict[str, str]:
    """The environment without anyone's MEDIAHUB_* settings, plus a loopback-only torrent session
    that may reach the loopback seeder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAHUB_")}
    env.update(
        MEDIAHUB_DATA_DIR=str(data_dir),
        MEDIAHUB_TORRENT_LISTEN="127.0.0.1:0",
        MEDIAHUB_TORRENT_DHT="0",
        MEDIAHUB_TORRENT_LSD="0",
        MEDIAHUB_TORRENT_UPNP="0",
        MEDIAHUB_MAGNET_HOSTS="127.0.0.1",
    )
    return env


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200 (or the process dies, or the deadline passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling with a deadline, not synchronisation by sleeping
    raise TimeoutError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def start_server(
    command: list[str],
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 30,
    health: str = "/health",
) -> Iterator[ServerProcess]:
    port = free_port()
    env = {**loopback_env(data_dir), **(extra_env or {})}
    log = log_path(data_dir)
    with log.open("w") as out:
        process = subprocess.Popen([part.format(port=port) for part in command], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url + health, process, log, timeout)
        yield ServerProcess(url, data_dir, env, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`mediahub serve` on a free loopback port with a fresh data dir."""
    with start_server([MEDIAHUB, "serve", "--port", "{port}"], tmp_path / "server-data") as running:
        yield running
