"""A fake TMDB on 127.0.0.1: the one fake the test suite allows (TMDB is outside our walls).

It answers TMDB v3's real JSON shapes for configuration, search, movie, tv and season
details, and serves tiny real JPEG/PNG files for the image CDN. Tests can program
failures (`fail`: 500/429 with Retry-After; `slow`: hold a response) and read the
request log. Extra endpoints for the image-fetch security tests: a 50 MB "image", a
non-image, and `/redirect?to=` (an open redirect, e.g. to a loopback URL).

    fake = FakeTmdb().start()
    Settings(tmdb_api_key=fake.api_key, tmdb_base_url=fake.base_url,
             tmdb_image_base_url=fake.image_base_url, image_hosts=("127.0.0.1",))
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import av
import pytest

API_KEY = "0123456789abcdef0123456789abcdef"  # v3 shape: 32 hex characters
# v4 read-access tokens are JWTs; the fake only checks the exact string.
READ_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJmYWtlLXRtZGIiLCJzY29wZXMiOlsiYXBpX3JlYWQiXX0.c2lnbmF0dXJl"
BIG_IMAGE_BYTES = 50 * 1024 * 1024


@cache
def tiny_jpeg() -> bytes:
    """A real 16x16 grey JPEG, encoded by PyAV's mjpeg encoder."""
    return _encode_still("mjpeg", "yuvj420p", 16)


@cache
def tiny_png() -> bytes:
    return _encode_still("png", "rgb24", 8)


def _encode_still(codec: str, pix_fmt: str, size: int) -> bytes:
    ctx = av.CodecContext.create(codec, "w")
    ctx.width = ctx.height = size
    ctx.pix_fmt = pix_fmt
    ctx.time_base = Fraction(1, 25)
    frame = av.VideoFrame(size, size, pix_fmt)
    for plane in frame.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    packets = ctx.encode(frame) + ctx.encode(None)
    return bytes(packets[0])


# --- catalogue, in TMDB's own shapes -------------------------------------------------------

def _movie(id_: int, title: str, date: str, runtime: int, genres: list[str], cert: str, imdb: str,
           overview: str) -> dict:
    slug = re.sub(r"\W+", "", title.lower())
    return {
        "adult": False, "backdrop_path": f"/{slug}-backdrop.jpg", "belongs_to_collection": None,
        "budget": 0, "genres": [{"id": 1000 + i, "name": g} for i, g in enumerate(genres)],
        "homepage": "", "id": id_, "imdb_id": imdb, "original_language": "en",
        "original_title": title, "overview": overview, "popularity": 80.5,
        "poster_path": f"/{slug}-poster.jpg", "production_companies": [], "production_countries": [],
        "release_date": date, "revenue": 0, "runtime": runtime, "spoken_languages": [],
        "status": "Released", "tagline": "", "title": title, "video": False,
        "vote_average": 8.4, "vote_count": 30000,
        "release_dates": {"results": [
            {"iso_3166_1": "GB", "release_dates": [
                {"certification": "12A", "descriptors": [], "iso_639_1": "", "note": "",
                 "release_date": f"{date}T00:00:00.000Z", "type": 3}]},
            {"iso_3166_1": "US", "release_dates": [
                {"certification": "", "descriptors": [], "iso_639_1": "", "note": "Premiere",
                 "release_date": f"{date}T00:00:00.000Z", "type": 1},
                {"certification": cert, "descriptors": [], "iso_639_1": "", "note": "",
                 "release_date": f"{date}T00:00:00.000Z", "type": 3}]},
        ]},
    }


def _show(id_: int, name: str, date: str, genres: list[str], rating: str, imdb: str, run_time: int,
          seasons: dict[int, list[str]], overview: str) -> dict:
    slug = re.sub(r"\W+", "", name.lower())
    return {
        "adult": False, "backdrop_path": f"/{slug}-backdrop.jpg", "created_by": [],
        "episode_run_time": [run_time], "first_air_date": date,
        "genres": [{"id": 2000 + i, "name": g} for i, g in enumerate(genres)],
        "homepage": "", "id": id_, "in_production": False, "languages": ["en"],
        "last_air_date": date, "name": name, "networks": [],
        "number_of_episodes": sum(len(e) for e in seasons.values()),
        "number_of_seasons": len([s for s in seasons if s > 0]), "origin_country": ["US"],
        "original_language": "en", "original_name": name, "overview": overview,
        "popularity": 200.1, "poster_path": f"/{slug}-poster.jpg", "status": "Ended",
        "tagline": "", "type": "Scripted", "vote_average": 8.9, "vote_count": 12000,
        "seasons": [
            {"air_date": date, "episode_count": len(titles), "id": id_ * 100 + number,
             "name": "Specials" if number == 0 else f"Season {number}", "overview": "",
             "poster_path": f"/{slug}-s{number}.jpg", "season_number": number, "vote_average": 8.0}
            for number, titles in sorted(seasons.items())
        ],
        "content_ratings": {"results": [
            {"descriptors": [], "iso_3166_1": "DE", "rating": "16"},
            {"descriptors": [], "iso_3166_1": "US", "rating": rating},
        ]},
        "external_ids": {"imdb_id": imdb, "freebase_mid": None, "freebase_id": None,
                         "tvdb_id": id_ * 10, "tvrage_id": None, "wikidata_id": None,
                         "facebook_id": None, "instagram_id": None, "twitter_id": None},
        "_episode_titles": seasons,
    }


MOVIES = {
    27205: _movie(27205, "Inception", "2010-07-15", 148, ["Action", "Science Fiction", "Adventure"],
                  "PG-13", "tt1375666", "Cobb, a skilled thief who commits corporate espionage..."),
    62: _movie(62, "2001: A Space Odyssey", "1968-04-02", 149, ["Science Fiction", "Mystery"],
               "G", "tt0062622", "Humanity finds a mysterious object buried beneath the lunar surface..."),
    10378: _movie(10378, "Big Buck Bunny", "2008-05-30", 10, ["Animation", "Comedy"],
                  "", "tt1254207", "A big rabbit gets revenge on three bullying rodents."),
}
SHOWS = {
    1396: _show(1396, "Breaking Bad", "2008-01-20", ["Drama", "Crime"], "TV-MA", "tt0903747", 45, {
        0: ["Good Cop Bad Cop"],
        1: ["Pilot", "Cat's in the Bag...", "...And the Bag's in the River", "Cancer Man",
            "Gray Matter", "Crazy Handful of Nothin'", "A No-Rough-Stuff-Type Deal"],
        2: ["Seven Thirty-Seven", "Grilled", "Bit by a Dead Bee", "Down", "Breakage", "Peekaboo",
            "Negro y Azul", "Better Call Saul", "4 Days Out", "Over", "Mandala", "Phoenix", "ABQ"],
    }, "Walter White, a chemistry teacher, discovers that he has cancer..."),
    1437: _show(1437, "Firefly", "2002-09-20", ["Sci-Fi & Fantasy", "Drama"], "TV-14", "tt0303461", 44, {
        1: ["Serenity", "The Train Job", "Bushwhacked", "Shindig"],
    }, "Five hundred years in the future, a renegade crew aboard a small spacecraft..."),
}

CONFIGURATION = {
    "change_keys": ["adult", "air_date", "also_known_as"],
    "images": {
        "base_url": "", "secure_base_url": "",  # filled in with the fake's own address
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
}


@dataclass
class Rule:
    """A programmed misbehaviour for requests whose path starts with `prefix`."""

    prefix: str
    times: int
    status: int | None = None
    retry_after: str | None = None
    gate: threading.Event | None = None  # held until set (see `hold`)


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived


@dataclass
class FakeTmdb:
    api_key: str = API_KEY
    read_token: str = READ_TOKEN
    movies: dict[int, dict] = field(default_factory=lambda: copy.deepcopy(MOVIES))
    shows: dict[int, dict] = field(default_factory=lambda: copy.deepcopy(SHOWS))
    requests: list[LoggedRequest] = field(default_factory=list)
    _rules: list[Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeTmdb:
        fake = self

        class Handler(_Handler):
            tmdb = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-tmdb", daemon=True).start()
        return self

    def stop(self) -> None:
        for rule in self._rules:
            if rule.gate is not None:
                rule.gate.set()  # let held requests go
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/3"

    @property
    def image_base_url(self) -> str:
        return f"{self.origin}/t/p"

    def url(self, path: str) -> str:
        return self.origin + path

    # --- programming and inspection ------------------------------------------------------

    def fail(self, prefix: str, status: int = 500, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` requests under `prefix` get `status` (e.g. 429 + Retry-After)."""
        with self._lock:
            self._rules.append(Rule(prefix, times, status=status, retry_after=retry_after))

    def hold(self, prefix: str) -> threading.Event:
        """Requests under `prefix` go unanswered until the returned event is set: a test can
        then show that something finished *without* waiting for TMDB, with no clock involved."""
        gate = threading.Event()
        with self._lock:
            self._rules.append(Rule(prefix, times=1_000_000, gate=gate))
        return gate

    def requests_to(self, prefix: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def _take_rule(self, path: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule.prefix) and rule.times > 0:
                    rule.times -= 1
                    return rule
        return None


class _Handler(BaseHTTPRequestHandler):
    tmdb: FakeTmdb
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fake = self.tmdb
        with fake._lock:
            fake.requests.append(LoggedRequest("GET", parts.path, query, dict(self.headers.items()), time.monotonic()))
        rule = fake._take_rule(parts.path)
        if rule is not None and rule.gate is not None:
            rule.gate.wait()
        if rule is not None and rule.status:
            headers = {"Retry-After": rule.retry_after} if rule.retry_after else {}
            body = {"success": False, "status_code": 25 if rule.status == 429 else 11,
                    "status_message": "Your request count is over the allowed limit."
                    if rule.status == 429 else "Internal error: Something went wrong."}
            return self._json(rule.status, body, headers)
        if parts.path.startswith("/3/"):
            return self._api(parts.path[2:], query)
        return self._image(parts.path, query)

    # --- TMDB API ------------------------------------------------------------------------

    def _api(self, path: str, query: dict[str, str]) -> None:
        fake = self.tmdb
        bearer = self.headers.get("Authorization", "")
        if query.get("api_key") != fake.api_key and bearer != f"Bearer {fake.read_token}":
            return self._json(401, {"status_code": 7, "status_message":
                                    "Invalid API key: You must be granted a valid key.", "success": False})
        appended = set(query.get("append_to_response", "").split(","))
        if path == "/configuration":
            config = copy.deepcopy(CONFIGURATION)
            config["images"]["base_url"] = config["images"]["secure_base_url"] = fake.image_base_url + "/"
            return self._json(200, config)
        if path in ("/search/movie", "/search/tv"):
            return self._json(200, self._search(path.endswith("tv"), query))
        if m := re.fullmatch(r"/movie/(\d+)", path):
            movie = fake.movies.get(int(m[1]))
            if movie is not None:
                return self._json(200, _without(movie, {"release_dates"} - appended))
        if m := re.fullmatch(r"/tv/(\d+)", path):
            show = fake.shows.get(int(m[1]))
            if show is not None:
                hidden = {"content_ratings", "external_ids"} - appended | {"_episode_titles"}
                return self._json(200, _without(show, hidden))
        if m := re.fullmatch(r"/tv/(\d+)/season/(\d+)", path):
            show = fake.shows.get(int(m[1]))
            titles = show["_episode_titles"].get(int(m[2])) if show else None
            if titles is not None:
                return self._json(200, _season(show, int(m[2]), titles))
        self._json(404, {"success": False, "status_code": 34,
                         "status_message": "The resource you requested could not be found."})

    def _search(self, tv: bool, query: dict[str, str]) -> dict:
        fake = self.tmdb
        needle = query.get("query", "").lower()
        year = query.get("first_air_date_year" if tv else "year")
        items = fake.shows.values() if tv else fake.movies.values()
        results = []
        for item in items:
            name = item["name"] if tv else item["title"]
            date = item["first_air_date"] if tv else item["release_date"]
            if needle and needle in name.lower() and (not year or date.startswith(year)):
                keys = (["id", "name", "original_name", "first_air_date", "origin_country"] if tv
                        else ["id", "title", "original_title", "release_date", "video"])
                common = ["adult", "backdrop_path", "original_language", "overview", "popularity",
                          "poster_path", "vote_average", "vote_count"]
                result = {k: item[k] for k in keys + common}
                result["genre_ids"] = [g["id"] for g in item["genres"]]
                results.append(result)
        return {"page": 1, "results": results, "total_pages": 1, "total_results": len(results)}

    # --- image CDN and security-test endpoints -------------------------------------------

    def _image(self, path: str, query: dict[str, str]) -> None:
        if path == "/redirect" and "to" in query:
            return self._send(302, b"", "text/plain", {"Location": query["to"]})
        if path == "/img/big.jpg":
            return self._big(chunked=False)
        if path == "/img/big-chunked.jpg":
            return self._big(chunked=True)
        if path == "/img/not-image.jpg":
            return self._send(200, b"<html><body>not an image</body></html>", "image/jpeg")
        if path == "/img/poster.png":
            return self._send(200, tiny_png(), "image/png")
        if re.fullmatch(r"/(t/p/(w\d+|original)|img)/[\w.-]+\.jpg", path):
            return self._send(200, tiny_jpeg(), "image/jpeg")
        self._send(404, b"Not Found", "text/plain")

    def _big(self, *, chunked: bool) -> None:
        """50 MB that starts like a JPEG; the client must stop reading, which we survive."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(BIG_IMAGE_BYTES))
        self.end_headers()
        block = tiny_jpeg()[:3] + bytes(64 * 1024 - 3)
        try:
            for i in range(BIG_IMAGE_BYTES // len(block)):
                data = block if i == 0 else bytes(len(block))
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json;charset=utf-8", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _without(item: dict, keys: set[str]) -> dict:
    return {k: v for k, v in item.items() if k not in keys}


def _season(show: dict, number: int, titles: list[str]) -> dict:
    return {
        "_id": f"52542282760ee313280{show['id']}{number}",
        "air_date": show["first_air_date"],
        "episodes": [
            {"air_date": show["first_air_date"], "episode_number": n, "episode_type": "standard",
             "id": show["id"] * 10000 + number * 100 + n, "name": title, "overview": f"{title}.",
             "production_code": "", "runtime": show["episode_run_time"][0],
             "season_number": number, "show_id": show["id"], "still_path": f"/still-{number}-{n}.jpg",
             "vote_average": 8.0, "vote_count": 100, "crew": [], "guest_stars": []}
            for n, title in enumerate(titles, start=1)
        ],
        "name": "Specials" if number == 0 else f"Season {number}",
        "overview": "", "id": show["id"] * 100 + number,
        "poster_path": f"/s{number}.jpg", "season_number": number, "vote_average": 8.0,
    }


@pytest.fixture
def fake_tmdb() -> Iterator[FakeTmdb]:
    """A running fake TMDB with a fresh catalogue, rules and request log."""
    fake = FakeTmdb().start()
    try:
        yield fake
    finally:
        fake.stop()
