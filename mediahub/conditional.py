"""HTTP validators and conditional requests (RFC 9110 §8.8, §13), for every file we serve.

Library videos, subtitles and cached posters are replaced whole (`mediahub.files`), never
edited in place, so size plus modification time in nanoseconds is a strong validator: two
versions of a file never share both. One ETag scheme and one set of comparisons serve the
stream, subtitle and image routes alike.
"""

from __future__ import annotations

import os
import re
from email.utils import parsedate_to_datetime

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc may hold commas, so a list is not split on them.
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


def file_etag(stat: os.stat_result) -> str:
    """The strong ETag of a file as it is now on disk."""
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def not_modified(etag: str, if_none_match: str | None) -> bool:
    """Whether If-None-Match says the client's copy is current, so a GET/HEAD answers 304.

    Weak comparison (§13.1.2): `W/"x"` matches `"x"`, since a cached copy is as good either
    way. The header may list several tags or be `*`.
    """
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(match[2] == ours for match in _ENTITY_TAG.finditer(if_none_match))


def if_range_holds(if_range: str, etag: str | None, last_modified: float | None) -> bool:
    """Whether a Range may be honoured under If-Range: else the whole current body is sent.

    Strong comparison only (§13.1.5): the client would splice the range into bytes it holds,
    so a weak tag never matches; a date must equal our Last-Modified to the second.
    """
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return etag is not None and not etag.startswith("W/") and value == etag
    if last_modified is None:
        return False
    try:
        return int(parsedate_to_datetime(value).timestamp()) == int(last_modified)
    except (TypeError, ValueError):
        return False


def _opaque(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')
