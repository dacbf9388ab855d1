"""Finalize: a finished download becomes a faststart MP4 (plus WebVTT subtitles) in the library."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import pytest

from mediahub.streaming.finalize import finalize, is_faststart, top_level_boxes
from mediahub.streaming.probe import Action, probe_file
from mediahub.streaming.subtitles import language_from_name, read_manifest
from tests.media import CUES, DURATION, FPS, SAMPLE_RATE, make_media, srt_text


def downloaded(path: Path, tmp_path: Path) -> Path:
    """A private copy in a downloads dir (finalize may consume it)."""
    target = tmp_path / "downloads" / path.name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, target)
    return target


def box_order(path: Path) -> list[bytes]:
    return [kind for kind, _, _ in top_level_boxes(path)]


def test_box_parser_knows_faststart_from_not(tmp_path: Path, mp4_file: Path) -> None:
    plain = make_media(tmp_path / "plain.mp4", seconds=1, fmt="mp4")  # no +faststart: moov last
    assert box_order(plain)[-1] == b"moov" and not is_faststart(plain)
    assert box_order(mp4_file)[:2] == [b"ftyp", b"moov"] and is_faststart(mp4_file)


@pytest.mark.parametrize(("fixture", "transcoded"), [("mkv_file", False), ("avi_file", True), ("ac3_mkv_file", True)])
def test_finalized_file_is_a_browser_safe_faststart_mp4(
    request, tmp_path: Path, fixture: str, transcoded: bool
) -> None:
    source = downloaded(request.getfixturevalue(fixture), tmp_path)
    result = finalize(source, tmp_path / "library" / "Movie (2024).mp4")
    assert result.path == tmp_path / "library" / "Movie (2024).mp4"
    assert result.remuxed and result.transcoded is transcoded
    order = box_order(result.path)
    assert order.index(b"moov") < order.index(b"mdat")
    plan = probe_file(str(result.path))
    assert plan.direct and plan.video.action is Action.COPY and plan.audio.action is Action.COPY  # type: ignore[union-attr]
    with av.open(str(result.path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == DURATION * FPS
    assert not source.exists()  # the original goes unless the user keeps originals
    assert [p.name for p in result.path.parent.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_every_audio_language_is_kept(tmp_path: Path) -> None:
    """The original goes after finalize, so its other languages must be in the library file."""
    film = make_media(tmp_path / "dubbed.mkv", dubs=(("ac3", "deu"), ("aac", "fra")))
    result = finalize(downloaded(film, tmp_path), tmp_path / "library" / "Dubbed.mp4")
    with av.open(str(result.path)) as c:
        tracks = [(s.codec_context.name, s.metadata.get("language")) for s in c.streams.audio]
        assert tracks == [("aac", "eng"), ("aac", "deu"), ("aac", "fra")]  # the default one first
        for index in range(3):
            assert sum(f.samples for f in c.decode(audio=index)) >= 0.95 * DURATION * SAMPLE_RATE
            c.seek(0)
    assert probe_file(str(result.path)).direct


def test_keep_original(tmp_path: Path, mkv_file: Path) -> None:
    source = downloaded(mkv_file, tmp_path)
    result = finalize(source, tmp_path / "library" / "Movie.mp4", keep_original=True)
    assert source.read_bytes() == mkv_file.read_bytes()
    assert is_faststart(result.path)


def test_faststart_mp4_is_placed_unchanged(tmp_path: Path, mp4_file: Path) -> None:
    source = downloaded(mp4_file, tmp_path)
    result = finalize(source, tmp_path / "library" / "Movie.mp4", keep_original=True)
    assert not result.remuxed
    assert result.path.read_bytes() == mp4_file.read_bytes()
    assert source.exists()
    moved = finalize(source, tmp_path / "library" / "Again.mp4")
    assert moved.path.read_bytes() == mp4_file.read_bytes() and not source.exists()


def test_mp4_with_index_at_the_end_is_remuxed_to_faststart(tmp_path: Path) -> None:
    source = make_media(tmp_path / "downloads" / "plain.mp4", seconds=2, fmt="mp4")
    result = finalize(source, tmp_path / "library" / "Plain.mp4")
    assert result.remuxed and not result.transcoded
    assert is_faststart(result.path)


def test_subtitles_become_webvtt(tmp_path: Path, mkv_subs_file: Path) -> None:
    source = downloaded(mkv_subs_file, tmp_path)
    french = tmp_path / "downloads" / "Movie.fr.srt"
    french.write_bytes(srt_text(((1.0, 2.0, 'Café <font color="red">rouge</font> & noir'),)).encode("cp1252"))
    english = tmp_path / "downloads" / "Movie.eng.ass"
    english.write_text(ASS, encoding="utf-8")
    broken = tmp_path / "downloads" / "Movie.de.srt"
    broken.write_bytes(b"\x00\x01 not subtitles")

    result = finalize(source, tmp_path / "library" / "Movie.mp4", sidecars=[french, english, broken])

    assert [(s.source, s.language) for s in result.subtitles] == [
        ("embedded", None),
        ("sidecar", "fr"),
        ("sidecar", "eng"),
    ]
    assert read_manifest(result.path) == result.subtitles
    embedded, fr, en = (result.path.with_name(s.file).read_text() for s in result.subtitles)
    assert embedded.startswith("WEBVTT\n\n")
    for start, end, text in CUES:
        assert f"{_stamp(start)} --> {_stamp(end)}\n{text}\n" in embedded
    assert "00:00:01.000 --> 00:00:02.000\nCafé rouge &amp; noir\n" in fr
    assert "00:00:01.000 --> 00:00:02.500\nHello\nworld, again\n" in en


def test_language_from_file_name() -> None:
    assert language_from_name("Movie.2010.en.srt") == "en"
    assert language_from_name("Movie.eng.forced.srt") == "eng"
    assert language_from_name("Movie.pt-br.srt") == "pt-br"
    assert language_from_name("Movie.srt") is None


def _stamp(t: float) -> str:
    return f"00:00:{int(t):02}.{round(t * 1000) % 1000:03}"


ASS = r"""[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\i1}Hello{\i0}\Nworld, again
"""
