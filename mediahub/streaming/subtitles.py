"""Text subtitles to WebVTT, the one format `<track>` takes in every browser.

Embedded tracks (SubRip, ASS/SSA, WebVTT, mov_text) and sidecar `.srt/.ass/.ssa/.vtt`
files are read with PyAV's demuxers, so timing comes from FFmpeg and we only translate
each cue's text. Finalize writes the `.vtt` files next to the library video together with
a small JSON manifest the subtitle routes list.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import msgspec

from mediahub.files import write_atomic

SIDECAR_SUFFIXES = frozenset({".srt", ".ass", ".ssa", ".vtt"})
DEFAULT_CUE_SECONDS = 4.0
_LANG_TOKEN = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2})?$")
_ASS_OVERRIDE = re.compile(r"\{[^}]*\}")
_KEEP_TAG = re.compile(r"</?[ibu]>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Subtitle:
    """One WebVTT file in the library; `id` is stable and URL-safe."""

    id: str
    file: str  # file name, next to the manifest
    language: str | None
    label: str
    source: str  # "embedded" | "sidecar"
    default: bool


def cue_from_packet(packet: av.Packet, codec: str) -> Cue | None:
    """Translate one subtitle packet; None for empty or untimed ones."""
    if packet.pts is None or not packet.size:
        return None
    start = float(packet.pts * packet.time_base)
    length = float(packet.duration * packet.time_base) if packet.duration else DEFAULT_CUE_SECONDS
    text = cue_text(bytes(packet), codec)
    return Cue(start, start + length, text) if text else None


def cue_text(data: bytes, codec: str) -> str:
    """A packet's payload as WebVTT cue text (only <i>, <b>, <u> survive as markup)."""
    if codec == "mov_text":  # 16-bit length, text, then style boxes
        data = data[2 : 2 + int.from_bytes(data[:2], "big")]
    text = _decode(data)
    if codec in {"ass", "ssa"}:
        text = text.split(",", 8)[-1]  # ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text
        text = _ASS_OVERRIDE.sub("", text).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    return _vtt_markup(text.replace("\r\n", "\n").strip())


def _decode(data: bytes) -> str:
    """UTF-8, else Windows-1252 (what most old .srt files are written in)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _vtt_markup(text: str) -> str:
    """Escape everything except <i>/<b>/<u>; drop other tags (<font>, ...)."""
    pieces: list[str] = []
    pos = 0
    for tag in _ANY_TAG.finditer(text):
        pieces.append(_escape(text[pos : tag.start()]))
        if _KEEP_TAG.fullmatch(tag.group()):
            pieces.append(tag.group().lower())
        pos = tag.end()
    pieces.append(_escape(text[pos:]))
    # A blank line would end the cue early in WebVTT.
    return "\n".join(line for line in "".join(pieces).split("\n") if line.strip())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(cues: list[Cue]) -> str:
    body = "".join(f"{_stamp(c.start)} --> {_stamp(max(c.end, c.start))}\n{c.text}\n\n" for c in cues)
    return "WEBVTT\n\n" + body


def _stamp(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3600000:02}:{ms // 60000 % 60:02}:{ms // 1000 % 60:02}.{ms % 1000:03}"


def read_sidecar(path: Path) -> list[Cue]:
    """Blocking: parse an .srt/.ass/.ssa/.vtt file into cues with PyAV's demuxers."""
    with av.open(str(path)) as container:
        stream = container.streams.subtitles[0]
        codec = stream.codec.canonical_name
        cues = [cue_from_packet(p, codec) for p in container.demux(stream)]
    return sorted((c for c in cues if c is not None), key=lambda c: c.start)


def language_from_name(name: str) -> str | None:
    """`Movie.en.srt`, `Movie.eng.forced.srt` -> "en"/"eng"; None if no such tag."""
    for token in reversed(Path(name).stem.lower().split(".")[1:]):
        if _LANG_TOKEN.fullmatch(token):
            return token
    return None


def manifest_path(video: Path) -> Path:
    return video.with_name(video.stem + ".subtitles.json")


def write_manifest(video: Path, subtitles: list[Subtitle]) -> None:
    write_atomic(manifest_path(video), json.dumps([asdict(s) for s in subtitles], indent=1))


def read_manifest(video: Path) -> list[Subtitle]:
    """The subtitles finalize wrote for `video` ([] when there are none)."""
    try:
        raw = manifest_path(video).read_bytes()
    except FileNotFoundError:
        return []
    return msgspec.json.decode(raw, type=list[Subtitle])
