"""Settings: every knob is a MEDIAHUB_* environment variable with a working default.

One frozen msgspec Struct, parsed once at start-up. A bad value is a `SettingsError`
that names the variable, so a typo never turns into a confusing failure later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import msgspec

T = TypeVar("T")

_HOST_RE = re.compile(r"[a-z0-9.\-\[\]:*]+")
DEFAULT_TMDB_BASE_URL = "https://api.themoviedb.org/3"
DEFAULT_TMDB_IMAGE_BASE_URL = "https://image.tmdb.org/t/p"


class SettingsError(ValueError):
    """A MEDIAHUB_* variable holds a value we cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path = Path("mediahub-data")
    database_url: str = ""
    owner_token: str | None = None
    torrent_listen: str = "0.0.0.0:6881"
    torrent_dht: bool = True
    torrent_lsd: bool = True
    torrent_upnp: bool = True
    tmdb_api_key: str | None = None
    tmdb_base_url: str = DEFAULT_TMDB_BASE_URL
    tmdb_image_base_url: str = DEFAULT_TMDB_IMAGE_BASE_URL
    image_hosts: tuple[str, ...] = ("image.tmdb.org",)
    magnet_hosts: tuple[str, ...] = ("*",)  # any host whose addresses are all public
    stream_wait: float = 10.0
    max_transcodes: int = 2
    keep_original: bool = False
    allowed_hosts: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read MEDIAHUB_* variables; unset or empty means the default."""
        env = os.environ if env is None else env
        data_dir = Path(_get(env, "DATA_DIR", str, "mediahub-data")).expanduser().absolute()
        database_url = _get(env, "DATABASE_URL", _database_url, "") or f"sqlite:///{data_dir / 'mediahub.db'}"
        image_base = _get(env, "TMDB_IMAGE_BASE_URL", _http_url, DEFAULT_TMDB_IMAGE_BASE_URL)
        default_image_hosts = (urlsplit(image_base).hostname or "image.tmdb.org",)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            owner_token=_get(env, "OWNER_TOKEN", _token, None),
            torrent_listen=_get(env, "TORRENT_LISTEN", _listen, "0.0.0.0:6881"),
            torrent_dht=_get(env, "TORRENT_DHT", _flag, True),
            torrent_lsd=_get(env, "TORRENT_LSD", _flag, True),
            torrent_upnp=_get(env, "TORRENT_UPNP", _flag, True),
            tmdb_api_key=_get(env, "TMDB_API_KEY", str, None),
            tmdb_base_url=_get(env, "TMDB_BASE_URL", _http_url, DEFAULT_TMDB_BASE_URL),
            tmdb_image_base_url=image_base,
            image_hosts=_get(env, "IMAGE_HOSTS", _host_list, default_image_hosts),
            magnet_hosts=_get(env, "MAGNET_HOSTS", _host_list, ("*",)),
            stream_wait=_get(env, "STREAM_WAIT", _positive_float, 10.0),
            max_transcodes=_get(env, "MAX_TRANSCODES", _positive_int, 2),
            keep_original=_get(env, "KEEP_ORIGINAL", _flag, False),
            allowed_hosts=_get(env, "ALLOWED_HOSTS", _host_list, ()),
            max_body_bytes=_get(env, "MAX_BODY_BYTES", _positive_int, 64 * 1024),
        )

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


def _get(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(f"MEDIAHUB_{name}", "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"MEDIAHUB_{name}={raw!r} is not valid: {exc}") from None


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


def _host_list(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for host in hosts:
        if not _HOST_RE.fullmatch(host):
            raise ValueError(f"{host!r} is not a host name")
    return hosts
