"""What an add request says, checked: the magnet, the fields, and what the name tells.

Everything a client sends to POST /api/media passes here before anything is stored: a bad
field or a magnet libtorrent would refuse is a 400 with a sentence, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediahub.errors import BadRequest
from mediahub.library.views import AddMedia
from mediahub.metadata.release import detect_type, parse_release
from mediahub.torrents.magnet import InvalidMagnet, Magnet, parse_magnet
from mediahub.torrents.paths import without_format_characters

MAX_TITLE = 500
MAX_TEXT = 20_000
MAX_URL = 2048
MAX_TMDB_ID = 2**31 - 1  # the INTEGER column's range on PostgreSQL (SQLite takes 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Intake:
    magnet: Magnet
    media_type: str  # given, else detected from the magnet's name (the files may correct it)
    title: str | None  # given, else from the release name
    year: int | None


def vet(request: AddMedia) -> Intake:
    _check_fields(request)
    try:
        magnet = parse_magnet(request.magnet_link)
    except InvalidMagnet as exc:
        raise BadRequest(str(exc)) from None
    release = parse_release(magnet.display_name) if magnet.display_name else None
    given_title = without_format_characters(request.title).strip() if request.title else None
    return Intake(
        magnet=magnet,
        media_type=request.type or detect_type(magnet.display_name, []) or "movie",
        title=given_title or (release.title if release else None),
        year=request.year if request.year is not None else (release.year if release else None),
    )


def _check_fields(request: AddMedia) -> None:
    if request.title is not None and not 0 < len(request.title.strip()) <= MAX_TITLE:
        raise BadRequest(f"'title' needs 1 to {MAX_TITLE} characters.")
    if request.year is not None and not 1870 <= request.year <= 2100:
        raise BadRequest("'year' must be between 1870 and 2100.")
    if request.tmdb_id is not None and not 0 < request.tmdb_id <= MAX_TMDB_ID:
        raise BadRequest(f"'tmdbId' must be a whole number from 1 to {MAX_TMDB_ID}.")
    if request.overview is not None and len(request.overview) > MAX_TEXT:
        raise BadRequest(f"'overview' has at most {MAX_TEXT} characters.")
    if request.certification is not None and len(request.certification) > 32:
        raise BadRequest("'certification' has at most 32 characters.")
    if request.genres is not None and (len(request.genres) > 50 or any(not 0 < len(g) <= 100 for g in request.genres)):
        raise BadRequest("'genres' is a list of at most 50 names of 1 to 100 characters.")
    for name, url in (("posterUrl", request.poster_url), ("backdropUrl", request.backdrop_url)):
        if url is not None and (len(url) > MAX_URL or not url.lower().startswith(("http://", "https://"))):
            raise BadRequest(f"'{name}' must be an http(s) URL of at most {MAX_URL} characters.")
