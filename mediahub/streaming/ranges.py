"""HTTP `Range` header parsing (RFC 9110 §14) for a single byte range.

Browsers seek in `<video>` with one range at a time, so that is what we serve. Several
ranges are answered with the whole body (allowed by §14.2), and a header we cannot parse
is ignored (also §14.2) rather than failing playback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"([0-9]*)[ \t]*-[ \t]*([0-9]*)")
_MAX_DIGITS = 20  # beyond any real file size; keeps hostile headers cheap to reject


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range `start..end` already clamped to the representation."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    """No byte of the requested range exists: answer 416 with `Content-Range: bytes */size`."""

    def __init__(self, size: int) -> None:
        super().__init__(f"requested range not satisfiable for {size} bytes")
        self.size = size

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Resolve a `Range` header against a representation of `size` bytes.

    Returns None for "send the whole body" (no header, unknown unit, malformed, or several
    ranges, or a suffix range of an empty file), a clamped `ByteRange` for one satisfiable range, and raises
    `RangeNotSatisfiable` when the one range starts at/after the end, is reversed
    (`b < a`), or is an empty suffix (`-0`).
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) != 1:
        return None
    match = _SPEC.fullmatch(parts[0])
    if not match:
        return None
    first, last = match.groups()
    if not first and not last or len(first) > _MAX_DIGITS or len(last) > _MAX_DIGITS:
        return None
    if not first:  # suffix range: the last n bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable(size)
        if size == 0:  # satisfiable per §14.1.1, but there is no byte to point at
            return None
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if end < start or start >= size:
        raise RangeNotSatisfiable(size)
    return ByteRange(start, min(end, size - 1))
