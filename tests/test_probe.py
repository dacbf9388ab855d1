"""Which files a browser gets as they are, and what happens to each stream otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from mediahub.streaming.probe import Action, probe_file
from mediahub.streaming.source import FileSource
from mediahub.streaming.transmux import TranscodeLimiter, TransmuxJob
from tests.media import make_media

COPY, AAC, H264 = Action.COPY, Action.TO_AAC, Action.TO_H264

CASES = {
    # name: (make_media arguments, direct?, video action, audio action)
    "hevc.mkv": (dict(vcodec="libx265", fmt="matroska"), False, H264, COPY),  # no HEVC decoder in Chromium
    "high10.mkv": (dict(pix_fmt="yuv420p10le", fmt="matroska"), False, H264, COPY),  # 10-bit H.264
    "mpeg2.mkv": (dict(vcodec="mpeg2video", acodec="mp2", fmt="matroska"), False, H264, AAC),
    "vp9.webm": (dict(vcodec="libvpx-vp9", acodec="libopus", fmt="webm"), True, COPY, COPY),
    "opus.mp4": (dict(acodec="libopus", fmt="mp4", container_options={"movflags": "+faststart"}), True, COPY, COPY),
    "h264.mp4": (dict(fmt="mp4"), True, COPY, COPY),
    "h264.mkv": (dict(fmt="matroska"), False, COPY, COPY),
    "h264.mov.mkv": (dict(fmt="mov"), False, COPY, COPY),  # the extension says Matroska: not direct
}


@pytest.fixture(scope="module")
def probe_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("probe")
    return {name: make_media(root / name, seconds=1, **kwargs) for name, (kwargs, *_) in CASES.items()}


@pytest.mark.parametrize("name", CASES)
def test_plan(probe_media: dict[str, Path], name: str) -> None:
    _, direct, video, audio = CASES[name]
    plan = probe_file(str(probe_media[name]))
    assert (plan.direct, plan.video.action, plan.audio.action) == (direct, video, audio)  # type: ignore[union-attr]


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["hevc.mkv", "high10.mkv", "mpeg2.mkv"])
async def test_undecodable_video_arrives_as_8bit_h264(probe_media: dict[str, Path], name: str) -> None:
    source = await FileSource.open(probe_media[name])
    job = TransmuxJob(source, name, TranscodeLimiter(1))
    data = b"".join([chunk async for chunk in job.chunks()])
    await job.aclose()
    source.close()
    with av.open(io.BytesIO(data)) as out:
        video = out.streams.video[0]
        frames = list(out.decode(video))
        assert video.codec.canonical_name == "h264" and video.codec_context.format.name == "yuv420p"
        assert out.streams.audio[0].codec.canonical_name in {"aac", "opus", "mp3"}
    assert len(frames) == 25
