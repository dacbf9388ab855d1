"""Byte-range serving of finished files through a real Litestar app: what a `<video>` sees."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, Request, route
from litestar.params import FromPath
from litestar.testing import TestClient

from mediahub.streaming.response import CHUNK_SIZE, media_type_for, ranged_response
from mediahub.streaming.source import FileSource
from tests.media import make_filler


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bigger than a few response chunks, so chunking and range ends are exercised."""
    return make_filler(tmp_path_factory.mktemp("big") / "big.mp4", 3 * CHUNK_SIZE + 12345)


@pytest.fixture
def client(mp4_file: Path, big_file: Path) -> Iterator[TestClient]:
    files = {"movie.mp4": mp4_file, "big.mp4": big_file}

    @route("/files/{name:str}", http_method=["GET", "HEAD"])
    async def serve(request: Request, name: FromPath[str]) -> object:
        source = await FileSource.open(files[name])
        return await ranged_response(
            source, request.headers, media_type=media_type_for(name), etag=source.etag, last_modified=source.mtime
        )

    with TestClient(Litestar([serve])) as test_client:
        yield test_client


@pytest.mark.parametrize("name", ["movie.mp4", "big.mp4"])
@pytest.mark.parametrize(
    ("header", "status", "sliced"),
    [
        (None, 200, slice(None)),
        ("bytes=0-1023", 206, slice(0, 1024)),
        ("bytes=0-0", 206, slice(0, 1)),
        ("bytes=1000-", 206, slice(1000, None)),
        ("bytes=-500", 206, slice(-500, None)),
        ("bytes=100-999999999999", 206, slice(100, None)),  # end clamped to the file
        ("bytes=0-5,10-20", 200, slice(None)),  # several ranges: whole body
        ("bytes=nonsense", 200, slice(None)),  # malformed: ignored
    ],
)
def test_range_matrix(client: TestClient, request, name: str, header: str | None, status: int, sliced: slice) -> None:
    data = (
        request.getfixturevalue("mp4_file") if name == "movie.mp4" else request.getfixturevalue("big_file")
    ).read_bytes()
    response = client.get(f"/files/{name}", headers={"Range": header} if header else {})
    assert response.status_code == status
    assert response.content == data[sliced]
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(data[sliced])
    if status == 206:
        start = range(len(data))[sliced].start
        assert response.headers["content-range"] == f"bytes {start}-{start + len(data[sliced]) - 1}/{len(data)}"
    else:
        assert "content-range" not in response.headers


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=20-10", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: TestClient, mp4_file: Path, header: str) -> None:
    response = client.get("/files/movie.mp4", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{mp4_file.stat().st_size}"
    assert "not satisfiable" in response.json()["message"]


def test_head_has_the_get_headers_and_no_body(client: TestClient, mp4_file: Path) -> None:
    get = client.get("/files/movie.mp4", headers={"Range": "bytes=10-"})
    head = client.head("/files/movie.mp4", headers={"Range": "bytes=10-"})
    assert head.status_code == 206 and head.content == b""
    for name in ("content-length", "content-range", "content-type", "accept-ranges", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


def test_validators_revalidate_and_guard_ranges(client: TestClient, mp4_file: Path) -> None:
    first = client.get("/files/movie.mp4", headers={"Range": "bytes=0-99"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/files/movie.mp4", headers={"If-None-Match": etag}).status_code == 304
    # If-Range with the current validator: the range is honoured ...
    for validator in (etag, modified):
        resumed = client.get("/files/movie.mp4", headers={"Range": "bytes=100-199", "If-Range": validator})
        assert resumed.status_code == 206 and resumed.content == mp4_file.read_bytes()[100:200]
    # ... with a stale one the whole current file comes back instead of mixing versions.
    stale = client.get("/files/movie.mp4", headers={"Range": "bytes=100-199", "If-Range": '"stale"'})
    assert stale.status_code == 200 and stale.content == mp4_file.read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.mp4", "video/mp4"),
        ("A.M4V", "video/mp4"),
        ("a.mov", "video/quicktime"),
        ("a.webm", "video/webm"),
        ("a.mkv", "video/x-matroska"),
        ("a.vtt", "text/vtt"),
        ("a.bin", "application/octet-stream"),
    ],
)
def test_content_type_by_container(name: str, expected: str) -> None:
    assert media_type_for(name) == expected


class _Stalled:
    """A downloading file whose pieces never come (the swarm has gone quiet)."""

    size = 10_000
    closed = False

    async def read(self, offset: int, n: int) -> bytes:
        await asyncio.Event().wait()
        return b""

    def close(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_first_bytes_timeout_lets_the_caller_answer_not_yet() -> None:
    source = _Stalled()
    with pytest.raises(TimeoutError):
        await ranged_response(source, {"range": "bytes=5000-"}, media_type="video/mp4", first_bytes_timeout=0.05)
    assert source.closed  # no piece deadlines left behind
