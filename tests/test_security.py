"""Request-level defences, each checked with real HTTP requests against uvicorn on loopback:
the Host allow-list (DNS rebinding), CORS staying off, the brake on token guessing, and
`?token=` being honoured only on the routes a media element loads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from mediahub.api.security import TokenBrake, TooManyRequests
from mediahub.hub import Hub
from tests.hubs import OWNER_TOKEN, Api, magnet, make_settings

pytestmark = pytest.mark.anyio

EVIL_HOSTS = [
    "evil.example",
    "evil.example:8000",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "127.0.0.2",
    "[::2]:80",
    "localhost:http",
    "local host",
    "",
]


def _port(api: Api) -> int:
    return api.http.base_url.port or 80


@pytest.mark.parametrize("path", ["/health", "/api/media", "/schema/openapi.json"])
async def test_local_host_names_are_answered(api: Api, path: str) -> None:
    port = _port(api)
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "LOCALHOST.", f"[::1]:{port}"]:
        response = await api.get(path, headers={"Host": host})
        assert response.status_code == 200, (host, response.text)


@pytest.mark.parametrize("host", EVIL_HOSTS)
async def test_foreign_host_names_are_refused(api: Api, host: str) -> None:
    """A DNS-rebinding page reaches us under its own name: it gets a 400 and no data."""
    added = await api.post("/api/media", json={"magnetLink": magnet(), "title": "Private"})
    assert added.status_code == 201
    for method, path in [("GET", "/health"), ("GET", "/api/media"), ("GET", "/schema/openapi.json"), ("POST", "/api/media")]:
        response = await api.request(method, path, headers={"Host": host}, json={"magnetLink": magnet()})
        assert response.status_code == 400, (method, path, response.text)
        assert response.headers["content-type"] == "application/json"
        assert "host" in response.json()["message"].lower()
        assert "Private" not in response.text
    assert len((await api.get("/api/media")).json()) == 1  # the refused POSTs stored nothing


async def test_a_server_answers_to_the_address_it_was_reached_on(tmp_path: Path, database_url: str) -> None:
    """Bound to another address than 127.0.0.1, the server learns it from the connection."""
    async with Hub.open(make_settings(tmp_path / "data", database_url)) as hub:
        url = await hub.serve(host="127.0.0.2")
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/health", headers={"Host": "127.0.0.3"})).status_code == 400


async def test_allowed_hosts_setting_replaces_the_defaults(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url, allowed_hosts=("media.example.org", "*.lan"))
    async with Hub.open(settings) as hub:
        async with httpx.AsyncClient(base_url=await hub.serve()) as client:
            for host, status in [
                ("media.example.org", 200),
                ("media.example.org:443", 200),
                ("tv.lan", 200),
                ("a.b.lan", 200),
                ("lan", 400),
                ("example.org", 400),
                ("127.0.0.1", 400),
                ("localhost", 400),
            ]:
                assert (await client.get("/health", headers={"Host": host})).status_code == status, host


async def test_allowed_hosts_star_answers_any_name(tmp_path: Path, database_url: str) -> None:
    async with Hub.open(make_settings(tmp_path / "data", database_url, allowed_hosts=("*",))) as hub:
        async with httpx.AsyncClient(base_url=await hub.serve()) as client:
            assert (await client.get("/health", headers={"Host": "anything.example"})).status_code == 200


async def test_cors_is_off(api: Api) -> None:
    """Another origin gets no CORS grant: a browser neither shows it our answers nor sends its writes."""
    origin = {"Origin": "http://evil.example"}
    preflight = await api.http.options(
        "/api/media",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )
    read = await api.get("/api/media", headers=origin)
    assert read.status_code == 200
    for response in (preflight, read):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers


async def test_bad_tokens_are_answered_late_and_never_lock_out_valid_ones(api: Api) -> None:
    """A guessing address gets its 401s held back (or 429 when too many wait), while every
    valid token from the same address -- users behind one reverse proxy -- still gets in."""
    _, kid = await api.new_profile("Kid")
    brake = TokenBrake()  # the app's defaults
    port = _port(api)
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    limits = httpx.Limits(max_connections=brake.max_held + 10)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", transport=transport, limits=limits, timeout=60
    ) as proxy:
        for attempt in range(brake.free):  # typos are answered at once
            response = await proxy.get("/api/media", headers={"Authorization": f"Bearer guess-{attempt}"})
            assert response.status_code == 401
        guesses = [
            asyncio.create_task(proxy.get("/api/media", headers={"Authorization": f"Bearer more-{n}"}))
            for n in range(brake.max_held + 1)
        ]
        done, held = await asyncio.wait(guesses, return_when=asyncio.FIRST_COMPLETED, timeout=30)
        first = done.pop()
        assert first.result().status_code == 429, first.result().text  # one too many: not held
        assert 1 <= int(first.result().headers["Retry-After"]) <= brake.max_held * brake.interval + 1
        assert "try again in" in first.result().json()["message"]
        # Meanwhile the users behind the same address get in: the owner and a profile token.
        assert (await proxy.get("/api/media", headers={"Authorization": f"Bearer {OWNER_TOKEN}"})).status_code == 200
        assert (await proxy.get("/api/media", headers=kid.headers)).status_code == 200
        assert sum(not task.done() for task in held) >= brake.max_held // 2  # their 401s still wait
        answered, _ = await asyncio.wait(held, return_when=asyncio.FIRST_COMPLETED, timeout=30)
        assert [task.result().status_code for task in answered] == [401]  # held, then answered
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
    assert (await api.get("/api/media")).status_code == 200  # 127.0.0.1 never counted


async def test_token_brake_forgets_after_the_window_and_stays_small() -> None:
    now = [0.0]
    brake = TokenBrake(free=3, window=10, max_held=0, max_clients=100, clock=lambda: now[0])
    for _ in range(3):
        await brake.failed("10.0.0.1")  # within the allowance: answered at once
    with pytest.raises(TooManyRequests) as info:  # over it, and no answer may be held
        await brake.failed("10.0.0.1")
    assert info.value.headers["Retry-After"] == "1"
    await brake.failed("10.0.0.2")
    for host in ("2001:db8::1", "2001:db8::2", "2001:db8::3"):
        await brake.failed(host)
    with pytest.raises(TooManyRequests):  # one /64 counts as one guesser
        await brake.failed("2001:db8::ffff")
    now[0] = 10.5
    await brake.failed("10.0.0.1")  # the window has passed
    for n in range(1000):
        await brake.failed(f"10.1.{n // 256}.{n % 256}")
    assert len(brake._guessers) <= 100


async def test_query_token_only_on_media_element_routes(api: Api) -> None:
    """A profile's `?token=` works where a <video>/<img>/<track> loads (GET/HEAD) and nowhere
    else; the owner token in a URL is refused everywhere, with a message saying why."""
    schema = (await api.get("/schema/openapi.json")).json()
    item = (await api.post("/api/media", json={"magnetLink": magnet()})).json()
    player_token = await api.url_token()
    query_token_routes = {"/api/images/{media_id}/{file_name}", "/api/media/{media_id}/stream"}
    query_token_routes |= {p for p in schema["paths"] if "/subtitles" in p}
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        url = path.replace("{media_id}", item["id"]).replace("{file_name}", "poster.jpg")
        url = url.replace("{profile_id}", "x").replace("{token_id}", "x").replace("{subtitle_id}", "x")
        for method in operations:
            status = await _status(api.http, method.upper(), url, params={"token": player_token})
            checked += 1
            if path in query_token_routes and method in {"get", "head"}:
                assert status != 401, (method, path)
                owner = await api.http.get(url, params={"token": OWNER_TOKEN})
                assert owner.status_code == 401, (method, path)
                assert "owner token is not accepted in a URL" in owner.json()["message"]
            else:
                assert status == 401, (method, path, status)
            if method == "get":  # the header still works everywhere
                assert await _status(api.http, "GET", url, headers=api.headers) != 401, (method, path)
    assert checked >= 12


async def _status(http: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> int:
    """The status alone: the body of a stream (video, server-sent events) is never read."""
    async with http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status_code


async def test_nul_characters_are_refused_everywhere(api: Api) -> None:
    """PostgreSQL text cannot hold a NUL: in a path, a query, a JSON body or a magnet it is a 400, never a 500."""
    movie = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "movie"})).json()
    profiles_before = (await api.get("/api/profiles")).json()
    requests = [
        ("GET", f"/api/media/{movie['id']}%00", None, None),
        ("GET", f"/api/media/{movie['id']}/position", {"episodeId": "\x00"}, None),
        ("GET", "/api/media/search", {"q": "ab\x00"}, None),
        ("POST", "/api/media", None, {"magnetLink": magnet(), "title": "Nul\x00Title"}),
        ("POST", "/api/media", None, {"magnetLink": magnet(name="Nul%00Name.mkv")}),
        ("POST", "/api/media", None, {"magnetLink": magnet() + "&tr=udp%3A%2F%2Fx%0A"}),
        ("PUT", f"/api/media/{movie['id']}/position", None, {"position": 3, "episodeId": "\x00"}),
        ("POST", "/api/profiles", None, {"name": "Eve\x00"}),
        ("POST", f"/api/profiles/{profiles_before[0]['id']}/tokens", None, {"label": "\x00"}),
    ]
    for method, url, params, body in requests:
        response = await api.request(method, url, params=params, json=body)
        assert response.status_code == 400, (method, url, params, body, response.text)
        assert "NUL" in response.json()["message"] or "control characters" in response.json()["message"]
    beacon = await api.post(
        f"/api/media/{movie['id']}/position", content=b'{"position": 1, "episodeId": "\\u0000"}',
        headers={"Content-Type": "text/plain"},
    )
    assert beacon.status_code == 400
    assert [m["id"] for m in (await api.get("/api/media")).json()] == [movie["id"]]
    assert (await api.get(f"/api/media/{movie['id']}/position")).json() == {"position": 0, "duration": None}
    assert (await api.get("/api/profiles")).json() == profiles_before
