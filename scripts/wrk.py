"""Debian's `wrk` as a load client for the benchmarks: one run, figures back as a dict.

A generated Lua script picks a random request from a list (path, method, body) for every
request, sends the given headers, and prints wrk's own summary as JSON in `done()`, so no
text scraping is needed. Requests answered with an unexpected status count as errors.
wrk is written in C; with `client_cpu_s` (the child's CPU time from the OS) next to the
server's, a report can show the client was not the bottleneck.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

_SCRIPT = """
local requests = {%(requests)s}
local expected = %(expected)d
local bad = 0
request = function()
  local r = requests[math.random(#requests)]
  return wrk.format(r[1], r[2], headers, r[3])
end
response = function(status, hdrs, body)
  if status ~= expected then bad = bad + 1 end
end
headers = {%(headers)s}
done = function(summary, latency, requests)
  io.write("WRK_JSON ")
  io.write(string.format('{"requests": %%d, "duration_us": %%d, "bytes": %%d, "errors": %%d, ',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
  io.write(string.format('"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def run(
    url: str,
    requests: Sequence[tuple[str, str, str | None]],
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 16,
    threads: int = 2,
    seconds: float = 5.0,
    expected_status: int = 200,
) -> dict[str, float]:
    """Load `url` (scheme://host:port) with `requests` [(method, path, body or None)] for
    `seconds`; returns req/s, latency percentiles in ms, MB/s, errors and the client's CPU time."""
    entries = ", ".join(
        "{%s, %s, %s}" % (_lua_string(m), _lua_string(p), _lua_string(b) if b is not None else "nil")
        for m, p, b in requests
    )
    head = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items())
    with tempfile.TemporaryDirectory(prefix="wrk-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(_SCRIPT % {"requests": entries, "headers": head, "expected": expected_status})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(script), url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        )  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    elapsed = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / elapsed, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "mb_per_s": round(raw["bytes"] / elapsed / 1e6, 1),
        "errors": raw["errors"],
        "client_cpu_s": round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2
        ),
        "seconds": round(elapsed, 2),
    }
