"""The `mediahub` command: run the server, or drive one from a terminal.

Every command but `serve` calls the HTTP API: of a running server (`--url`/`MEDIAHUB_URL`,
token from `--token`, `MEDIAHUB_TOKEN`, `MEDIAHUB_OWNER_TOKEN` or `<data dir>/owner.token`),
or, with `--local`, of a Hub opened in this process (`hub.client`, no server or token). The
same routes answer either way, so the commands below do not care which one it was. A failure
is one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import msgspec

from mediahub.api.client import raise_for_error
from mediahub.display import human_size
from mediahub.errors import MediahubError
from mediahub.settings import Settings, SettingsError, help_text

DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL_STATUSES = {"ready", "error"}
WATCH_INTERVAL = 0.5


class CliError(Exception):
    """Something the user can fix; printed as one line."""


class Backend:
    """What the commands need, as calls of the HTTP API; answers are its JSON (camelCase dicts)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> None:
        self._client = client
        self._headers = headers or {}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, headers=self._headers, **kwargs)
        except httpx.TransportError as exc:
            raise CliError(f"cannot reach mediahub at {self._client.base_url} ({exc}); is `mediahub serve` running?")
        try:
            raise_for_error(response)
        except MediahubError as exc:
            raise CliError(f"{exc.message} (HTTP {response.status_code})") from None
        return response.json()

    async def add(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/api/media", json=body)

    async def list(self, media_type: str | None) -> list[dict[str, Any]]:
        return await self._call("GET", "/api/media", params={"type": media_type} if media_type else None)

    async def progress(self, media_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/media/{media_id}/progress")

    async def profiles(self) -> list[dict[str, Any]]:
        return await self._call("GET", "/api/profiles")

    async def create_token(self, profile_id: str, label: str | None) -> dict[str, Any]:
        return await self._call("POST", f"/api/profiles/{profile_id}/tokens", json={"label": label})


# ---- where things are --------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if args.data_dir:
        env["MEDIAHUB_DATA_DIR"] = str(args.data_dir)
    try:
        return Settings.from_env(env)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _token(args: argparse.Namespace) -> str:
    """Flag, then env, then the owner token file the server wrote on its first start."""
    token = args.token or os.environ.get("MEDIAHUB_TOKEN") or os.environ.get("MEDIAHUB_OWNER_TOKEN")
    if token:
        return token.strip()
    token_file = _settings(args).owner_token_file
    try:
        return token_file.read_text().strip()
    except OSError:
        raise CliError(f"no API token: pass --token, set MEDIAHUB_TOKEN, or point --data-dir at a data dir with owner.token (looked in {token_file})") from None


@asynccontextmanager
async def _backend(args: argparse.Namespace) -> AsyncIterator[Backend]:
    headers = {"X-Profile-Id": args.profile} if args.profile else {}
    if args.local:
        from mediahub.hub import Hub

        async with Hub.open(_settings(args)) as hub:
            yield Backend(hub.client, headers)
        return
    headers["Authorization"] = f"Bearer {_token(args)}"
    url = args.url or os.environ.get("MEDIAHUB_URL") or DEFAULT_URL
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=30) as client:
        yield Backend(client, headers)


# ---- commands ----------------------------------------------------------------------------


async def cmd_add(backend: Backend, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"magnetLink": args.magnet}
    for key, value in (("type", args.type), ("title", args.title), ("year", args.year), ("tmdbId", args.tmdb_id)):
        if value is not None:
            body[key] = value
    media = await backend.add(body)
    print(f"{media['id']}\t{media['status']}\t{_title(media)}")


async def cmd_ls(backend: Backend, args: argparse.Namespace) -> None:
    items = await backend.list(args.type)
    if args.json:
        print(msgspec.json.encode(items).decode())
        return
    if not items:
        print("The library is empty; add a magnet with `mediahub add MAGNET`.")
        return
    print(f"{'ID':<16}  {'TYPE':<5}  {'STATUS':<11}  {'PROGRESS':>8}  TITLE")
    for item in items:
        print(f"{item['id']:<16}  {item['type']:<5}  {item['status']:<11}  {item['progress']:>7.1f}%  {_title(item)}")


async def cmd_watch(backend: Backend, args: argparse.Namespace) -> None:
    """Redraw one line in a terminal; print a line per change when piped (logs, tests)."""
    tty = sys.stdout.isatty()
    last = ""
    while True:
        progress = await backend.progress(args.id)
        line = render_progress(progress)
        if tty:
            print("\r" + line.ljust(len(last)), end="", flush=True)
        elif line != last:
            print(line, flush=True)
        last = line
        if progress["status"] in TERMINAL_STATUSES:
            break
        await asyncio.sleep(WATCH_INTERVAL)
    if tty:
        print()
    if progress["status"] == "error":
        raise CliError(f"download failed: {progress.get('error') or 'unknown error'}")


async def cmd_token(backend: Backend, args: argparse.Namespace) -> None:
    created = await backend.create_token(args.profile_for, args.label)
    print(created["token"])


async def cmd_profiles(backend: Backend, args: argparse.Namespace) -> None:
    for profile in await backend.profiles():
        print(f"{profile['id']}\t{profile['name']}")


def render_progress(p: dict[str, Any], width: int = 30) -> str:
    filled = round(width * p["progress"] / 100)
    line = f"[{'#' * filled}{'.' * (width - filled)}] {p['progress']:5.1f}%  {p['status']}"
    if p.get("downloadSpeed") is not None:
        line += f"  {human_size(p['downloadSpeed'])}/s  {p.get('peers', 0)} peers"
    return line


def _title(item: dict[str, Any]) -> str:
    return f"{item['title']} ({item['year']})" if item.get("year") else item["title"]


def serve(args: argparse.Namespace) -> None:
    """Like `uvicorn mediahub:app`, with the same host/port defaults."""
    import uvicorn

    from mediahub.api.app import create_app

    uvicorn.run(create_app(settings=_settings(args)), host=args.host, port=args.port, log_level=args.log_level)


# ---- argument parsing ----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with our one-line errors (no usage dump); exit code 2 as usual for usage errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mediahub: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mediahub",
        description="Self-hosted media library: magnet in, streaming video out.",
        epilog=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's layout
    )
    parser.add_argument("--url", help=f"server URL (env MEDIAHUB_URL; default {DEFAULT_URL})")
    parser.add_argument("--token", help="API token (env MEDIAHUB_TOKEN; default: <data dir>/owner.token)")
    parser.add_argument("--profile", help="act as this profile id (owner token only)")
    parser.add_argument("--data-dir", type=Path, help="data directory (env MEDIAHUB_DATA_DIR; default ./mediahub-data)")
    parser.add_argument("--local", action="store_true", help="open the library in this process instead of calling a server")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("serve", help="run the HTTP server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    p = commands.add_parser("add", help="add a magnet link")
    p.add_argument("magnet")
    p.add_argument("--type", choices=["movie", "tv"])
    p.add_argument("--title")
    p.add_argument("--year", type=int)
    p.add_argument("--tmdb-id", type=int)
    p.set_defaults(run=cmd_add)

    p = commands.add_parser("ls", help="list the library, newest first")
    p.add_argument("--type", choices=["movie", "tv"])
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(run=cmd_ls)

    p = commands.add_parser("watch", help="show a progress bar until the download is ready")
    p.add_argument("id")
    p.set_defaults(run=cmd_watch)

    p = commands.add_parser("token", help="print the token in use, or create one for a profile")
    p.add_argument("--create", dest="profile_for", metavar="PROFILE_ID", help="create a token bound to this profile")
    p.add_argument("--label")
    p.set_defaults(run=cmd_token)

    commands.add_parser("profiles", help="list profiles").set_defaults(run=cmd_profiles)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(args)
        elif args.command == "token" and not args.profile_for:
            print(_token(args))
        else:
            asyncio.run(_run(args))
    except CliError as exc:
        print(f"mediahub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def app_main() -> int:
    """Entry of the single-file app (`python mediahub.pyz`): no arguments means `serve`."""
    return main(sys.argv[1:] or ["serve"])


async def _run(args: argparse.Namespace) -> None:
    async with _backend(args) as backend:
        await args.run(backend, args)


if __name__ == "__main__":
    sys.exit(main())
