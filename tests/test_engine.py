"""The torrent engine against a real loopback swarm: download, selection, restart, streaming."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediahub.settings import Settings
from mediahub.torrents.engine import TorrentEngine
from mediahub.torrents.errors import TorrentNotFound, TorrentStartFailed
from mediahub.torrents.magnet import Magnet, parse_magnet
from mediahub.torrents.models import MetadataReceived, PieceFinished, TorrentFinished
from tests.swarm import Swarm, build_info, until

pytestmark = pytest.mark.anyio

KIB, MIB = 1024, 1024 * 1024


def engine_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, torrent_listen="127.0.0.1:0", torrent_dht=False, torrent_lsd=False, torrent_upnp=False,
        magnet_hosts=("127.0.0.1",),
    )


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[TorrentEngine]:
    async with TorrentEngine(engine_settings(tmp_path / "data")) as engine:
        yield engine


async def download(engine: TorrentEngine, magnet: str, save_path: Path, wanted: set[str] | None = None) -> str:
    """Add, select (all files, or those paths) and return the info-hash; does not wait."""
    parsed = parse_magnet(magnet)
    await engine.add(parsed, save_path)
    files = await engine.wait_metadata(parsed.infohash, timeout=10)
    engine.set_file_priorities(parsed.infohash, {f.index: 4 for f in files if wanted is None or f.path in wanted})
    return parsed.infohash


async def wait_finished(engine: TorrentEngine, infohash: str, timeout: float = 30) -> None:
    async with engine.subscribe(infohash, (TorrentFinished,)) as events:
        status = engine.status(infohash)
        if status is None or not status.finished:
            async with asyncio.timeout(timeout):
                await anext(events)


def blocks_on_disk(path: Path) -> int:
    return path.stat().st_blocks if path.exists() else 0


async def test_magnet_downloads_to_completion_byte_identical(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    data = os.urandom(3 * MIB + 12345)
    seed = swarm.seed({"Movie (2010).mkv": data})
    save = tmp_path / "data" / "downloads" / seed.infohash
    seen: list[type] = []

    async def record() -> None:
        async with engine.subscribe(seed.infohash) as events:
            async for event in events:
                seen.append(type(event))
                if isinstance(event, TorrentFinished):
                    return

    recorder = asyncio.create_task(record())
    infohash = await download(engine, seed.magnet, save)
    await asyncio.wait_for(recorder, 30)
    status = engine.status(infohash)
    assert status is not None and status.finished and status.progress == 100.0
    assert status.total_bytes == status.downloaded_bytes == len(data)
    assert (save / "Movie (2010).mkv").read_bytes() == data
    assert seen.index(MetadataReceived) < seen.index(PieceFinished)
    assert seen.count(PieceFinished) == seed.num_pieces


async def test_unwanted_files_get_no_bytes(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    # Sizes that do not line up with pieces, so the wanted file shares pieces with its neighbours.
    files = {
        "Show S01/Show.S01E01.mkv": os.urandom(700 * KIB + 11),
        "Show S01/Sample/sample.mkv": os.urandom(300 * KIB + 7),
        "Show S01/Show.S01E02.mkv": os.urandom(500 * KIB + 3),
        "Show S01/Show.S01E01.srt": b"1\n00:00:01,000 --> 00:00:02,000\nHi\n",
        "Show S01/extras.nfo": os.urandom(40 * KIB),
    }
    seed = swarm.seed(files, piece_size=32 * KIB)
    save = tmp_path / "dl"
    wanted = {"Show S01/Show.S01E01.mkv", "Show S01/Show.S01E02.mkv", "Show S01/Show.S01E01.srt"}
    infohash = await download(engine, seed.magnet, save, wanted)
    await wait_finished(engine, infohash)
    for path in wanted:
        assert (save / path).read_bytes() == files[path]
    assert blocks_on_disk(save / "Show S01/Sample/sample.mkv") == 0
    assert blocks_on_disk(save / "Show S01/extras.nfo") == 0
    status = engine.status(infohash)
    assert status is not None and status.total_bytes == sum(len(files[p]) for p in wanted)


async def test_restart_resumes_from_verified_pieces(swarm: Swarm, tmp_path: Path):
    data = os.urandom(8 * MIB)
    seed = swarm.seed({"resume.mkv": data}, upload_limit=2 * MIB)
    settings = engine_settings(tmp_path / "data")
    save = tmp_path / "dl"
    async with TorrentEngine(settings) as first:
        infohash = await download(first, seed.magnet, save)
        await until(lambda: first.status(infohash).progress >= 40, 20, "40% downloaded")  # type: ignore[union-attr]
    assert (settings.state_dir / "resume" / f"{infohash}.fastresume").exists()
    seed.throttle(None)
    async with TorrentEngine(settings) as second:
        status = await second.add(parse_magnet(seed.magnet), save)
        assert status.has_metadata  # from the resume data: no metadata round trip, no re-selection
        await wait_finished(second, infohash)
        after_restart = second.status(infohash).session_downloaded  # type: ignore[union-attr]
    assert after_restart < 0.65 * len(data)
    assert (save / "resume.mkv").read_bytes() == data


async def test_sigkill_mid_download_resumes(swarm: Swarm, tmp_path: Path):
    data = os.urandom(8 * MIB)
    seed = swarm.seed({"crash.mkv": data}, upload_limit=2 * MIB)
    settings = engine_settings(tmp_path / "data")
    save = tmp_path / "dl"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.engine_child", str(settings.data_dir), str(save), seed.magnet,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        async with asyncio.timeout(30):
            while line := await child.stdout.readline():  # progress lines until 50%
                if float(line) >= 50:
                    break
            assert line, "the engine process ended early"
    finally:
        child.kill()
        await child.wait()
    seed.throttle(None)
    async with TorrentEngine(settings) as engine:
        status = await engine.add(parse_magnet(seed.magnet), save)
        assert status.has_metadata
        await wait_finished(engine, seed.infohash)
        after_restart = engine.status(seed.infohash).session_downloaded  # type: ignore[union-attr]
    assert after_restart < 0.7 * len(data)
    assert (save / "crash.mkv").read_bytes() == data


async def test_reading_the_middle_of_a_slow_download(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    rate = 1 * MIB
    data = os.urandom(16 * MIB)
    seed = swarm.seed({"stream.mkv": data}, upload_limit=rate)
    infohash = await download(engine, seed.magnet, tmp_path / "dl")
    await until(lambda: engine.status(infohash).progress >= 3, 10, "the download to run")  # type: ignore[union-attr]
    async with engine.open_file(infohash, 0) as middle, engine.open_file(infohash, 0) as late:
        chunk = await middle.read(9 * MIB + 100, 1000, timeout=10)
        at_first = engine.status(infohash).progress  # type: ignore[union-attr]
        other = await late.read(13 * MIB, 64 * KIB, timeout=10)
    assert chunk == data[9 * MIB + 100 : 9 * MIB + 1100]
    assert other == data[13 * MIB : 13 * MIB + len(other)] and len(other) > 0
    # In order, 9 MiB arrive at 56 % and 13 MiB at 81 %: both reads jumped the queue.
    assert at_first < 30, f"the bytes at 56 % arrived only at {at_first:.0f} %"
    assert engine.status(infohash).progress < 50  # type: ignore[union-attr]


async def test_reader_reads_to_the_end_across_pieces(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    files = {"Pack/a.bin": os.urandom(100 * KIB + 1), "Pack/b.mkv": os.urandom(700 * KIB + 5)}
    seed = swarm.seed(files, piece_size=16 * KIB)
    infohash = await download(engine, seed.magnet, tmp_path / "dl", {"Pack/b.mkv"})
    index = seed.file_index("Pack/b.mkv")
    received = bytearray()
    async with engine.open_file(infohash, index) as reader:
        assert reader.size == len(files["Pack/b.mkv"])
        while chunk := await reader.read(len(received), 256 * KIB, timeout=10):
            received += chunk
    assert bytes(received) == files["Pack/b.mkv"]


async def test_dead_magnet_waits_quietly_and_can_be_removed(engine: TorrentEngine, tmp_path: Path):
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{secrets.token_hex(20)}&dn=Nobody.Seeds.This.mkv")
    status = await engine.add(magnet, tmp_path / "dl")
    assert not status.has_metadata and status.peers == 0 and not status.finished
    again = await engine.add(magnet, tmp_path / "dl")  # idempotent
    assert again.infohash == status.infohash and len(engine.torrents()) == 1
    with pytest.raises(TimeoutError):
        await engine.wait_metadata(magnet.infohash, timeout=0.5)
    assert engine.files(magnet.infohash) is None
    waiter = asyncio.create_task(engine.wait_metadata(magnet.infohash, timeout=30))
    await engine.remove(magnet.infohash, delete_files=True)
    with pytest.raises(TorrentNotFound):
        await waiter
    assert engine.status(magnet.infohash) is None
    assert not list((engine.settings.state_dir / "resume").glob("*"))


async def test_remove_with_files_deletes_the_download(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    seed = swarm.seed({"Gone/a.mkv": os.urandom(200 * KIB), "Gone/b.mkv": os.urandom(100 * KIB)})
    save = tmp_path / "dl"
    infohash = await download(engine, seed.magnet, save, {"Gone/a.mkv"})
    await wait_finished(engine, infohash)
    await engine.remove(infohash, delete_files=True)
    assert [p for p in save.rglob("*") if p.is_file()] == []


async def test_pause_and_resume(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    data = os.urandom(4 * MIB)
    seed = swarm.seed({"pause.mkv": data}, upload_limit=1 * MIB)
    infohash = await download(engine, seed.magnet, tmp_path / "dl")
    engine.pause(infohash)
    assert engine.status(infohash).paused  # type: ignore[union-attr]
    await until(lambda: engine.status(infohash).download_rate == 0, 5, "transfer to stop")  # type: ignore[union-attr]
    seed.throttle(None)
    engine.resume(infohash)
    await wait_finished(engine, infohash)
    assert (tmp_path / "dl" / "pause.mkv").read_bytes() == data


async def test_hostile_names_stay_inside_the_save_path(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    hostile = [
        (["..", "..", "escape.mkv"], os.urandom(20 * KIB)),
        (["/etc", "x"], os.urandom(5 * KIB)),
        (["..\\..\\win.mkv"], os.urandom(3 * KIB)),
        (["CON"], b"device"),
        (["a" * 300 + ".mkv"], os.urandom(2 * KIB)),
        (["bad:name?.mkv"], os.urandom(1 * KIB)),
    ]
    seed = swarm.seed_info(build_info("../evil", hostile), dict(enumerate(data for _, data in hostile)))
    save = tmp_path / "box" / "dl"
    infohash = await download(engine, seed.magnet, save)
    await wait_finished(engine, infohash)
    files = engine.files(infohash)
    assert files is not None and len(files) == len(hostile)
    for file in files:
        assert not file.path.startswith("/") and ".." not in file.path.split("/") and "\\" not in file.path
        assert all(len(part.encode()) <= 200 for part in file.path.split("/"))
        on_disk = engine.file_path(infohash, file.index)
        assert on_disk.is_relative_to(save.resolve())
        assert on_disk.exists(), (file, sorted(str(p) for p in save.rglob("*")))
        content = on_disk.read_bytes()
        expected = hostile[file.index][1]
        assert content == expected, (file, len(content), len(expected), content.find(expected[-100:]), engine.files(infohash))
    outside = [p for p in (tmp_path / "box").rglob("*") if p.is_file() and not p.is_relative_to(save)]
    assert outside == []


async def test_prefetch_fetches_the_head_and_tail_of_a_video_first(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    data = os.urandom(16 * MIB)
    seed = swarm.seed({"prefetch.mkv": data}, upload_limit=1 * MIB)
    async with engine.subscribe(seed.infohash, (PieceFinished,)) as events:
        infohash = await download(engine, seed.magnet, tmp_path / "dl")
        engine.prefetch(infohash, 0)
        wanted = {0, 1, seed.num_pieces - 1}
        async with asyncio.timeout(10):
            async for event in events:
                wanted.discard(event.piece)  # type: ignore[union-attr]
                if not wanted:
                    break
    assert engine.status(infohash).progress < 50  # type: ignore[union-attr]
    async with engine.open_file(infohash, 0) as reader:
        assert await reader.read(len(data) - 100, 100, timeout=1) == data[-100:]


async def test_seeder_vanishes_and_comes_back(engine: TorrentEngine, swarm: Swarm, tmp_path: Path):
    data = os.urandom(4 * MIB)
    seed = swarm.seed({"flaky.mkv": data}, upload_limit=1 * MIB)
    infohash = await download(engine, seed.magnet, tmp_path / "dl")
    await until(lambda: engine.status(infohash).progress > 10, 10, "some progress")  # type: ignore[union-attr]
    seed.stop()
    await until(lambda: engine.status(infohash).peers == 0, 10, "the seeder to go")  # type: ignore[union-attr]
    stalled = engine.status(infohash)
    assert stalled is not None and not stalled.finished and stalled.error is None
    assert engine.listen_port > 0
    seed.throttle(None)
    seed.start(connect_to=[engine.listen_port])
    await wait_finished(engine, infohash)
    assert (tmp_path / "dl" / "flaky.mkv").read_bytes() == data


async def test_an_add_libtorrent_reads_differently_fails_without_holding_up_the_next(engine: TorrentEngine, tmp_path: Path):
    ours, theirs = secrets.token_hex(20), secrets.token_hex(20)
    disagreeing = Magnet(infohash=ours, display_name=None, trackers=(), peers=(), link=f"magnet:?xt=urn:btih:{theirs}")
    with pytest.raises(TorrentStartFailed, match="another info-hash"):
        async with asyncio.timeout(10):
            await engine.add(disagreeing, tmp_path / "dl")
    assert engine.torrents() == []
    async with asyncio.timeout(10):
        status = await engine.add(parse_magnet(f"magnet:?xt=urn:btih:{theirs}"), tmp_path / "dl")
    assert status.infohash == theirs and [t.infohash for t in engine.torrents()] == [theirs]
