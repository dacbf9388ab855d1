"""The generated media are what other tests rely on: right codecs, GOP and duration."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.media import CUES, DURATION, duration_of


@pytest.mark.parametrize(
    ("fixture", "video", "audio"),
    [
        ("mp4_file", "h264", "aac"),
        ("mkv_file", "h264", "aac"),
        ("mkv_subs_file", "h264", "aac"),
        ("avi_file", "mpeg4", "mp3"),
        ("ac3_mkv_file", "h264", "ac3"),
    ],
)
def test_generated_media_have_expected_codecs_and_gop(request, fixture: str, video: str, audio: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec.canonical_name == video
        assert c.streams.audio[0].codec.canonical_name == audio
        keyframes = [p.pts * p.time_base for p in c.demux(video=0) if p.size and p.is_keyframe]
    assert abs(duration_of(path) - DURATION) < 0.2
    assert len(keyframes) == pytest.approx(DURATION, abs=1)  # one per second: seeks are testable


def test_subtitle_track_carries_the_cues(mkv_subs_file: Path) -> None:
    with av.open(str(mkv_subs_file)) as c:
        texts = [bytes(p).decode() for p in c.demux(subtitles=0) if p.size]
    assert texts == [text for _, _, text in CUES]


def test_mp4_is_faststart(mp4_file: Path) -> None:
    data = mp4_file.read_bytes()
    assert data[4:8] == b"ftyp"
    assert data.index(b"moov") < data.index(b"mdat")  # a browser can start before the end arrives
