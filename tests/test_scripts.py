"""The automation scripts and the single-file app, run as a user runs them."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import httpx

from tests.server_process import ServerProcess, start_server
from tests.hubs import magnet

ROOT = Path(__file__).resolve().parent.parent


def script(name: str, *args: str, server: ServerProcess) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "MEDIAHUB_URL": server.url, "MEDIAHUB_TOKEN": server.token}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_add_magnets_adds_each_line_and_reports_refusals(server, tmp_path):
    magnets = tmp_path / "magnets.txt"
    first, second = magnet(name="Sintel.2010.mkv"), magnet(name="Tears.of.Steel.2012.mp4")
    magnets.write_text(f"# my list\n{first}\n\nnot a magnet\n{second}\n{first}\n")
    result = script("add_magnets.py", str(magnets), "--no-wait", server=server)
    assert result.returncode == 1  # one line was refused
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["added", "added", "already there"]
    assert "refused" in result.stderr and "magnet" in result.stderr
    titles = [i["title"] for i in httpx.get(f"{server.url}/api/media", headers=auth(server)).json()]
    assert sorted(titles) == ["Sintel", "Tears of Steel"]


def test_add_magnets_waits_until_every_download_is_ready(server, swarm, mp4_file, tmp_path):
    seeds = [swarm.seed({name: mp4_file}, piece_size=16 * 1024) for name in ("Sintel.2010.mp4", "Elephants.Dream.2006.mp4")]
    magnets = tmp_path / "magnets.txt"
    magnets.write_text("\n".join(seed.magnet for seed in seeds) + "\n")
    result = script("add_magnets.py", str(magnets), "--timeout", "90", "--interval", "0.2", server=server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(line.split("\t")[2] for line in result.stdout.splitlines() if line.startswith("ready")) == [
        "Elephants Dream",
        "Sintel",
    ]
    assert result.stdout.strip().splitlines()[-1] == "2 added, 0 refused, 2 ready, 0 failed, 0 unfinished"


def test_export_library_writes_a_csv_with_every_item(server, tmp_path):
    for name in ("Sintel.2010.mkv", "Big.Buck.Bunny.2008.mp4"):
        httpx.post(f"{server.url}/api/media", headers=auth(server), json={"magnetLink": magnet(name=name)}).raise_for_status()
    out = tmp_path / "library.csv"
    result = script("export_library.py", "-o", str(out), server=server)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["title"], r["year"], r["type"], r["status"]) for r in rows] == [
        ("Big Buck Bunny", "2008", "movie", "added"),
        ("Sintel", "2010", "movie", "added"),
    ]
    assert all(len(r["infohash"]) == 40 for r in rows)
    assert not list(tmp_path.glob(".*.tmp"))


def test_single_file_app_builds_and_serves(tmp_path):
    pyz = tmp_path / "mediahub.pyz"
    build = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_single_file.py"), "-o", str(pyz)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert "libtorrent" in build.stdout and "av" in build.stdout.split(": ")[1].split(", ")
    # The bare interpreter, isolated (-I) and without its site-packages (-S): all comes from the file.
    command = [sys._base_executable, "-I", "-S", str(pyz), "serve", "--port", "{port}"]
    with start_server(command, tmp_path / "data", {"SHIV_ROOT": str(tmp_path / "shiv")}, timeout=120) as app:
        assert httpx.get(f"{app.url}/health").json()["status"] == "ok"
        assert httpx.get(f"{app.url}/api/media").status_code == 401
        listing = httpx.get(f"{app.url}/api/media", headers=auth(app))
        assert listing.status_code == 200 and listing.json() == []
        # The web app and the docs UI's assets travel inside the file.
        assert "/static/main.js" in httpx.get(f"{app.url}/").text
        assert httpx.get(f"{app.url}/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js").status_code == 200


def test_single_file_build_says_what_is_missing(tmp_path):
    """Run by a Python without mediahub, shiv or packaging: a plain list of what to install, no traceback."""
    build = subprocess.run(
        [sys._base_executable, "-I", "-S", str(ROOT / "scripts" / "build_single_file.py"), "-o", str(tmp_path / "x.pyz")],
        capture_output=True, text=True, timeout=60,
    )
    assert build.returncode == 2
    assert "Traceback" not in build.stderr
    assert "mediahub is not installed" in build.stderr and "pip install shiv" in build.stderr
    assert not (tmp_path / "x.pyz").exists()


def auth(server: ServerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}
