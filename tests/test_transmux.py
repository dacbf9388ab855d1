"""Live transmux to fragmented MP4 with real PyAV on generated MKV/AVI/AC3 files."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from mediahub.streaming.probe import BROWSER_AUDIO, Action, probe_file
from mediahub.streaming.source import FileSource
from mediahub.streaming.transmux import TranscodeBusy, TranscodeLimiter, TransmuxError, TransmuxJob
from tests.media import DURATION, FPS, GOP_SECONDS, make_avi, make_mkv

pytestmark = pytest.mark.anyio


@dataclass
class Decoded:
    video_codec: str
    audio_codec: str
    frames: int
    width: int
    video_seconds: float
    audio_seconds: float
    first_picture: bytes


def decode(data: bytes) -> Decoded:
    """Decode every frame of an MP4 in memory, as a player would."""
    with av.open(io.BytesIO(data)) as c:
        video, audio = c.streams.video[0], c.streams.audio[0]
        frames = list(c.decode(video))
    with av.open(io.BytesIO(data)) as c:
        audio_frames = list(c.decode(audio=0))
    audio_seconds = sum(f.samples for f in audio_frames) / audio_frames[0].sample_rate
    return Decoded(
        video.codec.canonical_name,
        audio.codec.canonical_name,
        len(frames),
        frames[0].width,
        len(frames) / FPS,
        audio_seconds,
        bytes(frames[0].planes[0]),
    )


def source_pictures(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(f.planes[0]) for f in c.decode(video=0)]


class GatedSource:
    """A file whose middle "downloads" only when `arrive()` is called, like a slow swarm.

    The first `available` bytes and the last 64 KiB are there (a torrent reader fetches
    a file's edges first: AVI and MP4 keep their index at the end).
    """

    def __init__(self, inner: FileSource, available: int) -> None:
        self.inner = inner
        self.available = available
        self.tail = inner.size - 65536
        self.arrived = asyncio.Event()
        self.waiting = asyncio.Event()
        self.closed = False

    @property
    def size(self) -> int:
        return self.inner.size

    async def read(self, offset: int, n: int) -> bytes:
        if offset < self.tail and offset + n > self.available and not self.arrived.is_set():
            self.waiting.set()
            await self.arrived.wait()
        return await self.inner.read(offset, n)

    def arrive(self) -> None:
        self.arrived.set()

    def close(self) -> None:
        self.closed = True
        self.inner.close()


async def transmux(path: Path, limiter: TranscodeLimiter, start: float = 0.0) -> bytes:
    source = await FileSource.open(path)
    job = TransmuxJob(source, path.name, limiter, start=start)
    try:
        return b"".join([chunk async for chunk in job.chunks()])
    finally:
        await job.aclose()
        source.close()


@pytest.mark.parametrize("fixture", ["mkv_file", "avi_file", "ac3_mkv_file"])
async def test_transmuxed_stream_decodes_fully_as_h264_with_browser_audio(request, fixture: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    limiter = TranscodeLimiter(2)
    out = decode(await transmux(path, limiter))
    assert out.video_codec == "h264"
    assert out.audio_codec in BROWSER_AUDIO
    if probe_file(str(path)).audio.action is Action.TO_AAC:  # type: ignore[union-attr]
        assert out.audio_codec == "aac"
    assert out.frames == DURATION * FPS  # every frame, none lost at the start or the end
    assert out.width == 320
    assert out.audio_seconds == pytest.approx(DURATION, abs=0.1)
    assert limiter.active == 0


async def test_copied_stream_is_bit_exact(mkv_file: Path) -> None:
    """Copying (not re-encoding) H.264 keeps the picture identical and costs no quality."""
    out = decode(await transmux(mkv_file, TranscodeLimiter(1)))
    assert out.first_picture == source_pictures(mkv_file)[0]


@pytest.mark.parametrize("fixture", ["mkv_file", "avi_file"])
@pytest.mark.parametrize("start", [1.5, 2.5, 3.2])
async def test_start_lands_on_the_keyframe_at_or_before_it(request, fixture: str, start: float) -> None:
    path: Path = request.getfixturevalue(fixture)
    out = decode(await transmux(path, TranscodeLimiter(1), start=start))
    landed = DURATION - out.frames / FPS  # where in the film the stream begins
    assert start - GOP_SECONDS - 1 / FPS <= landed <= start
    if fixture == "mkv_file":  # copied: the first picture is exactly the source frame there
        assert out.first_picture == source_pictures(path)[round(landed * FPS)]


async def test_over_the_limit_is_busy_and_a_finished_job_frees_its_slot(mkv_file: Path) -> None:
    limiter = TranscodeLimiter(1)
    source = await FileSource.open(mkv_file)
    job = TransmuxJob(source, "movie.mkv", limiter)
    with pytest.raises(TranscodeBusy, match="1 transcoding slots are in use"):
        TransmuxJob(source, "movie.mkv", limiter)
    assert decode(b"".join([c async for c in job.chunks()])).frames == DURATION * FPS
    await job.aclose()
    assert limiter.active == 0
    assert decode(await transmux(mkv_file, limiter)).frames == DURATION * FPS
    source.close()


async def test_cancel_while_waiting_for_a_download_frees_the_slot_at_once(tmp_path: Path) -> None:
    """A viewer leaving mid-stream must not keep a transcode slot until the download ends."""
    path = make_avi(tmp_path / "long.avi", seconds=20)
    limiter = TranscodeLimiter(1)
    source = GatedSource(await FileSource.open(path), available=path.stat().st_size // 2)
    job = TransmuxJob(source, path.name, limiter)
    header = await job.read()
    assert header[4:8] == b"ftyp"
    await asyncio.wait_for(source.waiting.wait(), 30)  # the encoder is now blocked on missing bytes
    await asyncio.wait_for(job.aclose(), 30)  # ends although the bytes it waits for never come
    assert limiter.active == 0
    assert not source.arrived.is_set()  # it stopped without the rest of the file
    replacement = TransmuxJob(source, path.name, limiter)  # the slot is really free
    await replacement.aclose()
    source.close()


async def test_transmux_reads_through_any_byte_source(mkv_file: Path) -> None:
    """A downloading file is a byte source that waits for data; the stream just arrives later."""
    source = GatedSource(await FileSource.open(mkv_file), available=mkv_file.stat().st_size // 3)
    job = TransmuxJob(source, mkv_file.name, TranscodeLimiter(1))
    first = await job.read()
    await asyncio.wait_for(source.waiting.wait(), 10)
    source.arrive()
    rest = b"".join([c async for c in job.chunks()])
    await job.aclose()
    assert decode(first + rest).frames == DURATION * FPS
    source.close()


async def test_garbage_input_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mkv"
    path.write_bytes(b"\x1aE\xdf\xa3 this is not really matroska" * 100)
    limiter = TranscodeLimiter(1)
    with pytest.raises(TransmuxError, match="Cannot stream broken.mkv"):
        await transmux(path, limiter)
    assert limiter.active == 0


async def test_start_in_a_badly_interleaved_file_starts_every_stream_there(tmp_path: Path) -> None:
    """All audio stored after all video: reading on from the seek point finds audio from
    0 s on. The stream must still begin at the seek point, or the picture stays frozen
    while that earlier audio plays."""
    path = make_mkv(tmp_path / "bad.mkv", seconds=10, interleaved=False)
    data = await transmux(path, TranscodeLimiter(1), start=6.0)
    with av.open(io.BytesIO(data)) as c:
        audio = [p for p in c.demux(audio=0) if p.size]
    audio_seconds = float((audio[-1].pts + audio[-1].duration - audio[0].pts) * audio[0].time_base)
    assert audio_seconds == pytest.approx(4.0, abs=0.2)  # 6 s .. 10 s, not 0 s .. 10 s
    assert decode(data).frames == 4 * FPS
