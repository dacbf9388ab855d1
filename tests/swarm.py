"""A real BitTorrent swarm on loopback: one libtorrent seeder session for the test run.

    seed = swarm.seed({"Movie (2010)/movie.mkv": data}, piece_size=64 * 1024)
    seed.magnet          # magnet:?xt=urn:btih:...&dn=...&x.pe=127.0.0.1:PORT
    seed.throttle(512 * 1024)   # bytes/s to all its leechers, loopback included
    seed.stop(); seed.start(connect_to=[engine.listen_port])   # seeder vanishes and comes back

The seeder listens on 127.0.0.1 with DHT/LSD/UPnP off and accepts many connections from
the same IP (every test client is 127.0.0.1). Torrents are built with `lt.create_torrent`
(v1 by default, hybrid v1+v2 on request) or from a hand-written info dict (`seed_info`)
for names that `create_torrent` would never produce. The fixture is session-scoped: each
seed gets its own directory, so tests do not disturb each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote

import libtorrent as lt
import pytest

LOOPBACK = "127.0.0.1"


class Seed:
    """One seeded torrent."""

    def __init__(self, swarm: Swarm, handle: lt.torrent_handle, info: lt.torrent_info, files: dict[str, bytes]):
        self.handle = handle
        self.info = info
        self.files = files  # path inside the torrent (as the leecher sees it) -> content
        self.infohash = str(info.info_hashes().v1)
        self.name = info.name()
        self.piece_size = info.piece_length()
        self.num_pieces = info.num_pieces()
        self.magnet = f"magnet:?xt=urn:btih:{self.infohash}&dn={quote(self.name)}&x.pe={LOOPBACK}:{swarm.port}"
        self._swarm = swarm

    @property
    def total_size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def file_index(self, path: str) -> int:
        storage = self.info.layout()
        for index in range(storage.num_files()):
            if PurePosixPath(storage.file_path(index)) == PurePosixPath(path):
                return index
        raise KeyError(path)

    def throttle(self, bytes_per_second: int | None) -> None:
        """Limit this torrent's upload (a per-torrent limit also applies to loopback peers)."""
        self.handle.set_upload_limit(bytes_per_second or 0)

    def stop(self) -> None:
        """Stop seeding: connected leechers are dropped."""
        self.handle.pause()

    def start(self, *, connect_to: Iterable[int] = ()) -> None:
        """Seed again and dial the given leecher ports (they would otherwise wait to retry)."""
        self.handle.resume()
        for port in connect_to:
            self.handle.connect_peer((LOOPBACK, port))

    def remove(self) -> None:
        self._swarm.session.remove_torrent(self.handle)


class Swarm:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.session = lt.session(
            {
                "listen_interfaces": f"{LOOPBACK}:0",
                "enable_dht": False,
                "enable_lsd": False,
                "enable_upnp": False,
                "enable_natpmp": False,
                "allow_multiple_connections_per_ip": True,
                "unchoke_slots_limit": -1,
                "alert_mask": lt.alert_category.error,
            }
        )
        _wait(self.session.listen_port, "the seeder to listen")
        self.port = self.session.listen_port()
        self._counter = itertools.count(1)

    def seed(
        self,
        files: Mapping[str, bytes | Path],
        *,
        piece_size: int = 64 * 1024,
        version: Literal["v1", "hybrid"] = "v1",
        upload_limit: int | None = None,
    ) -> Seed:
        """Seed `files` ({path in torrent: bytes or a file to copy}). One path without a
        folder makes a single-file torrent; otherwise all paths share one top folder, the
        torrent's name."""
        tops = {PurePosixPath(path).parts[0] for path in files}
        single = len(files) == 1 and len(PurePosixPath(next(iter(files))).parts) == 1
        if not single and len(tops) != 1:
            raise ValueError("a multi-file torrent needs one top folder shared by all paths")
        directory = self._new_dir()
        contents = {}
        for path, data in files.items():
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, Path):
                shutil.copyfile(data, target)
                contents[path] = target.read_bytes()
            else:
                target.write_bytes(data)
                contents[path] = data
        flags = lt.create_torrent.v1_only if version == "v1" else 0
        creator = lt.create_torrent(lt.list_files(str(directory / tops.pop())), piece_size, flags)
        lt.set_piece_hashes(creator, str(directory))
        info = lt.torrent_info(lt.bdecode(lt.bencode(creator.generate())))
        return self._add(info, directory, contents, upload_limit)

    def seed_info(self, info: dict[str, Any], contents: Mapping[int, bytes], *, upload_limit: int | None = None) -> Seed:
        """Seed a hand-built info dict (see `build_info`); `contents` by file index. Data is
        stored where libtorrent's own sanitised names put it on the seeder's side."""
        torrent_info = lt.torrent_info(lt.bdecode(lt.bencode({b"info": info})))
        directory = self._new_dir()
        storage = torrent_info.layout()
        files = {}
        for index, data in contents.items():
            path = storage.file_path(index)
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files[path] = data
        return self._add(torrent_info, directory, files, upload_limit)

    def close(self) -> None:
        for handle in self.session.get_torrents():
            self.session.remove_torrent(handle)
        del self.session

    def _new_dir(self) -> Path:
        directory = self.root / f"seed-{next(self._counter)}"
        directory.mkdir()
        return directory

    def _add(self, info: lt.torrent_info, directory: Path, files: dict[str, bytes], limit: int | None) -> Seed:
        params = lt.add_torrent_params()
        params.ti = info
        params.save_path = str(directory)
        params.flags = lt.torrent_flags.seed_mode  # we wrote the data: skip hashing it again
        seed = Seed(self, self.session.add_torrent(params), info, files)
        seed.throttle(limit)
        # A leecher that connects while the torrent is still starting can hang in the handshake.
        _wait(lambda: seed.handle.status().state == lt.torrent_status.seeding, "the seed to start")
        return seed


class Recorder:
    """A listener on 127.0.0.2 that notes the first bytes of every connection and answers
    HTTP 404: a tracker, web seed or peer the engine must never reach. Not on the seeder's
    127.0.0.1: libtorrent keeps one peer per IP, and would drop one of the two.

        async with Recorder() as target: ... target.address ... assert target.seen == []
    """

    HOST = "127.0.0.2"

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.address = ""

    async def __aenter__(self) -> Recorder:
        self._server = await asyncio.start_server(self._on_connection, self.HOST, 0)
        self.address = f"{self.HOST}:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.seen.append(await asyncio.wait_for(reader.read(200), 5))
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (TimeoutError, ConnectionError):
            self.seen.append(b"")
        finally:
            writer.close()


def build_info(
    name: str,
    files: list[tuple[list[str], bytes]],
    piece_length: int = 16 * 1024,
    symlinks: list[tuple[list[str], list[str]]] = (),  # type: ignore[assignment]
) -> dict[bytes, Any]:
    """A v1 multi-file info dict with whatever path components you give it (even hostile),
    plus BEP 47 symlink entries (path, target path), which hold no data."""
    blob = b"".join(data for _, data in files)
    pieces = b"".join(hashlib.sha1(blob[i : i + piece_length]).digest() for i in range(0, len(blob), piece_length))
    links = [{b"length": 0, b"attr": b"l", b"path": [p.encode() for p in path], b"symlink path": [t.encode() for t in target]}
             for path, target in symlinks]  # fmt: skip
    return {
        b"name": name.encode(),
        b"piece length": piece_length,
        b"pieces": pieces,
        b"files": [{b"length": len(data), b"path": [part.encode() for part in path]} for path, data in files] + links,
    }


async def until(condition: Callable[[], object], timeout: float, what: str = "condition") -> None:
    """Poll `condition` every 20 ms until it is truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def _wait(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Blocking poll with a deadline, for the seeder's own (synchronous) start-up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture(scope="session")
def swarm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swarm]:
    """The session's seeder on 127.0.0.1."""
    swarm = Swarm(tmp_path_factory.mktemp("swarm"))
    yield swarm
    swarm.close()
