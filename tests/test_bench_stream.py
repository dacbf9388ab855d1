"""scripts/bench_stream.py keeps working: a quick run prints every figure next to its baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_stream.py"


def test_bench_stream_quick_run_prints_figures() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    ranged = report["ranged_reads"]
    assert (
        ranged["mediahub_mib_s"] > 0 and ranged["starlette_fileresponse_mib_s"] > 0 and ranged["ratio_vs_starlette"] > 0
    )
    assert report["finalize"]["finalize_x_realtime"] > 1 and report["finalize"]["ratio_vs_bare_loop"] > 0
    assert report["transmux"]["copy_x_realtime"] > 1 and report["transmux"]["transcode_x_realtime"] > 0
    ttfb = report["ttfb"]
    assert ttfb["runs"] == len(ttfb["seek_to_60pct_ms"]) == len(ttfb["start_after_post_ms"]) == 2
    assert ttfb["one_piece_at_seeder_rate_ms"] == round(256 * 1024 / 3_000_000 * 1000, 1)
