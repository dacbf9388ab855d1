#!/usr/bin/env python3
"""Export a mediahub library as CSV, one row per item, with its file and play position.

    MEDIAHUB_URL=http://127.0.0.1:8000 MEDIAHUB_TOKEN=... python scripts/export_library.py -o library.csv

Uses only the HTTP API (httpx): the list, then each item's detail. The file is written to a
temporary name and renamed, so a reader never sees half a report; `-o -` prints to stdout.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from pathlib import Path

import httpx

COLUMNS = [
    "id", "type", "title", "year", "status", "progress", "tmdbId", "imdbId", "runtime", "genres",
    "infohash", "filePath", "fileSize", "addedAt", "lastPlayedAt", "playPosition", "playDuration",
]


def export(client: httpx.Client, media_type: str | None) -> str:
    items = client.get("/api/media", params={"type": media_type} if media_type else None).raise_for_status().json()
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in items:
        detail = client.get(f"/api/media/{item['id']}").raise_for_status().json()
        writer.writerow({**detail, "genres": "|".join(detail.get("genres") or [])})
    return out.getvalue()


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="-", help="CSV file to write, or - for stdout")
    parser.add_argument("--type", choices=["movie", "tv"], help="only movies or only shows")
    parser.add_argument("--url", default=os.environ.get("MEDIAHUB_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("MEDIAHUB_TOKEN"), help="API token (env MEDIAHUB_TOKEN)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("an API token is needed: --token or MEDIAHUB_TOKEN")
    with httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=30) as client:
        try:
            text = export(client, args.type)
        except httpx.HTTPStatusError as exc:
            print(f"export_library: {exc.response.json().get('message', exc)}", file=sys.stderr)
            return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_atomic(Path(args.output), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
