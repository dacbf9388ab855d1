"""Settings: every knob is a MEDIAHUB_* environment variable with a working default.

The `Settings` Struct below is the one settings table: each field is a row (its name, type
and default) with a `Setting` that says how to read the variable and what it means. The
variable's name is `MEDIAHUB_` plus the field's name in capitals. `Settings.from_env`, the
README's table (`python scripts/readme_settings.py` writes it; a test keeps it in step) and
`mediahub --help` are all made from these rows, so a new setting is one new field here.

A bad value is a `SettingsError` that names the variable, so a typo never turns into a
confusing failure later. Defaults that follow from another setting (the database in the data
dir, the image host of the TMDB image URL) are filled in by `__post_init__`.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

PREFIX = "MEDIAHUB_"
_HOST_RE = re.compile(r"[a-z0-9.\-\[\]:*]+")


class SettingsError(ValueError):
    """A MEDIAHUB_* variable holds a value we cannot use."""


@dataclass(frozen=True)
class Setting:
    """How one field is read from its variable, and what the README and `--help` say of it.

    `parse` turns the variable's text into the field's value (raising ValueError with the
    reason when it cannot); `shown` is the default as people should read it when the
    value itself would not say it (a derived or generated default).
    """

    parse: Callable[[str], Any]
    help: str
    shown: str | None = None


def _flag(raw: str) -> bool:
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("use 1 or 0")


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive whole number")
    return value


def _text(raw: str) -> str:
    return raw


def _path(raw: str) -> Path:
    return Path(raw)


def _token(raw: str) -> str:
    if len(raw) < 16:
        raise ValueError("a token needs at least 16 characters")
    return raw


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in {"sqlite", "postgres", "postgresql"}:
        raise ValueError("use sqlite:///path or postgresql://user:pw@host:port/db")
    return raw


def _listen(raw: str) -> str:
    """libtorrent listen_interfaces: comma-separated host:port pairs."""
    for item in raw.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("use host:port[,host:port]")
    return raw


def _seconds_list(raw: str) -> tuple[float, ...]:
    values = tuple(_positive_float(item) for item in raw.split(",") if item.strip())
    if not values:
        raise ValueError("use seconds separated by commas, like 30,120,600")
    return values


def _host_list(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for host in hosts:
        if not _HOST_RE.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name")
    return hosts


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, read once at start-up (`from_env`) or given in code (tests).

    The fields are the settings table: one per MEDIAHUB_* variable, in the README's order.
    """

    data_dir: Annotated[
        Path,
        Setting(_path, "database, `library/`, `downloads/`, `images/`, `state/`, `owner.token`", "`./mediahub-data`"),
    ] = Path("mediahub-data")
    database_url: Annotated[
        str,
        Setting(_database_url, "`sqlite:///path` or `postgresql://user:pw@host:port/db`", "SQLite file in the data dir"),
    ] = ""
    owner_token: Annotated[
        str | None, Setting(_token, "owner API token (at least 16 characters)", "generated on first start")
    ] = None
    torrent_listen: Annotated[
        str, Setting(_listen, "libtorrent listen interfaces (`127.0.0.1:0` in tests)")
    ] = "0.0.0.0:6881"
    torrent_dht: Annotated[bool, Setting(_flag, "set `0` to switch the DHT off")] = True
    torrent_lsd: Annotated[bool, Setting(_flag, "set `0` to switch local peer discovery off")] = True
    torrent_upnp: Annotated[bool, Setting(_flag, "set `0` to switch UPnP and NAT-PMP port mapping off")] = True
    tmdb_api_key: Annotated[
        str | None, Setting(_text, "v3 key or v4 read token; unset = no enrichment")
    ] = None
    tmdb_base_url: Annotated[str, Setting(_http_url, "tests point it at a local fake")] = "https://api.themoviedb.org/3"
    tmdb_image_base_url: Annotated[str, Setting(_http_url, "likewise")] = "https://image.tmdb.org/t/p"
    tmdb_timeout: Annotated[
        float,
        Setting(_positive_float, "seconds one TMDB or artwork request may take; its retries back off from a twentieth of it"),
    ] = 10.0
    tmdb_add_lookup: Annotated[
        float,
        Setting(
            _positive_float,
            "seconds an add may wait for TMDB to tell which show a magnet belongs to (so a second season joins"
            " the first); slower, the item is added alone and merged once TMDB answers",
        ),
    ] = 2.0
    tmdb_retry: Annotated[
        tuple[float, ...],
        Setting(
            _seconds_list,
            "seconds between enrichment attempts while TMDB or an image host is down; after the last, the item"
            " waits for the next start",
        ),
    ] = (30.0, 120.0, 600.0, 1800.0, 3600.0)
    image_hosts: Annotated[
        tuple[str, ...] | None,  # None until __post_init__ puts the TMDB image host there
        Setting(
            _host_list,
            "hosts a client-given posterUrl/backdropUrl may be fetched from (`host`, `host:port`, `*.domain`, `*`);"
            " private and loopback addresses only when listed by exact name",
            "the TMDB image host",
        ),
    ] = None
    magnet_hosts: Annotated[
        tuple[str, ...],
        Setting(
            _host_list,
            "hosts a magnet's trackers (`tr=`), web seeds (`ws=`) and peers (`x.pe=`) may point to, with the syntax"
            " and exact-name rule of IMAGE_HOSTS: a loopback, private or link-local target only when listed by exact"
            " name (`*,192.168.1.20` keeps public ones and adds a LAN tracker); anything else is dropped from the"
            " torrent with a log line, at every start too. Peers found through DHT or local discovery are not affected",
            "`*`: any host whose addresses are all public",
        ),
    ] = ("*",)
    stream_wait: Annotated[
        float, Setting(_positive_float, "seconds a stream waits for its first bytes before answering 202")
    ] = 10.0
    max_transcodes: Annotated[int, Setting(_positive_int, "concurrent transmux/transcode jobs")] = 2
    keep_original: Annotated[
        bool,
        Setting(
            _flag,
            "when a download had to be converted for browsers (an MKV became an MP4), `0` deletes the original"
            " once the library file is in place and nobody streams from it, and the torrent stops seeding;"
            " `1` keeps it in `downloads/`, and the torrent seeds on until the server stops. A download used as"
            " it is (an MP4) is hard-linked and costs no extra space either way",
        ),
    ] = False
    allowed_hosts: Annotated[
        tuple[str, ...],
        Setting(
            _host_list,
            "`Host` names the server answers, comma-separated; `*.example.org` for subdomains, `*` for any"
            " (DNS-rebinding guard: others get 400). Behind a reverse proxy, list its public name",
            "`localhost`, `127.0.0.1`, `::1` and the address the client connected to",
        ),
    ] = ()
    max_body_bytes: Annotated[int, Setting(_positive_int, "largest request body accepted (413 above)")] = 64 * 1024
    session_days: Annotated[
        int, Setting(_positive_int, "days a web app sign-in lasts (its cookie); signing out, revoking its token or deleting its profile ends it sooner")
    ] = 30

    def __post_init__(self) -> None:
        """Fill in the defaults that follow from other settings."""
        data_dir = self.data_dir.expanduser().absolute()
        msgspec.structs.force_setattr(self, "data_dir", data_dir)
        if not self.database_url:
            msgspec.structs.force_setattr(self, "database_url", f"sqlite:///{data_dir / 'mediahub.db'}")
        if self.image_hosts is None:
            host = urlsplit(self.tmdb_image_base_url).hostname or "image.tmdb.org"
            msgspec.structs.force_setattr(self, "image_hosts", (host,))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read MEDIAHUB_* variables; unset or empty means the default."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for row in table():
            raw = env.get(row.variable, "").strip()
            if not raw:
                continue
            try:
                values[row.field] = row.setting.parse(raw)
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"{row.variable}={raw!r} is not valid: {exc}") from None
        return cls(**values)

    @property
    def library_dir(self) -> Path:
        return self.data_dir / "library"

    @property
    def downloads_dir(self) -> Path:
        return self.data_dir / "downloads"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def state_dir(self) -> Path:
        """Resume data and other engine state."""
        return self.data_dir / "state"

    @property
    def owner_token_file(self) -> Path:
        return self.data_dir / "owner.token"


@dataclass(frozen=True)
class Row:
    """One row of the settings table, as the README and `--help` show it."""

    field: str
    variable: str
    default: str
    setting: Setting


@cache
def table() -> tuple[Row, ...]:
    """The settings table, read off the `Settings` fields."""
    rows = []
    for info in msgspec.structs.fields(Settings):
        setting = next(m for m in getattr(info.type, "__metadata__", ()) if isinstance(m, Setting))
        default = setting.shown or _shown(info.default)
        rows.append(Row(info.name, PREFIX + info.name.upper(), default, setting))
    return tuple(rows)


def _shown(value: object) -> str:
    """A plain default as the README shows it: what one would type into the variable."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, tuple):
        return f"`{','.join(_shown(v).strip('`') for v in value)}`" if value else "none"
    return f"`{value}`"


def markdown_table() -> str:
    """The README's settings table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| {row.variable} | {row.default} | {row.setting.help} |" for row in table()]
    return "\n".join(lines) + "\n"


def help_text(width: int = 79) -> str:
    """The settings for `mediahub --help`: each variable, its default, and what it does."""
    lines = ["settings (environment variables of the server and of --local):"]
    for row in table():
        lines.append(f"  {row.variable}  (default: {row.default.replace('`', '')})")
        lines += textwrap.wrap(row.setting.help.replace("`", ""), width, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return "\n".join(lines)
