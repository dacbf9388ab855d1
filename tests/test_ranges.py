"""Range header resolution: every shape a browser or curl sends, plus hostile junk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediahub.streaming.ranges import ByteRange, RangeNotSatisfiable, parse_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=500-", ByteRange(500, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),  # suffix longer than the file: all of it
        ("bytes=900-5000", ByteRange(900, 999)),  # end clamped
        ("bytes=999-999", ByteRange(999, 999)),
        ("BYTES = 1 - 2", ByteRange(1, 2)),
        ("bytes=0-1,5-6", None),  # several ranges: whole body
        ("bytes=0-1, -1", None),
        ("items=0-1", None),  # unknown unit: ignored
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=1-2-3", None),
        ("bytes=0x10-20", None),
        ("bytes=\u0663-", None),  # only ASCII digits count
        ("bytes 0-1", None),
        ("bytes=" + "9" * 40 + "-", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-1001", "bytes=5000-6000", "bytes=10-9", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as info:
        parse_range(header, SIZE)
    assert info.value.content_range == "bytes */1000"


def test_empty_file() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)
    assert parse_range("bytes=-10", 0) is None


@given(size=st.integers(0, 10**12), a=st.integers(0, 10**13), b=st.integers(0, 10**13))
def test_closed_range_matches_python_slicing(size: int, a: int, b: int) -> None:
    try:
        r = parse_range(f"bytes={a}-{b}", size)
    except RangeNotSatisfiable as exc:
        assert b < a or a >= size
        assert exc.size == size
        return
    assert r is not None
    assert (r.start, r.end + 1) == (a, min(b + 1, size))
    assert r.content_range(size) == f"bytes {a}-{r.end}/{size}"


@given(data=st.binary(max_size=300), a=st.integers(0, 400))
def test_open_range_is_the_tail(data: bytes, a: int) -> None:
    try:
        r = parse_range(f"bytes={a}-", len(data))
    except RangeNotSatisfiable:
        assert a >= len(data)
        return
    assert r is not None and data[r.start : r.end + 1] == data[a:]


@given(data=st.binary(max_size=300), n=st.integers(1, 400))
def test_suffix_range_is_the_last_n_bytes(data: bytes, n: int) -> None:
    r = parse_range(f"bytes=-{n}", len(data))
    got = b"" if r is None else data[r.start : r.end + 1]
    assert got == data[-n:]


@given(header=st.text(max_size=60), size=st.integers(0, 10**9))
def test_any_header_yields_a_valid_answer(header: str, size: int) -> None:
    try:
        r = parse_range(header, size)
    except RangeNotSatisfiable:
        return
    assert r is None or 0 <= r.start <= r.end < size
