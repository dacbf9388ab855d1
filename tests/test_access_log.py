"""What `uvicorn mediahub:app` writes to its access log: never a token or a signed grant.

A `<video>` or `<img>` URL carries `?token=` (a profile token) or `?sig=` (a signed grant),
and uvicorn logs every request target with its query. Checked on a real server process by
reading the log it actually wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.hubs import magnet
from tests.server_process import start_server
from tests.swarm import until

pytestmark = pytest.mark.anyio

UVICORN = [sys.executable, "-m", "uvicorn", "mediahub:app", "--port", "{port}"]


async def test_the_access_log_redacts_tokens_and_grants(tmp_path: Path) -> None:
    with start_server(UVICORN, tmp_path / "data") as server:
        owner = {"Authorization": f"Bearer {server.token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            profile = (await http.get("/api/profiles", headers=owner)).json()[0]["id"]
            player = (await http.post(f"/api/profiles/{profile}/tokens", headers=owner, json={})).json()["token"]
            media_id = (await http.post("/api/media", headers=owner, json={"magnetLink": magnet()})).json()["id"]
            grant = "grant-0123456789abcdef"
            targets = [
                f"/api/media/{media_id}/stream?token={player}&sig={grant}",
                f"/api/images/{media_id}/poster.jpg?%74oken={player}",  # the app decodes the name
                f"/api/media/{media_id}/subtitles?token={server.token}",  # the owner's: refused, still logged
            ]
            statuses = [(await http.get(target)).status_code for target in targets]
        assert statuses[0] != 401 and statuses[1] != 401, statuses  # the profile token let them in
        assert statuses[2] == 401
        last = f"/api/media/{media_id}/subtitles"  # uvicorn writes a line as each answer starts
        await until(lambda: last in server.log.read_text(), 15, "the access log line")
        log = server.log.read_text()
    assert player not in log and grant not in log and server.token not in log
    assert f"/api/media/{media_id}/stream?token=[redacted]&sig=[redacted]" in log
    assert f"/api/images/{media_id}/poster.jpg?%74oken=[redacted]" in log
    assert f"/api/media/{media_id}/subtitles?token=[redacted]" in log

