"""Generated test media: small real videos encoded in-process with PyAV.

Every file is lavfi `testsrc2` video plus a `sine` tone, 320x180 at 25 fps with a fixed
1-second GOP (so a seek lands on a predictable keyframe) and B-frames (so remuxers that
drop dts-less packets get caught). Importing this module gives plain functions for
scripts and benchmarks; pytest gets session-scoped fixtures via `tests/conftest.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.filter
from av.video.frame import PictureType
import pytest

WIDTH, HEIGHT, FPS = 320, 180, 25
GOP_SECONDS = 1.0
DURATION = 4.0
SAMPLE_RATE = 48000

# (start, end, text) cues for the subtitle track and sidecar files.
CUES: tuple[tuple[float, float, str], ...] = (
    (0.5, 1.5, "Hello from mediahub"),
    (2.0, 3.0, "Second line, with <i>style</i>"),
)


def make_media(
    path: Path | str,
    *,
    seconds: float = DURATION,
    vcodec: str = "libx264",
    acodec: str | None = "aac",
    fmt: str | None = None,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    fps: int = FPS,
    pix_fmt: str = "yuv420p",
    bit_rate: int | None = None,
    noise: bool = False,
    subtitles: tuple[tuple[float, float, str], ...] = (),
    container_options: dict[str, str] | None = None,
    interleaved: bool = True,
    dubs: tuple[tuple[str, str], ...] = (),
) -> Path:
    """Encode `seconds` of testsrc2 (+ sine) into `path` and return it.

    `noise` adds per-frame noise so the encoder cannot compress it away (for files that
    must be big); `subtitles` adds a SubRip text track (Matroska only); `interleaved=False`
    writes all video before all audio, like a badly made file; `dubs` adds audio tracks
    ((codec, language), ...) after the first one, which is then marked English.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gop = max(1, round(GOP_SECONDS * fps))
    options = {**(container_options or {}), **({} if interleaved else {"max_interleave_delta": "1"})}
    with av.open(str(path), "w", format=fmt, options=options) as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = pix_fmt
        video.codec_context.gop_size = gop
        if bit_rate:
            video.bit_rate = bit_rate
        if vcodec == "libx264":
            # Fixed GOP, no scene-cut keyframes, B-frames on (veryfast keeps them).
            video.options = {"preset": "veryfast", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        elif vcodec == "mpeg4":
            video.codec_context.max_b_frames = 2
        audio = out.add_stream(acodec, rate=SAMPLE_RATE, layout="stereo") if acodec else None
        tracks = [(audio, 440)] if audio is not None else []
        for n, (codec, language) in enumerate(dubs, start=1):
            tracks[0][0].metadata["language"] = "eng"
            dub = out.add_stream(codec, rate=SAMPLE_RATE, layout="stereo")
            dub.metadata["language"] = language
            tracks.append((dub, 440 + 220 * n))
        sub_source = _srt_container(path, subtitles) if subtitles else None
        sub_out = out.add_stream_from_template(sub_source.streams.subtitles[0]) if sub_source else None

        filters = "noise=alls=60:allf=t+u," if noise else ""
        packets: list[av.Packet] = []
        for frame in _lavfi(
            f"testsrc2=size={size[0]}x{size[1]}:rate={fps}:duration={seconds},{filters}format={pix_fmt}"
        ):
            frame.pict_type = PictureType.NONE  # testsrc2 marks every frame I; let the GOP decide
            packets += video.encode(frame)
        packets += video.encode()
        for track, pitch in tracks:
            for frame in _lavfi(f"sine=frequency={pitch}:sample_rate={SAMPLE_RATE}:duration={seconds}"):
                packets += track.encode(frame)
            packets += track.encode()
        if sub_source is not None and sub_out is not None:
            for packet in sub_source.demux(sub_source.streams.subtitles[0]):
                if packet.size:
                    packet.stream = sub_out
                    packets.append(packet)
        if interleaved:  # in time order, as well-made files are
            packets.sort(key=lambda p: (p.dts if p.dts is not None else p.pts) * p.time_base)
        for packet in packets:
            out.mux(packet)
        if sub_source is not None:
            sub_source.close()
            os.unlink(sub_source.name)
    return path


def _lavfi(description: str) -> Iterator[av.VideoFrame | av.AudioFrame]:
    """Pull every frame out of a one-chain lavfi source like `testsrc2=...,format=...`."""
    graph = av.filter.Graph()
    source, *rest = description.split(",")
    name, _, args = source.partition("=")
    node = graph.add(name, args)
    for item in rest:
        fname, _, fargs = item.partition("=")
        nxt = graph.add(fname, fargs)
        node.link_to(nxt)
        node = nxt
    sink = graph.add("abuffersink" if name == "sine" else "buffersink")
    node.link_to(sink)
    graph.configure()
    while True:
        try:
            yield sink.pull()
        except av.error.EOFError:
            return


def srt_text(cues: tuple[tuple[float, float, str], ...] = CUES) -> str:
    """The cues as a SubRip document (also handy for sidecar-file tests)."""

    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02}:{ms // 60000 % 60:02}:{ms // 1000 % 60:02},{ms % 1000:03}"

    blocks = [f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1)]
    return "\n".join(blocks)


def _srt_container(beside: Path, cues: tuple[tuple[float, float, str], ...]) -> av.container.InputContainer:
    """Demux a temporary .srt so its packets can be copied into the output as a track."""
    srt = beside.with_name(beside.name + ".tmp.srt")
    srt.write_text(srt_text(cues), encoding="utf-8")
    return av.open(str(srt))


def make_mp4(path: Path | str, seconds: float = DURATION, **kw) -> Path:
    """H.264/AAC MP4 with `moov` first (faststart): directly playable, range-servable."""
    return make_media(path, seconds=seconds, fmt="mp4", container_options={"movflags": "+faststart"}, **kw)


def make_mkv(path: Path | str, seconds: float = DURATION, **kw) -> Path:
    """H.264/AAC Matroska: browser codecs in a container that needs transmux."""
    return make_media(path, seconds=seconds, fmt="matroska", **kw)


def make_mkv_with_subtitles(path: Path | str, seconds: float = DURATION, cues=CUES, **kw) -> Path:
    """H.264/AAC Matroska with an embedded SubRip text track carrying `cues`."""
    return make_media(path, seconds=seconds, fmt="matroska", subtitles=cues, **kw)


def make_avi(path: Path | str, seconds: float = DURATION, **kw) -> Path:
    """MPEG-4 Part 2 + MP3 AVI: video a browser cannot decode, so it must be re-encoded."""
    return make_media(path, seconds=seconds, vcodec="mpeg4", acodec="libmp3lame", fmt="avi", **kw)


def make_ac3_mkv(path: Path | str, seconds: float = DURATION, **kw) -> Path:
    """H.264 + AC3 Matroska: video copies, audio must become AAC."""
    return make_media(path, seconds=seconds, acodec="ac3", fmt="matroska", **kw)


def make_big_mp4(path: Path | str, min_bytes: int, **kw) -> Path:
    """A real faststart MP4 of at least `min_bytes`: noisy 640x360 at a high bit rate.

    Roughly 0.5 s of encoding per MB on 2 cores; fine for tens of MB. For pure byte
    tests of huge sizes (the 1 GiB benchmark) use `make_filler`.
    """
    bit_rate = 16_000_000
    seconds = max(2.0, min_bytes * 8 / bit_rate * 1.15)
    path = make_mp4(path, seconds=seconds, size=(640, 360), bit_rate=bit_rate, noise=True, **kw)
    if path.stat().st_size < min_bytes:  # encoder undershot its rate: scale up once
        seconds *= 1.2 * min_bytes / path.stat().st_size
        path = make_mp4(path, seconds=seconds, size=(640, 360), bit_rate=bit_rate, noise=True, **kw)
    return path


def make_filler(path: Path | str, size: int, chunk: int = 1 << 20) -> Path:
    """`size` random bytes (not a video): for byte-range tests that only need volume."""
    path = Path(path)
    with open(path, "wb") as f:
        for offset in range(0, size, chunk):
            f.write(os.urandom(min(chunk, size - offset)))
    return path


def duration_of(path: Path | str) -> float:
    """Container duration in seconds (for assertions)."""
    with av.open(str(path)) as c:
        return float(c.duration * Fraction(1, av.time_base)) if c.duration else 0.0


# --- pytest fixtures (session-scoped: each file is generated once per test run) ---


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def mp4_file(media_dir: Path) -> Path:
    return make_mp4(media_dir / "movie.mp4")


@pytest.fixture(scope="session")
def mkv_file(media_dir: Path) -> Path:
    return make_mkv(media_dir / "movie.mkv")


@pytest.fixture(scope="session")
def mkv_subs_file(media_dir: Path) -> Path:
    return make_mkv_with_subtitles(media_dir / "subbed.mkv")


@pytest.fixture(scope="session")
def avi_file(media_dir: Path) -> Path:
    return make_avi(media_dir / "movie.avi")


@pytest.fixture(scope="session")
def ac3_mkv_file(media_dir: Path) -> Path:
    return make_ac3_mkv(media_dir / "ac3.mkv")
