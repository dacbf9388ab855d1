"""Revalidation, as a browser's cache and a resuming player do it: one scheme for images and files.

A poster and a finished library file are both fetched, then asked for again with the
If-None-Match forms clients send (the tag as given, a weak `W/` copy, a list, `*`): both
answer 304 alike, and 200 with the body to anything else. If-Range resumes a range only on
a strong match: a weak tag or a stale one gets the whole current file.
"""

from __future__ import annotations

from email.utils import formatdate

import pytest

from tests.fake_tmdb import FakeTmdb, tiny_jpeg
from tests.hubs import Api, wait_progress
from tests.swarm import until

pytestmark = pytest.mark.anyio


@pytest.fixture
async def served(api: Api, swarm, mp4_file, fake_tmdb: FakeTmdb) -> dict[str, bytes]:
    """URL -> body of a cached poster and a finished movie file of one item."""
    seed = swarm.seed({"Sintel.2010.mp4": mp4_file}, piece_size=16 * 1024)
    added = await api.post("/api/media", json={"magnetLink": seed.magnet, "posterUrl": fake_tmdb.url("/img/poster.jpg")})
    assert added.status_code == 201, added.text
    media_id = added.json()["id"]
    await wait_progress(api, media_id, lambda view: view["status"] == "ready", timeout=60)
    poster = f"/api/images/{media_id}/poster.jpg"
    await until((api.hub.settings.images_dir / media_id / "poster.jpg").exists, 10, "the cached poster")
    return {poster: tiny_jpeg(), f"/api/media/{media_id}/stream": mp4_file.read_bytes()}


@pytest.mark.parametrize("settings", [{"image_hosts": ("127.0.0.1",)}], indirect=True)
async def test_if_none_match_forms_answer_304_for_images_and_files_alike(api: Api, served: dict[str, bytes]) -> None:
    for url, body in served.items():
        first = await api.get(url)
        assert first.status_code == 200 and first.content == body
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")  # strong, so ranges may use it too
        for header in (etag, f"W/{etag}", f'"older", {etag}', f'W/"older",W/{etag}', "*"):
            again = await api.get(url, headers={"If-None-Match": header})
            assert (again.status_code, again.content) == (304, b""), (url, header)
            assert again.headers["etag"] == etag
            head = await api.request("HEAD", url, headers={"If-None-Match": header})
            assert head.status_code == 304, (url, header)
        for header in ('"older"', etag.strip('"'), f'"{etag}"', ""):  # another tag, unquoted, quoted twice, none
            fresh = await api.get(url, headers={"If-None-Match": header})
            assert (fresh.status_code, fresh.content) == (200, body), (url, header)


@pytest.mark.parametrize("settings", [{"image_hosts": ("127.0.0.1",)}], indirect=True)
async def test_if_range_resumes_only_on_a_strong_match(api: Api, served: dict[str, bytes]) -> None:
    url, body = [(u, b) for u, b in served.items() if u.endswith("/stream")][0]
    first = await api.get(url, headers={"Range": "bytes=0-99"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    for validator in (etag, modified):
        resumed = await api.get(url, headers={"Range": "bytes=100-199", "If-Range": validator})
        assert (resumed.status_code, resumed.content) == (206, body[100:200])
    stale_date = formatdate(0, usegmt=True)
    for validator in (f"W/{etag}", '"older"', stale_date):
        whole = await api.get(url, headers={"Range": "bytes=100-199", "If-Range": validator})
        assert (whole.status_code, whole.content) == (200, body), validator
