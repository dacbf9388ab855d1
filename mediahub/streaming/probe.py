"""Decide how a file reaches the browser: as it is, transmuxed, or partly re-encoded.

The codec names come from the container, which is untrusted input: every decision goes
through the allow-lists below, and only the constant encoder names in `Action` ever reach
FFmpeg. HEVC is not copied: Chromium without a hardware decoder (Debian's build, headless)
cannot play it, so it is re-encoded like any other codec outside the list.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePath
from typing import Any

import av
import av.container
import av.stream

from mediahub.streaming.source import BlockingReader, ByteSource, FileSource

# Browser-decodable (Chromium, Firefox, Safari) video and audio, by FFmpeg codec name.
BROWSER_VIDEO = frozenset({"h264", "vp9", "av1"})
BROWSER_AUDIO = frozenset({"aac", "mp3", "opus"})
# 8-bit 4:2:0 is what every browser's H.264 decoder takes; High 10 / 4:2:2 is not.
BROWSER_H264_PIX_FMTS = frozenset({"yuv420p", "yuvj420p"})
# WebM may carry only these; a .webm with anything else is remuxed like an MKV.
WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "vorbis", "opus"})
MP4_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov"})
TEXT_SUBTITLES = frozenset({"subrip", "ass", "ssa", "webvtt", "mov_text", "text"})
# How much FFmpeg reads to settle codec parameters: 1 s or 1 MiB, whichever comes first.
INPUT_OPTIONS = {"analyzeduration": "1000000", "probesize": str(1 << 20)}


class Action(enum.Enum):
    """What happens to a stream on its way into MP4. The values are FFmpeg encoder names."""

    COPY = "copy"
    TO_AAC = "aac"
    TO_H264 = "libx264"


@dataclass(frozen=True, slots=True)
class StreamPlan:
    index: int
    codec: str
    action: Action


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """An embedded text subtitle track (bitmap subtitles cannot become WebVTT)."""

    index: int
    codec: str
    language: str | None
    title: str | None
    default: bool


@dataclass(frozen=True, slots=True)
class MediaPlan:
    """The verdict for one file; `direct` means serve its bytes with ranges as they are."""

    container: str
    direct: bool
    video: StreamPlan | None
    audio: StreamPlan | None  # the default track: what a browser plays
    subtitles: tuple[SubtitleTrack, ...]
    duration: float | None
    other_audio: tuple[StreamPlan, ...] = ()  # other languages, commentary: kept by finalize

    @property
    def transcodes(self) -> bool:
        """True when some stream is re-encoded (costly: counts against the job limit either way)."""
        return any(s is not None and s.action is not Action.COPY for s in (self.video, self.audio))


def open_input(target: str | BlockingReader) -> av.container.InputContainer:
    """Open a file or a byte source's reader for demuxing.

    That much settles every codec parameter we use; FFmpeg's defaults (5 s, 5 MB) would
    make a stream of a downloading file wait for that much of it to arrive.
    """
    return av.open(target, metadata_errors="ignore", container_options=INPUT_OPTIONS)


class UnplayableMedia(ValueError):
    """The file has no stream we could ever turn into something a browser plays."""


def plan_container(container: av.container.InputContainer, name: str) -> MediaPlan:
    """Build the plan for an open input; `name` is the file name (its extension counts)."""
    video_stream = _first(container.streams.video, lambda s: not s.disposition & av.stream.Disposition.attached_pic)
    audio_stream = _first(container.streams.audio, lambda s: bool(s.disposition & av.stream.Disposition.default))
    audio_stream = audio_stream or _first(container.streams.audio, lambda s: True)
    if video_stream is None and audio_stream is None:
        raise UnplayableMedia(f"{PurePath(name).name} has no audio or video stream")

    video = _plan_video(video_stream) if video_stream is not None else None
    audio = _plan_audio(audio_stream) if audio_stream is not None else None
    codecs = {p.codec for p in (video, audio) if p is not None}
    suffix = PurePath(name).suffix.lower()
    fmt = container.format.name
    copies_only = all(p.action is Action.COPY for p in (video, audio) if p is not None)
    if suffix in MP4_EXTENSIONS:
        direct = "mp4" in fmt.split(",") and copies_only
    elif suffix == ".webm":
        direct = "webm" in fmt.split(",") and codecs <= WEBM_CODECS
    else:
        direct = False
    duration = float(container.duration * Fraction(1, av.time_base)) if container.duration else None
    subtitles = tuple(
        SubtitleTrack(
            index=s.index,
            codec=_codec(s),
            language=s.metadata.get("language"),
            title=s.metadata.get("title"),
            default=bool(s.disposition & av.stream.Disposition.default),
        )
        for s in container.streams.subtitles
        if _codec(s) in TEXT_SUBTITLES
    )
    # An extra track FFmpeg has no codec for is left out rather than failing the whole file.
    other_audio = tuple(_plan_audio(s) for s in container.streams.audio if s is not audio_stream and _codec(s))
    return MediaPlan(fmt, direct, video, audio, subtitles, duration, other_audio)


def probe_file(path: str, name: str | None = None) -> MediaPlan:
    """Blocking: open `path` with PyAV and plan it (call from a worker thread)."""
    with open_input(path) as container:
        return plan_container(container, name or path)


async def probe(source: ByteSource, name: str) -> MediaPlan:
    """Plan any byte source off the event loop (a downloading file reads its header pieces)."""
    if isinstance(source, FileSource):
        return await asyncio.to_thread(probe_file, str(source.path), name)
    reader = BlockingReader(source, asyncio.get_running_loop())

    def run() -> MediaPlan:
        with open_input(reader) as container:
            return plan_container(container, name)

    try:
        return await asyncio.to_thread(run)
    except asyncio.CancelledError:
        reader.cancel()
        raise


def _plan_video(stream: av.stream.Stream) -> StreamPlan:
    codec = _codec(stream)
    ok = codec in BROWSER_VIDEO and (codec != "h264" or _browser_h264(stream.codec_context))
    return StreamPlan(stream.index, codec, Action.COPY if ok else Action.TO_H264)


def _browser_h264(ctx: Any) -> bool:
    """8-bit 4:2:0 H.264. The pixel format is known once a frame was parsed; a probe of a
    file still downloading may stop before that, and then the profile tells instead."""
    if ctx.format is not None:
        return ctx.format.name in BROWSER_H264_PIX_FMTS
    return not any(mark in (ctx.profile or "") for mark in ("10", "422", "444"))


def _plan_audio(stream: av.stream.Stream) -> StreamPlan:
    codec = _codec(stream)
    return StreamPlan(stream.index, codec, Action.COPY if codec in BROWSER_AUDIO else Action.TO_AAC)


def _codec(stream: av.stream.Stream) -> str:
    """Canonical FFmpeg codec name ("mp3", not the decoder's "mp3float"); "" if unknown."""
    try:
        return stream.codec.canonical_name
    except Exception:  # noqa: BLE001 - an unknown codec id has no codec object
        return ""


def _first(streams: Any, want) -> Any:
    return next((s for s in streams if want(s)), None)
