"""Finalize: turn a finished download into the library's browser-safe, faststart file.

A file that is already a faststart MP4 (or a WebM) with browser codecs is placed as it
is; anything else is remuxed into MP4 (re-encoding only the streams a browser cannot
decode) with `moov` in front, so playback and seeking start from the first bytes. Text
subtitles are extracted in the same pass and sidecar files converted, all to WebVTT.
Every file is written to a temp name in its final directory and renamed into place.
Blocking: call from a worker thread.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av

from mediahub.files import replacing, write_atomic
from mediahub.streaming.probe import MP4_EXTENSIONS, MediaPlan, SubtitleTrack, open_input, plan_container
from mediahub.streaming.remux import convert
from mediahub.streaming.subtitles import (
    Cue,
    Subtitle,
    cue_from_packet,
    language_from_name,
    read_sidecar,
    to_webvtt,
    write_manifest,
)

log = logging.getLogger(__name__)

FASTSTART_MP4 = {"movflags": "+faststart"}


@dataclass(frozen=True, slots=True)
class FinalizeResult:
    path: Path  # the library file (suffix .mp4, or .webm for a WebM kept as it is)
    remuxed: bool  # False when the original bytes were placed unchanged
    transcoded: bool  # some stream was re-encoded
    duration: float | None
    subtitles: list[Subtitle] = field(default_factory=list)


def finalize(
    source: Path,
    dest: Path,
    *,
    keep_original: bool = False,
    sidecars: Sequence[Path] = (),
) -> FinalizeResult:
    """Make `dest` (a library path ending in .mp4) the browser-safe copy of `source`.

    A WebM that browsers play as it is keeps its bytes and gets a .webm suffix instead.
    `sidecars` are subtitle files that came with the download. `source` is removed
    afterwards unless `keep_original`.
    """
    if dest.suffix != ".mp4":
        raise ValueError(f"library file {dest.name} must end in .mp4")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open_input(str(source)) as inp:
        plan = plan_container(inp, source.name)
        collectors = {t.index: _CueCollector(t) for t in plan.subtitles}
        taps = {index: c.add for index, c in collectors.items()}
        if _usable_as_is(source, plan):
            path = dest.with_suffix(".webm") if source.suffix.lower() == ".webm" else dest
            if collectors:
                for packet in inp.demux([inp.streams[i] for i in collectors]):
                    taps[packet.stream.index](packet)
            remuxed = False
        else:
            path = dest
            # Durable when the original is about to go: then this copy is the only one.
            with replacing(path, durable=not keep_original) as tmp:
                with av.open(str(tmp), "w", format="mp4", options=FASTSTART_MP4) as out:
                    convert(inp, plan, out, taps=taps, every_audio=True)
            remuxed = True
    if not remuxed:
        _place(source, path, keep=keep_original)
    elif not keep_original:
        source.unlink()
    subtitles = _write_subtitles(path, collectors.values(), sidecars)
    return FinalizeResult(path, remuxed, remuxed and plan.transcodes, plan.duration, subtitles)


def top_level_boxes(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, offset, size) of an MP4's top-level boxes (ISO/IEC 14496-12 §4.2)."""
    end = path.stat().st_size
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= end:
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", f.read(8))
            elif size == 0:
                size = end - offset
            if size < 8:
                raise ValueError(f"corrupt MP4 box at byte {offset}")
            yield kind, offset, size
            offset += size


def is_faststart(path: Path) -> bool:
    """True when `moov` comes before `mdat`, so a player needs no bytes from the end."""
    for kind, _, _ in top_level_boxes(path):
        if kind in (b"moov", b"mdat"):
            return kind == b"moov"
    return False


def _usable_as_is(source: Path, plan: MediaPlan) -> bool:
    if not plan.direct:
        return False
    return source.suffix.lower() not in MP4_EXTENSIONS or is_faststart(source)


def _place(source: Path, path: Path, *, keep: bool) -> None:
    """Put the unchanged file at `path`: rename it, or hard-link/copy it when kept."""
    if not keep:
        os.replace(source, path)
        return
    with replacing(path) as tmp:  # not durable: the kept original holds the same bytes
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(source, tmp)


class _CueCollector:
    def __init__(self, track: SubtitleTrack) -> None:
        self.track = track
        self.cues: list[Cue] = []

    def add(self, packet: av.Packet) -> None:
        cue = cue_from_packet(packet, self.track.codec)
        if cue is not None:
            self.cues.append(cue)


def _write_subtitles(video: Path, embedded, sidecars: Sequence[Path]) -> list[Subtitle]:
    """Write one .vtt per track beside `video`, plus the manifest; return what was written."""
    found: list[tuple[str, str | None, str | None, str, bool, list[Cue]]] = []
    for c in embedded:
        found.append((f"e{c.track.index}", c.track.language, c.track.title, "embedded", c.track.default, c.cues))
    for n, sidecar in enumerate(sidecars):
        try:
            cues = read_sidecar(sidecar)
        except (av.FFmpegError, IndexError) as exc:
            log.warning("skipping subtitle file %s: %s", sidecar.name, exc)
            continue
        found.append((f"s{n}", language_from_name(sidecar.name), None, "sidecar", False, cues))

    subtitles = []
    for n, (sid, language, title, origin, default, cues) in enumerate(found, 1):
        if not cues:
            continue
        name = f"{video.stem}.{sid}.{language or 'und'}.vtt"
        write_atomic(video.with_name(name), to_webvtt(sorted(cues, key=lambda c: c.start)))
        label = title or (language.upper() if language else f"Track {n}")
        subtitles.append(Subtitle(sid, name, language, label, origin, default))
    if subtitles:
        write_manifest(video, subtitles)
    return subtitles
