"""Hostile input on the streaming side, end to end on a loopback swarm: query parameters that
look like FFmpeg options, container files that point FFmpeg at files outside the data dir
(HLS playlists, concat scripts), and subtitle ids that try to walk out of the library."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from tests.hubs import Api, wait_progress
from tests.media import make_mkv, make_mp4
from tests.raw_http import raw_request
from tests.swarm import Swarm

pytestmark = pytest.mark.anyio


async def _add(api: Api, link: str) -> str:
    added = await api.post("/api/media", json={"magnetLink": link, "type": "movie"})
    assert added.status_code == 201, added.text
    return added.json()["id"]


async def _settled(api: Api, media_id: str, timeout: float = 60) -> dict:
    """Wait for a terminal status (ready or error) and return the progress."""
    return await wait_progress(api, media_id, lambda view: view["status"] in {"ready", "error"}, timeout)


def _frames(data: bytes) -> int:
    try:
        with av.open(io.BytesIO(data)) as container:
            return sum(1 for _ in container.decode(video=0))
    except (av.FFmpegError, IndexError):
        return 0


INJECTIONS = [
    "0 -i /etc/passwd", "1;cat /etc/passwd", "-1", "nan", "NaN", "inf", "-inf", "1e999", "0x10", "1_0",
    "", " ", "${IFS}", "concat:/etc/passwd", "file:/etc/passwd", "10 -f lavfi", "1,2",
]
IGNORED = {"f": "lavfi", "format": "rawvideo", "vf": "movie=/etc/passwd", "c:v": "copy", "ss": "5", "i": "/etc/passwd",
           "codec": "rawvideo", "protocol_whitelist": "file,http", "map": "0:s"}


async def test_stream_query_parameters_never_become_ffmpeg_options(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_mkv(tmp_path / "film.mkv")
    media_id = await _add(api, swarm.seed({"Injected (2020).mkv": film}, piece_size=16 * 1024).magnet)
    assert (await _settled(api, media_id))["status"] == "ready"
    url = f"/api/media/{media_id}/stream"
    for value in INJECTIONS:
        response = await api.get(url, params={"start": value})
        assert response.status_code == 400, (value, response.status_code)
        assert "start" in response.json()["message"]
    # Unknown parameters are ignored: the answer is the same browser-safe MP4 as without them.
    plain = await api.get(url)
    with_junk = await api.get(url, params=IGNORED)
    assert with_junk.status_code == plain.status_code == 200
    assert with_junk.content == plain.content and with_junk.headers["content-type"] == "video/mp4"
    assert b"root:" not in with_junk.content


async def test_start_far_past_the_end_is_not_a_server_error(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    """A transmuxed stream asked to start after its end answers, without a 5xx."""
    film = make_mkv(tmp_path / "slow.mkv", seconds=6)
    seed = swarm.seed({"Far Start (2020).mkv": film}, piece_size=16 * 1024, upload_limit=film.stat().st_size // 20)
    media_id = await _add(api, seed.magnet)
    for start in ("1e12", "99999", "3.5"):
        async with api.http.stream("GET", f"/api/media/{media_id}/stream", params={"start": start}, headers=api.headers) as response:
            assert response.status_code < 500, (start, response.status_code)


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nfile://{secret}\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile {secret}\n",
        "ffconcat version 1.0\nfile ../../../../../../../../../..{secret}\n",
    ],
    ids=["hls-url", "hls-path", "concat-absolute", "concat-dotdot"],
)
async def test_a_container_cannot_make_ffmpeg_read_outside_the_data_dir(
    api: Api, swarm: Swarm, tmp_path: Path, playlist: str
) -> None:
    """A torrent's "video" that is really a playlist of a file elsewhere on the host never plays it."""
    secret = make_mp4(tmp_path / "outside" / "secret.mp4", seconds=1)
    text = playlist.format(secret=secret).encode()
    seed = swarm.seed({"Playlist Trick (2020)/Playlist Trick (2020).mkv": text,
                       "Playlist Trick (2020)/Playlist Trick (2020).en.srt": text})
    media_id = await _add(api, seed.magnet)
    progress = await _settled(api, media_id)
    response = await api.get(f"/api/media/{media_id}/stream")
    assert _frames(response.content) == 0, (progress, response.status_code)
    if progress["status"] == "error":
        assert progress["error"] and str(tmp_path) not in progress["error"]  # no host path in a message
        assert response.status_code == 503 and response.json()["message"]
    for track in (await api.get(f"/api/media/{media_id}/subtitles")).json():
        assert "WEBVTT" not in (await api.get(track["src"])).text or secret.name not in (await api.get(track["src"])).text


async def test_subtitle_ids_cannot_walk_out_of_the_library(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_mkv(tmp_path / "subs.mkv")
    seed = swarm.seed({"Walk (2020)/Walk (2020).mkv": film,
                       "Walk (2020)/Walk (2020).en.srt": b"1\n00:00:00,500 --> 00:00:01,500\nHello\n"})
    media_id = await _add(api, seed.magnet)
    assert (await _settled(api, media_id))["status"] == "ready"
    tracks = (await api.get(f"/api/media/{media_id}/subtitles")).json()
    assert tracks and all(t["src"].startswith(f"/api/media/{media_id}/subtitles/") for t in tracks)
    for evil in ["..", "../../mediahub.db", "%2e%2e%2fmediahub.db", "..%5c..%5cmediahub.db", "/etc/passwd",
                 "%2Fetc%2Fpasswd", "owner.token", "../../../owner.token", "x%00.vtt"]:
        token = api.headers["Authorization"].removeprefix("Bearer ")
        status, body = await raw_request(api.http.base_url.port, "GET", f"/api/media/{media_id}/subtitles/{evil}", token)
        assert status in {400, 404}, (evil, status)
        assert b"SQLite" not in body and b"mh_" not in body
