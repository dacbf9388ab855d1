"""Browser sessions (API.md "Browser sessions") over real HTTP: the cookie, what it unlocks,
when it dies, and the Origin rule that keeps other pages from writing with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from mediahub.api.security import TokenBrake
from mediahub.db.tables import BrowserSession
from mediahub.ids import utcnow
from tests.hubs import OWNER_TOKEN, Api, magnet

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def signed_in(api: Api, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-only client (no Authorization header), like the web app."""
    async with httpx.AsyncClient(base_url=api.http.base_url, timeout=30) as client:
        response = await client.post("/api/session", json={"token": token})
        assert response.status_code == 204, response.text
        yield client


def own_origin(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Origin": str(client.base_url).rstrip("/")}


async def test_sign_in_sets_an_httponly_strict_cookie_bound_to_the_profile(api: Api) -> None:
    profile_id, kid = await api.new_profile("Kid")
    token = kid.headers["Authorization"].removeprefix("Bearer ")
    response = await api.http.post("/api/session", json={"token": token})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mediahub_session=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http on loopback
    value = cookie.split(";")[0].split("=", 1)[1]
    assert token not in cookie and len(value) >= 40
    # Stored hashed: the cookie value is nowhere in the database.
    assert value not in {row["id"] for row in await BrowserSession.select(BrowserSession.id)}
    async with signed_in(api, token) as browser:
        me = await browser.get("/api/session")
        assert me.json() == {"profile": {"id": profile_id, "name": "Kid"}, "isOwner": False}
        added = await browser.post("/api/media", json={"magnetLink": magnet()}, headers=own_origin(browser))
        assert added.status_code == 201
        assert [m["id"] for m in (await kid.get("/api/media")).json()] == [added.json()["id"]]
        # A profile session ignores X-Profile-Id, as its token does.
        assert (await browser.get("/api/media", headers={"X-Profile-Id": "x"})).status_code == 200


@pytest.mark.parametrize("body", [{"token": "wrong-token-0123456789"}, {"token": ""}, {}, None])
async def test_a_bad_sign_in_is_401_and_sets_no_cookie(api: Api, body: dict | None) -> None:
    response = await api.http.post("/api/session", json=body)
    assert response.status_code == 401
    assert "token" in response.json()["message"].lower()
    assert "set-cookie" not in response.headers
    assert await BrowserSession.count() == 0


async def test_guessing_tokens_at_sign_in_is_braked(api: Api) -> None:
    """Wrong tokens at sign-in are guesses too: past the free ones their 401s are held back,
    while the right token from the same address still signs in at once."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
    async with httpx.AsyncClient(base_url=api.http.base_url, transport=transport, timeout=30) as guesser:
        for attempt in range(TokenBrake().free):
            assert (await guesser.post("/api/session", json={"token": f"guess-{attempt}"})).status_code == 401
        held = asyncio.create_task(guesser.post("/api/session", json={"token": "guess-more"}))
        assert (await guesser.post("/api/session", json={"token": OWNER_TOKEN})).status_code == 204
        assert not held.done()  # its 401 is still held back
        assert (await held).status_code == 401


async def test_the_cookie_opens_every_kind_of_route(api: Api) -> None:
    """Library, event stream (an EventSource sends no headers) and the media routes a <video> loads."""
    item = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "movie"})).json()
    async with signed_in(api, OWNER_TOKEN) as browser:
        assert [m["id"] for m in (await browser.get("/api/media")).json()] == [item["id"]]
        async with browser.stream("GET", f"/api/media/{item['id']}/progress/stream") as events:
            assert events.status_code == 200
            assert events.headers["content-type"].startswith("text/event-stream")
            async for line in events.aiter_lines():
                if line.startswith("data:"):
                    assert '"status"' in line
                    break
        head = await browser.head(f"/api/media/{item['id']}/stream")
        assert head.status_code == 202  # no peers: "waiting", not "who are you"
        assert (await browser.get(f"/api/images/{item['id']}/poster.jpg")).status_code == 404  # none cached


async def test_writes_with_the_cookie_must_come_from_our_origin(api: Api) -> None:
    item = (await api.post("/api/media", json={"magnetLink": magnet(), "type": "movie"})).json()
    position = f"/api/media/{item['id']}/position"
    async with signed_in(api, OWNER_TOKEN) as browser:
        port = browser.base_url.port
        for headers in [
            {},  # neither Origin nor Sec-Fetch-Site: an old or odd client
            {"Origin": f"http://127.0.0.1:{port + 1}"},  # same site, other port: a local dev server's page
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site"},
        ]:
            for method in ("POST", "PUT"):
                response = await browser.request(
                    method, position, content=b'{"position": 50}', headers={"Content-Type": "text/plain", **headers}
                )
                assert response.status_code == 403, (method, headers)
                assert "own pages" in response.json()["message"]
            deleted = await browser.delete(f"/api/media/{item['id']}", headers=headers)
            assert deleted.status_code == 403
        assert (await api.get(position)).json() == {"position": 0, "duration": None}
        for headers in [own_origin(browser), {"Sec-Fetch-Site": "same-origin"}]:
            response = await browser.post(position, content=b'{"position": 5}', headers=headers)
            assert response.status_code == 204, headers
        # A Bearer token is not a cookie: no Origin needed (curl, scripts).
        assert (await api.put(position, json={"position": 6})).status_code == 204
        # Signing in from another site's page is refused too (login CSRF).
        foreign = await api.http.post("/api/session", json={"token": OWNER_TOKEN}, headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403 and "set-cookie" not in foreign.headers


async def test_sign_out_expiry_and_revocation_end_the_session(api: Api) -> None:
    profile_id, kid = await api.new_profile("Kid")
    token_row = (await api.post(f"/api/profiles/{profile_id}/tokens", json={"label": "tv"})).json()
    # Sign out: 204, the cookie is cleared, and the old value is refused.
    async with signed_in(api, token_row["token"]) as browser:
        old = browser.cookies["mediahub_session"]
        out = await browser.delete("/api/session", headers=own_origin(browser))
        assert out.status_code == 204 and "max-age=0" in out.headers["set-cookie"].lower()
    stale = await api.http.get("/api/media", headers={"Cookie": f"mediahub_session={old}"})
    assert stale.status_code == 401 and "sign in" in stale.json()["message"]
    assert "max-age=0" in stale.headers["set-cookie"].lower()  # the browser is told to drop it
    # Expired (past its MEDIAHUB_SESSION_DAYS): 401.
    async with signed_in(api, token_row["token"]) as browser:
        await BrowserSession.update({BrowserSession.expires_at: utcnow() - timedelta(seconds=1)}).where(
            BrowserSession.id != ""
        )
        assert (await browser.get("/api/session")).status_code == 401
    # Revoking the token it was made from ends it at once.
    async with signed_in(api, token_row["token"]) as browser:
        assert (await browser.get("/api/media")).status_code == 200
        assert (await api.delete(f"/api/tokens/{token_row['id']}")).status_code == 204
        assert (await browser.get("/api/media")).status_code == 401
    assert (await api.http.get("/api/session", headers={"Cookie": "mediahub_session=made-up"})).status_code == 401


async def test_the_owner_switches_the_profile_of_the_session(api: Api) -> None:
    kid_id, kid = await api.new_profile("Kid")
    kids_movie = (await kid.post("/api/media", json={"magnetLink": magnet(), "title": "Kid Movie"})).json()
    async with signed_in(api, OWNER_TOKEN) as browser:
        origin = own_origin(browser)
        assert (await browser.get("/api/session")).json()["profile"]["name"] == "Default"
        assert (await browser.get("/api/media")).json() == []
        switched = await browser.put("/api/session", json={"profileId": kid_id}, headers=origin)
        assert switched.status_code == 200
        assert switched.json() == {"profile": {"id": kid_id, "name": "Kid"}, "isOwner": True}
        assert [m["id"] for m in (await browser.get("/api/media")).json()] == [kids_movie["id"]]
        # The <video> of this session streams the Kid's item: the profile lives in the session.
        assert (await browser.head(f"/api/media/{kids_movie['id']}/stream")).status_code == 202
        assert (await browser.put("/api/session", json={"profileId": "nope"}, headers=origin)).status_code == 404
        # Deleting that profile sends the session back to the default profile.
        assert (await api.delete(f"/api/profiles/{kid_id}")).status_code == 204
        assert (await browser.get("/api/session")).json()["profile"]["name"] == "Default"
    # A profile's session cannot switch; a Bearer caller has no session to switch.
    other_id, other = await api.new_profile("Other")
    async with signed_in(api, other.headers["Authorization"].removeprefix("Bearer ")) as browser:
        refused = await browser.put("/api/session", json={"profileId": other_id}, headers=own_origin(browser))
        assert refused.status_code == 403
    assert (await api.put("/api/session", json={"profileId": other_id})).status_code == 400
