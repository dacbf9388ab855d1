"""scripts/bench_api.py keeps working: a quick run loads every route with wrk and prints the figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_api.py"


def test_bench_api_quick_run_prints_figures() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["library"]["items"] == 200 and report["library"]["positions"] >= 1000
    rows = {"health", "detail", "progress", "continue_watching", "list_paged", "put_position", "search", "list_whole"}
    assert set(report["endpoints"]) == rows
    for name, figures in report["endpoints"].items():
        assert figures["requests"] > 0 and figures["errors"] == 0, name
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] and figures["p50_ms_one_connection"] > 0, name
        assert figures["vs_health"] > 0 and figures["server_cpu_s"] > 0, name
    memory = report["memory"]
    assert memory["active_torrents"] == 2 and 0 < memory["rss_idle_mib"] <= memory["rss_active_mib"]
