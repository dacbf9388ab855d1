#!/usr/bin/env python3
"""Add every magnet in a file to a mediahub server, then wait until they are all ready.

    MEDIAHUB_URL=http://127.0.0.1:8000 MEDIAHUB_TOKEN=... python scripts/add_magnets.py magnets.txt

One magnet per line; blank lines and lines starting with `#` are skipped. Uses only the HTTP
API (httpx), so it is also an example of driving mediahub from a script. Exits 1 if a magnet
was refused or a download failed, 2 if the wait timed out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

TERMINAL = {"ready", "error"}


def read_magnets(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def add_all(client: httpx.Client, magnets: list[str]) -> tuple[dict[str, str], int]:
    """POST each magnet; returns {media id: title} of the accepted ones and the refused count."""
    added: dict[str, str] = {}
    refused = 0
    for magnet in magnets:
        response = client.post("/api/media", json={"magnetLink": magnet})
        if response.is_success:
            media = response.json()
            added[media["id"]] = media["title"]
            print(f"{'added' if response.status_code == 201 else 'already there'}\t{media['id']}\t{media['title']}")
        else:
            refused += 1
            print(f"refused\t{response.json().get('message', response.text)}\t{magnet[:80]}", file=sys.stderr)
    return added, refused


def wait_all(client: httpx.Client, added: dict[str, str], timeout: float, interval: float) -> dict[str, str]:
    """Poll the library list (one request for all items) until each item is ready or failed."""
    deadline = time.monotonic() + timeout
    reported: dict[str, str] = {}
    while True:
        items = {item["id"]: item for item in client.get("/api/media").raise_for_status().json()}
        for media_id in added.keys() - reported.keys():
            item = items.get(media_id)
            status = item["status"] if item else "error"  # deleted meanwhile
            if status in TERMINAL:
                reported[media_id] = status
                print(f"{status}\t{media_id}\t{added[media_id]}")
        if len(reported) == len(added) or time.monotonic() > deadline:
            return reported
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="text file with one magnet link per line")
    parser.add_argument("--url", default=os.environ.get("MEDIAHUB_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("MEDIAHUB_TOKEN"), help="API token (env MEDIAHUB_TOKEN)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for all downloads")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between progress checks")
    parser.add_argument("--no-wait", action="store_true", help="add and exit")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("an API token is needed: --token or MEDIAHUB_TOKEN")
    headers = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
        added, refused = add_all(client, read_magnets(args.file))
        if args.no_wait or not added:
            return 1 if refused else 0
        reported = wait_all(client, added, args.timeout, args.interval)
    ready = sum(status == "ready" for status in reported.values())
    failed = len(reported) - ready
    print(f"{len(added)} added, {refused} refused, {ready} ready, {failed} failed, {len(added) - len(reported)} unfinished")
    if len(reported) < len(added):
        return 2
    return 1 if refused or failed else 0


if __name__ == "__main__":
    sys.exit(main())
