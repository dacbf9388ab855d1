"""Image fetching: good images land on disk; SSRF and oversized/non-image answers are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mediahub.metadata.images import ImageRejected, ImageStore, ImageUnavailable, image_type
from mediahub.settings import Settings
from tests.fake_tmdb import FakeTmdb, tiny_jpeg, tiny_png

pytestmark = pytest.mark.anyio
MEDIA_ID = "a1b2c3d4e5f60718"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def store(fake: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path, hosts: tuple[str, ...], **options) -> ImageStore:
    settings = Settings(data_dir=tmp_path, tmdb_image_base_url=fake.image_base_url, image_hosts=hosts)
    return ImageStore(settings, http, **options)


def cdn_store(fake: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path, hosts: tuple[str, ...] = ("*",)) -> ImageStore:
    """The TMDB image CDN is the real one; client URLs may come from `hosts` only."""
    settings = Settings(data_dir=tmp_path, image_hosts=hosts)
    return ImageStore(settings, http)


async def test_tmdb_poster_and_backdrop_are_stored(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ())
    poster = await images.fetch_tmdb(MEDIA_ID, "poster", "/inception-poster.jpg")
    backdrop = await images.fetch_tmdb(MEDIA_ID, "backdrop", "/inception-backdrop.jpg")
    assert poster == tmp_path / "images" / MEDIA_ID / "poster.jpg"
    assert poster.read_bytes() == tiny_jpeg() and backdrop.read_bytes() == tiny_jpeg()
    assert [r.path for r in fake_tmdb.requests_to("/t/p/")] == [
        "/t/p/w500/inception-poster.jpg", "/t/p/w1280/inception-backdrop.jpg"]
    assert sorted(p.name for p in poster.parent.iterdir()) == ["backdrop.jpg", "poster.jpg"]


async def test_client_url_from_a_listed_host_is_stored_as_served(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1",))
    path = await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/poster.png"))
    assert path.name == "poster.jpg" and path.read_bytes() == tiny_png()
    assert image_type(path.read_bytes()) == "image/png"
    # a redirect between allowed places is fine
    path = await images.fetch_url(MEDIA_ID, "backdrop", fake_tmdb.url("/redirect?to=/img/backdrop.jpg"))
    assert image_type(path.read_bytes()) == "image/jpeg"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/img/poster.jpg",  # loopback, not listed
        "http://localhost:{port}/img/poster.jpg",  # a name that resolves to loopback
        "http://[::ffff:127.0.0.1]:{port}/img/poster.jpg",  # v4-mapped v6 loopback
        "http://2130706433:{port}/img/poster.jpg",  # 127.0.0.1 as a decimal integer
        "http://10.1.2.3/poster.jpg",  # private
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://224.0.0.1/poster.jpg",  # multicast
        "file:///etc/passwd",
        "ftp://127.0.0.1/poster.jpg",
        "http://user:secret@127.0.0.1:{port}/img/poster.jpg",
    ],
)
async def test_ssrf_targets_are_refused(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path, url: str) -> None:
    images = cdn_store(fake_tmdb, http, tmp_path, hosts=("*",))  # even "any host" never means private ones
    with pytest.raises(ImageRejected):
        await images.fetch_url(MEDIA_ID, "poster", url.format(port=fake_tmdb.port))
    assert fake_tmdb.requests == []
    assert not images.exists(MEDIA_ID, "poster")


async def test_the_tmdb_image_host_is_trusted_for_tmdb_paths_only(fake_tmdb: FakeTmdb, http: httpx.AsyncClient,
                                                                   tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ())  # the fake CDN is on 127.0.0.1, which is not listed
    assert (await images.fetch_tmdb(MEDIA_ID, "poster", "/x.jpg")).read_bytes() == tiny_jpeg()
    with pytest.raises(ImageRejected, match="MEDIAHUB_IMAGE_HOSTS"):
        await images.fetch_url(MEDIA_ID, "backdrop", fake_tmdb.url("/t/p/w1280/x.jpg"))


async def test_unlisted_host_is_refused(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = cdn_store(fake_tmdb, http, tmp_path, hosts=("image.tmdb.org",))
    with pytest.raises(ImageRejected, match="MEDIAHUB_IMAGE_HOSTS"):
        await images.fetch_url(MEDIA_ID, "poster", "https://evil.example/poster.jpg")


@pytest.mark.parametrize(
    "target",
    ["http://localhost:{port}/img/poster.jpg", "http://10.0.0.1/poster.jpg", "file:///etc/passwd",
     "http://169.254.169.254/latest/meta-data/"],
)
async def test_redirects_to_internal_targets_are_refused(fake_tmdb: FakeTmdb, http: httpx.AsyncClient,
                                                         tmp_path: Path, target: str) -> None:
    # 127.0.0.1 is listed (the operator vouches for it); its redirect targets are not.
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1", "*"))
    url = fake_tmdb.url("/redirect?to=" + quote(target.format(port=fake_tmdb.port), safe=""))
    with pytest.raises(ImageRejected):
        await images.fetch_url(MEDIA_ID, "poster", url)
    assert [r.path for r in fake_tmdb.requests] == ["/redirect"]
    assert not images.exists(MEDIA_ID, "poster")


async def test_redirect_chains_are_limited(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1",))
    url = "/img/poster.jpg"
    for _ in range(4):
        url = "/redirect?to=" + quote(url, safe="")
    with pytest.raises(ImageRejected, match="redirects"):
        await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url(url))
    assert len(fake_tmdb.requests) == 4


@pytest.mark.parametrize("path", ["/img/big.jpg", "/img/big-chunked.jpg"])
async def test_a_50_mb_image_is_refused(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path, path: str) -> None:
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1",))
    await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/poster.jpg"))
    with pytest.raises(ImageRejected, match="larger than 10 MB"):
        await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url(path))
    # the good poster stored before is untouched, and no temp file is left behind
    assert images.path(MEDIA_ID, "poster").read_bytes() == tiny_jpeg()
    assert [p.name for p in images.path(MEDIA_ID, "poster").parent.iterdir()] == ["poster.jpg"]


async def test_non_images_and_errors(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1",))
    with pytest.raises(ImageRejected, match="JPEG, PNG or WebP"):
        await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/not-image.jpg"))
    with pytest.raises(ImageRejected, match="404"):
        await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/missing.gif"))
    fake_tmdb.fail("/img/", 503)
    with pytest.raises(ImageUnavailable, match="503"):
        await images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/poster.jpg"))
    with pytest.raises(ImageRejected):
        await images.fetch_tmdb(MEDIA_ID, "poster", "/../../etc/passwd")
    with pytest.raises(ValueError):
        images.path("../escape", "poster")
    assert not images.exists(MEDIA_ID, "poster")


async def test_slow_image_hits_the_time_cap(fake_tmdb: FakeTmdb, http: httpx.AsyncClient, tmp_path: Path) -> None:
    images = store(fake_tmdb, http, tmp_path, ("127.0.0.1",), time_limit=0.5)
    host = fake_tmdb.hold("/img/")  # never answers: only the store's time cap ends the fetch
    with pytest.raises(ImageUnavailable, match="longer than 0.5s"):
        await asyncio.wait_for(images.fetch_url(MEDIA_ID, "poster", fake_tmdb.url("/img/poster.jpg")), 60)
    host.set()
