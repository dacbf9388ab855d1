"""GET|HEAD /api/media/{id}/stream and the subtitle routes, end to end on a loopback swarm.

Real parts only: a libtorrent seeder with generated media, the real app on uvicorn, real
PyAV on the bytes that come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
import pytest

from mediahub.library.positions import MAX_SECONDS
from mediahub.streaming.finalize import is_faststart
from tests.hubs import Api, make_settings, wait_progress
from tests.media import CUES, DURATION, FPS, make_big_mp4, make_mkv, srt_text
from tests.swarm import Swarm, until

pytestmark = pytest.mark.anyio

STREAM_WAIT = 2.0


@pytest.fixture
def settings(tmp_path: Path, database_url: str):
    return make_settings(tmp_path / "data", database_url, stream_wait=STREAM_WAIT, max_transcodes=1)


async def add(api: Api, magnet: str, **fields: object) -> str:
    response = await api.post("/api/media", json={"magnetLink": magnet, **fields})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def status(api: Api, media_id: str) -> str:
    return (await api.get(f"/api/media/{media_id}/progress")).json()["status"]


async def wait_for_status(api: Api, media_id: str, wanted: str, timeout: float = 60, allow_error: bool = False) -> None:
    def settled(view: dict) -> bool:
        assert view["status"] != "error" or allow_error, view
        return view["status"] == wanted

    await wait_progress(api, media_id, settled, timeout)


def stream_url(media_id: str, **query: object) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/media/{media_id}/stream" + (f"?{params}" if params else "")


async def get_stream(api: Api, url: str, timeout: float = 60, method: str = "GET", **kwargs: object) -> httpx.Response:
    """GET (or HEAD), retrying while the server says 202 (what a player's retry loop does)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await api.request(method, url, **kwargs)
        if response.status_code != 202:
            return response
        assert time.monotonic() < deadline, "still 202"
        await asyncio.sleep(float(response.headers["retry-after"]) / 10)


@contextlib.asynccontextmanager
async def playing(api: Api, url: str, timeout: float = 60) -> AsyncIterator[httpx.Response]:
    """A stream that has started (after any 202s), held open like a player does."""
    deadline = time.monotonic() + timeout
    while True:
        async with api.http.stream("GET", url, headers=api.headers) as response:
            if response.status_code == 200:
                chunks = response.aiter_raw()  # keep a reference: dropping it closes the stream
                await chunks.__anext__()
                yield response
                return
            assert response.status_code == 202 and time.monotonic() < deadline, response.status_code
        await asyncio.sleep(0.2)


def decoded_frames(data: bytes) -> tuple[str, str, int]:
    with av.open(io.BytesIO(data)) as c:
        video, audio = c.streams.video[0].codec.canonical_name, c.streams.audio[0].codec.canonical_name
        return video, audio, sum(1 for _ in c.decode(video=0))


async def test_finished_mp4_is_served_with_ranges(api: Api, swarm: Swarm, mp4_file: Path) -> None:
    seed = swarm.seed({"Range Test (2020).mp4": mp4_file})
    media_id = await add(api, seed.magnet, type="movie")
    await wait_for_status(api, media_id, "ready")
    data = mp4_file.read_bytes()
    url = stream_url(media_id)

    whole = await api.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["etag"] and whole.headers["last-modified"]
    for header, sliced in [
        ("bytes=0-99", slice(0, 100)),
        ("bytes=1000-", slice(1000, None)),
        ("bytes=-300", slice(-300, None)),
    ]:
        part = await api.get(url, headers={"Range": header})
        assert part.status_code == 206 and part.content == data[sliced]
        assert part.headers["content-range"].endswith(f"/{len(data)}")
    past = await api.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"
    head = await api.request("HEAD", url, headers={"Range": "bytes=10-19"})
    assert head.status_code == 206 and head.headers["content-length"] == "10" and head.content == b""
    # A <video> cannot send headers: ?token= works for the stream
    anonymous = httpx.AsyncClient(base_url=str(api.http.base_url))
    async with anonymous:
        assert (await anonymous.get(url, headers={"Range": "bytes=0-9"})).status_code == 401
        tokened = await anonymous.get(url + f"?token={await api.url_token()}", headers={"Range": "bytes=0-9"})
        assert tokened.status_code == 206 and tokened.content == data[:10]


async def test_a_range_mid_download_arrives_long_before_the_whole_file(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_big_mp4(tmp_path / "big.mp4", 6 * 1024 * 1024)
    data = film.read_bytes()
    rate = 512 * 1024  # the whole file would take 12+ s
    seed = swarm.seed({"Slow Film (2021).mp4": film}, piece_size=64 * 1024, upload_limit=rate)
    media_id = await add(api, seed.magnet, type="movie")
    middle = len(data) // 2
    part = await get_stream(api, stream_url(media_id), headers={"Range": f"bytes={middle}-{middle + 65535}"})
    assert part.status_code == 206 and part.content == data[middle : middle + 65536]
    # In order, the middle arrives at 50 %: its pieces jumped the queue.
    view = (await api.get(f"/api/media/{media_id}/progress")).json()
    assert view["status"] == "downloading" and view["progress"] < 40, view


async def test_downloading_mkv_is_transmuxed_and_plays_fully(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_mkv(tmp_path / "film.mkv", seconds=DURATION)
    seed = swarm.seed({"Live Film (2022).mkv": film}, piece_size=16 * 1024, upload_limit=film.stat().st_size // 3)
    media_id = await add(api, seed.magnet, type="movie")
    response = await get_stream(api, stream_url(media_id))
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4" and response.headers["accept-ranges"] == "none"
    assert "content-length" not in response.headers
    assert decoded_frames(response.content) == ("h264", "aac", DURATION * FPS)


async def test_no_bytes_yet_is_202_with_retry_after(api: Api, swarm: Swarm, mkv_file: Path) -> None:
    seed = swarm.seed({"Quiet Film (2023).mkv": mkv_file})
    seed.stop()  # nobody to download from: no metadata, no bytes
    media_id = await add(api, seed.magnet, type="movie")
    for method in ("GET", "HEAD"):
        response = await asyncio.wait_for(api.request(method, stream_url(media_id)), 30)  # never hangs
        assert response.status_code == 202
        assert int(response.headers["retry-after"]) > 0
        if method == "GET":
            assert response.json()["progress"] == 0 and response.json()["message"]


async def test_transcode_slots_busy_then_freed_by_a_disconnect(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    film = make_mkv(tmp_path / "long.mkv", seconds=20)
    seed = swarm.seed({"Busy Film (2019).mkv": film}, piece_size=16 * 1024, upload_limit=film.stat().st_size // 30)
    media_id = await add(api, seed.magnet, type="movie")
    url = stream_url(media_id)
    async with playing(api, url):
        busy = await api.get(url)
        assert busy.status_code == 503 and "slots are in use" in busy.json()["message"]
        assert busy.headers["retry-after"]
    # the first viewer went away: its job ends and the slot is free again at once
    await until(lambda: api.hub.streaming.limiter.active == 0, 2, "the transcode slot to be freed")
    async with api.http.stream("GET", url, headers=api.headers) as again:
        assert again.status_code == 200


async def test_finished_mkv_becomes_a_faststart_mp4_with_subtitles(api: Api, swarm: Swarm, tmp_path: Path) -> None:
    from tests.media import make_mkv_with_subtitles

    film = make_mkv_with_subtitles(tmp_path / "subbed.mkv")
    seed = swarm.seed(
        {
            "Subbed Film (2018)/Subbed Film (2018).mkv": film,
            "Subbed Film (2018)/Subbed Film (2018).fr.srt": srt_text(((1.0, 2.0, "Bonjour"),)).encode(),
        }
    )
    media_id = await add(api, seed.magnet, type="movie")
    await wait_for_status(api, media_id, "ready")
    detail = (await api.get(f"/api/media/{media_id}")).json()
    assert detail["filePath"].endswith(".mp4")
    body = (await api.get(stream_url(media_id))).content
    library_file = tmp_path / "finalized.mp4"
    library_file.write_bytes(body)
    assert is_faststart(library_file)
    assert decoded_frames(body) == ("h264", "aac", DURATION * FPS)

    tracks = (await api.get(f"/api/media/{media_id}/subtitles")).json()
    assert {(t["source"], t["language"]) for t in tracks} == {("embedded", None), ("sidecar", "fr")}
    embedded = next(t for t in tracks if t["source"] == "embedded")
    vtt = await api.get(embedded["src"])
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert all(text in vtt.text for _, _, text in CUES)
    assert (await api.get(f"/api/media/{media_id}/subtitles/nope")).status_code == 404


async def test_missing_library_file_is_404(api: Api, swarm: Swarm, mp4_file: Path, settings) -> None:
    seed = swarm.seed({"Gone Film (2017).mp4": mp4_file})
    media_id = await add(api, seed.magnet, type="movie")
    await wait_for_status(api, media_id, "ready")
    virtual = (await api.get(f"/api/media/{media_id}")).json()["filePath"]
    (settings.data_dir / virtual.lstrip("/")).unlink()
    response = await api.get(stream_url(media_id))
    assert response.status_code == 404 and "missing" in response.json()["message"]


async def test_ids_are_checked(api: Api, swarm: Swarm, mp4_file: Path) -> None:
    seed = swarm.seed({"Mine (2016).mp4": mp4_file})
    media_id = await add(api, seed.magnet, type="movie")
    _, other = await api.new_profile("Other")
    assert (await other.get(stream_url(media_id))).status_code == 404  # never reveal another's item
    assert (await api.get(stream_url("nope"))).status_code == 404
    assert (await api.get(stream_url(media_id, episodeId="x"))).status_code == 400
    assert (await api.get(stream_url(media_id, start="-1"))).status_code == 400


async def test_episodes_stream_by_episode_id(api: Api, swarm: Swarm, mkv_file: Path, mp4_file: Path) -> None:
    seed = swarm.seed(
        {
            "Stream.Show.S01.720p/Stream.Show.S01E01.720p.mkv": mkv_file,
            "Stream.Show.S01.720p/Stream.Show.S01E02.720p.mp4": mp4_file,
        }
    )
    media_id = await add(api, seed.magnet, type="tv")
    await wait_for_status(api, media_id, "ready")
    seasons = (await api.get(f"/api/media/{media_id}/seasons")).json()
    episodes = {e["episodeNumber"]: e["id"] for e in seasons[0]["episodes"]}
    assert (await api.get(stream_url(media_id))).status_code == 400  # which episode?
    second = await api.get(stream_url(media_id, episodeId=episodes[2]))
    assert second.status_code == 200 and second.content == mp4_file.read_bytes()  # faststart MP4: as it is
    first = await api.get(stream_url(media_id, episodeId=episodes[1]))
    assert decoded_frames(first.content) == ("h264", "aac", DURATION * FPS)  # the MKV, now an MP4


async def test_start_parameter_over_http(api: Api, swarm: Swarm, mkv_file: Path) -> None:
    seed = swarm.seed({"Start Film (2015).mkv": mkv_file}, upload_limit=mkv_file.stat().st_size // 4)
    media_id = await add(api, seed.magnet, type="movie")
    response = await get_stream(api, stream_url(media_id, start=2.5))
    video, audio, frames = decoded_frames(response.content)
    landed = DURATION - frames / FPS  # the keyframe at or before 2.5 s: 2.0 (GOP of 1 s)
    assert 1.5 <= landed <= 2.5


async def test_failed_download_is_503_with_its_error(api: Api, swarm: Swarm) -> None:
    seed = swarm.seed({"Not A Film (2014)/readme.txt": b"no video in here" * 100})
    media_id = await add(api, seed.magnet, type="movie")
    await wait_for_status(api, media_id, "error", allow_error=True)
    response = await api.get(stream_url(media_id))
    assert response.status_code == 503
    assert response.json()["message"].startswith("The download failed:")


async def test_absurd_start_times_are_400_on_a_transmuxed_stream(api: Api, swarm: Swarm, mkv_file: Path) -> None:
    """`start=1e308` used to overflow PyAV's seek (a 500). Past the end, within the bound, is
    no error either: the stream plays from where FFmpeg's seek lands."""
    seed = swarm.seed({"Far Film (2017).mkv": mkv_file})
    media_id = await add(api, seed.magnet, type="movie")
    assert (await get_stream(api, stream_url(media_id))).status_code == 200  # transmuxed: an MKV
    for start in ("1e308", "inf", "nan", str(MAX_SECONDS + 1)):
        response = await api.get(stream_url(media_id, start=start))
        assert response.status_code == 400, (start, response.text)
        assert "'start'" in response.json()["message"]
    past_the_end = await get_stream(api, stream_url(media_id, start=MAX_SECONDS))
    assert past_the_end.status_code == 200, past_the_end.text
    assert decoded_frames(past_the_end.content)[2] > 0
