"""The `mediahub` console script, run as a user runs it: a child process against a real server."""

from __future__ import annotations

import json
import subprocess

from mediahub.settings import table
from tests.hubs import magnet
from tests.server_process import MEDIAHUB, ServerProcess, loopback_env


def mediahub(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEDIAHUB, *args], env=env, capture_output=True, text=True, timeout=timeout)


def remote(server: ServerProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A client that finds the server by URL and its token in the data dir, like a user on the same box."""
    return mediahub("--url", server.url, *args, env={**server.env, **env})


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mediahub: error: "), result.stderr
    assert text in lines[0]


def test_add_then_ls_shows_the_item(server):
    added = remote(server, "add", magnet(name="Sintel.2010.720p.mkv"))
    assert added.returncode == 0, added.stderr
    media_id, status, title = added.stdout.strip().split("\t")
    assert (status, title) == ("added", "Sintel (2010)")

    listing = remote(server, "ls")
    assert listing.returncode == 0, listing.stderr
    header, row = listing.stdout.strip().splitlines()
    assert header.split() == ["ID", "TYPE", "STATUS", "PROGRESS", "TITLE"]
    assert row.split()[:3] == [media_id, "movie", "added"] and row.endswith("Sintel (2010)")

    again = remote(server, "add", magnet(name="The.Wire.S01E01.720p.mkv"), "--type", "tv")
    assert again.returncode == 0, again.stderr
    shows = remote(server, "ls", "--type", "tv")
    assert "The Wire" in shows.stdout and "Sintel" not in shows.stdout


def test_bad_input_is_one_line_and_nonzero(server):
    assert_one_line_error(remote(server, "add", "not-a-magnet"), "magnet")
    assert_one_line_error(remote(server, "watch", "no-such-id"), "HTTP 404")
    assert remote(server, "ls").stdout.startswith("The library is empty")  # nothing was added
    assert_one_line_error(remote(server, "ls", MEDIAHUB_TOKEN="mh_wrong-token-0000000000"), "Invalid API token")

    usage = mediahub("add", env=server.env)  # a usage error: exit 2, like any argparse tool
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1
    assert usage.stderr.startswith("mediahub: error: the following arguments are required: magnet")
    assert mediahub("ls", "--type", "film", env=server.env).stderr.count("\n") == 1


def test_no_server_and_no_token_say_what_to_do(server, tmp_path):
    down = mediahub("--url", "http://127.0.0.1:9", "--token", "x" * 20, "ls", env=server.env)
    assert_one_line_error(down, "is `mediahub serve` running?")
    lost = mediahub("--url", server.url, "ls", env=loopback_env(tmp_path / "empty"))
    assert_one_line_error(lost, "no API token")


def test_tokens_and_profiles(server):
    profiles = remote(server, "profiles")
    profile_id, name = profiles.stdout.strip().split("\t")
    assert name == "Default"
    assert remote(server, "token").stdout.strip() == server.token

    created = remote(server, "token", "--create", profile_id, "--label", "tv box")
    token = created.stdout.strip()
    assert created.returncode == 0 and token.startswith("mh_") and token != server.token
    as_profile = mediahub("--url", server.url, "profiles", env={**server.env, "MEDIAHUB_TOKEN": token})
    assert as_profile.stdout.strip() == f"{profile_id}\tDefault"
    assert_one_line_error(remote(server, "token", "--create", "nobody"), "Profile not found")


def test_local_mode_opens_the_library_in_process(tmp_path):
    env = loopback_env(tmp_path / "local-data")
    added = mediahub("--local", "add", magnet(name="Big.Buck.Bunny.2008.mp4"), env=env)
    assert added.returncode == 0, added.stderr
    listing = mediahub("--local", "ls", "--json", env=env)
    assert [(i["title"], i["year"]) for i in json.loads(listing.stdout)] == [("Big Buck Bunny", 2008)]
    assert_one_line_error(mediahub("--local", "add", "magnet:?dn=no-hash", env=env), "info")


def test_watch_draws_progress_until_ready(server, swarm, mp4_file):
    seed = swarm.seed({"Big.Buck.Bunny.2008.mp4": mp4_file}, piece_size=16 * 1024)
    seed.throttle(max(16 * 1024, seed.total_size // 3))  # a few seconds, so there is something to watch
    media_id = remote(server, "add", seed.magnet).stdout.split("\t")[0]
    watched = mediahub("--url", server.url, "watch", media_id, env=server.env, timeout=120)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.strip().splitlines()
    assert lines[-1].startswith("[" + "#" * 30 + "] 100.0%  ready")
    assert len(lines) >= 2 and any(" downloading" in line for line in lines)
    row = remote(server, "ls").stdout.strip().splitlines()[1]
    assert row.split()[:4] == [media_id, "movie", "ready", "100.0%"] and row.endswith("Big Buck Bunny (2008)")


def test_help_lists_every_setting_with_its_default(tmp_path):
    shown = mediahub("--help", env=loopback_env(tmp_path / "data"))
    assert shown.returncode == 0, shown.stderr
    settings = shown.stdout.split("settings (environment variables")[1]
    for row in table():
        assert f"{row.variable}  (default: {row.default.replace('`', '')})" in settings
    assert "seconds a stream waits for its first bytes" in settings  # and what each one does
