"""Poster/backdrop fetching and caching, safe against SSRF.

A client may hand us any `posterUrl`. Fetching it blindly lets anyone with a token make
the server request internal addresses (Jellyfin's image-proxy hole). So a URL is fetched
only when: the scheme is http(s); the host is in `settings.image_hosts`; every address the
host resolves to is public, unless that exact host is listed (the operator vouches for
it). URLs we build for TMDB's CDN also trust the configured `tmdb_image_base_url` host. We then connect to the address we checked, not a
second DNS answer, and re-check every redirect hop. The body must fit the size cap and
time cap and start with JPEG, PNG or WebP magic bytes.

Content type: the stored file is always named `<kind>.jpg` (API.md's URL), but the bytes
are kept as served — a PNG stays a PNG. The served `Content-Type` comes from the magic
bytes (`image_type`), never from the remote server's header, which we ignore.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

import anyio
import httpx

from mediahub.files import write_atomic
from mediahub.settings import Settings

log = logging.getLogger(__name__)

ImageKind = Literal["poster", "backdrop"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IMAGE_KINDS: tuple[ImageKind, ...] = ("poster", "backdrop")
# TMDB sizes: w500 is plenty for a poster card, w1280 for a backdrop behind a player.
TMDB_SIZES: dict[ImageKind, str] = {"poster": "w500", "backdrop": "w1280"}

_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ImageError(Exception):
    """An image could not be stored; the message says why in plain words."""


class ImageRejected(ImageError):
    """Refused by policy (host, address, scheme, size, not an image). Do not retry."""


class ImageUnavailable(ImageError):
    """Network trouble or a 5xx/timeout: trying later may work."""


def image_type(head: bytes) -> str | None:
    """MIME type from magic bytes, or None if this is not a JPEG/PNG/WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImageStore:
    """Images under `settings.images_dir / <media_id> / <kind>.jpg`, fetched safely."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        max_bytes: int = 10 * 1024 * 1024,
        time_limit: float = 20.0,
        max_redirects: int = 3,
    ) -> None:
        self._http = http
        self._root = settings.images_dir
        self._tmdb_base = settings.tmdb_image_base_url.rstrip("/")
        tmdb_host = (urlsplit(self._tmdb_base).hostname or "").lower()
        self._hosts = tuple(h.lower() for h in settings.image_hosts)
        self._tmdb_hosts = self._hosts + ((tmdb_host,) if tmdb_host else ())
        self._max_bytes = max_bytes
        self._time_limit = time_limit
        self._max_redirects = max_redirects

    def path(self, media_id: str, kind: ImageKind) -> Path:
        if not _MEDIA_ID.fullmatch(media_id) or kind not in IMAGE_KINDS:
            raise ValueError("not a media id / image kind")
        return self._root / media_id / f"{kind}.jpg"

    def exists(self, media_id: str, kind: ImageKind) -> bool:
        return self.path(media_id, kind).is_file()

    def tmdb_url(self, kind: ImageKind, tmdb_path: str) -> str:
        """The CDN URL of a TMDB image file path (`/abc.jpg`) at our standard size."""
        if not re.fullmatch(r"/[A-Za-z0-9_.-]+", tmdb_path) or ".." in tmdb_path:
            raise ImageRejected(f"{tmdb_path!r} is not a TMDB image path")
        return f"{self._tmdb_base}/{TMDB_SIZES[kind]}{tmdb_path}"

    async def fetch_tmdb(self, media_id: str, kind: ImageKind, tmdb_path: str) -> Path:
        """Store a TMDB image given its file path, at our standard size."""
        return await self._store(media_id, kind, self.tmdb_url(kind, tmdb_path), self._tmdb_hosts)

    async def fetch_url(self, media_id: str, kind: ImageKind, url: str) -> Path:
        """Fetch a client-given `url` under the SSRF rules above and store it atomically."""
        return await self._store(media_id, kind, url, self._hosts)

    async def _store(self, media_id: str, kind: ImageKind, url: str, hosts: tuple[str, ...]) -> Path:
        target = self.path(media_id, kind)
        try:
            with anyio.fail_after(self._time_limit):
                data = await self._download(url, hosts)
        except TimeoutError:
            raise ImageUnavailable(f"image download took longer than {self._time_limit:g}s") from None
        await anyio.to_thread.run_sync(write_atomic, target, data)  # a cache: not durable, it can be fetched again
        return target

    async def remove(self, media_id: str) -> None:
        """Forget a media item's images (on delete)."""
        folder = self._root / media_id
        if _MEDIA_ID.fullmatch(media_id):
            await anyio.to_thread.run_sync(_remove_folder, folder)

    async def _download(self, url: str, hosts: tuple[str, ...]) -> bytes:
        for _ in range(self._max_redirects + 1):
            response = await self._send(await self._safe_requests(url, hosts))
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    cls = ImageUnavailable if response.status_code >= 500 else ImageRejected
                    raise cls(f"the image host answered HTTP {response.status_code}")
                return await self._read_capped(response)
            finally:
                await response.aclose()
        raise ImageRejected(f"more than {self._max_redirects} redirects")

    async def _send(self, requests: list[httpx.Request]) -> httpx.Response:
        """Try the checked addresses in turn (IPv4 first) until one connects."""
        problem = "could not be reached"
        for request in requests:
            try:
                return await self._http.send(request, stream=True, follow_redirects=False)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem = f"could not be reached ({type(exc).__name__})"
            except httpx.TimeoutException:
                raise ImageUnavailable("the image host timed out") from None
            except httpx.TransportError as exc:
                raise ImageUnavailable(f"the image host failed ({type(exc).__name__})") from None
        raise ImageUnavailable(f"the image host {problem}")

    async def _safe_requests(self, url: str, hosts: tuple[str, ...]) -> list[httpx.Request]:
        """Check scheme, host and addresses; one request per checked IP, pinned to it.

        Pinning means the connection goes to an address we checked, not to whatever a
        second DNS lookup (rebinding) would answer; Host and TLS SNI keep the name.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ImageRejected("only http(s) image URLs are fetched")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host or parts.username or parts.password:
            raise ImageRejected("the image URL has no usable host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ImageRejected("the image URL has a bad port") from None
        allowed, explicit = _host_allowed(host, port, hosts)
        if not allowed:
            raise ImageRejected(f"images are not fetched from {host} (not in MEDIAHUB_IMAGE_HOSTS)")
        addresses = await _resolve(host, port)
        if not explicit and not all(is_public_address(a) for a in addresses):
            raise ImageRejected(f"{host} resolves to a non-public address")
        headers = {"Host": parts.netloc, "Accept": "image/jpeg,image/png,image/webp"}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        timeout = httpx.Timeout(10.0, connect=5.0)
        return [
            self._http.build_request("GET", httpx.URL(url).copy_with(host=str(address)), headers=headers,
                                     extensions=extensions, timeout=timeout)
            for address in sorted(dict.fromkeys(addresses), key=lambda a: a.version)
        ]

    async def _read_capped(self, response: httpx.Response) -> bytes:
        too_big = ImageRejected(f"the image is larger than {self._max_bytes // (1024 * 1024)} MB")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise too_big
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > self._max_bytes:
                    raise too_big
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise ImageUnavailable("the image host timed out") from None
        except httpx.TransportError as exc:
            raise ImageUnavailable(f"the image download broke off ({type(exc).__name__})") from None
        data = b"".join(chunks)
        if image_type(data[:16]) is None:
            raise ImageRejected("the URL did not return a JPEG, PNG or WebP image")
        return data


def _host_allowed(host: str, port: int, entries: tuple[str, ...]) -> tuple[bool, bool]:
    """(allowed, explicitly listed). Entries: `host`, `host:port`, `[v6]`, `*.domain`, `*`.

    Only an exact entry vouches for a non-public address; a wildcard never does.
    """
    allowed = False
    for entry in entries:
        name, entry_port = _split_entry(entry)
        if entry_port is not None and entry_port != port:
            continue
        if name == host:
            return True, True
        if name == "*" or (name.startswith("*.") and host.endswith(name[1:])):
            allowed = True
    return allowed, False


def _split_entry(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    name, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return entry, None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal IP resolves to itself).

    The caller checks them all, so a name answering one public and one private address
    is refused.
    """
    try:
        return [_unmapped(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ImageUnavailable(f"{host} could not be resolved") from None
    addresses = [_unmapped(ipaddress.ip_address(info[4][0])) for info in infos]
    if not addresses:
        raise ImageUnavailable(f"{host} could not be resolved")
    return addresses


def is_public_address(address: IPAddress) -> bool:
    """Routable on the internet: not loopback, private, link-local, multicast or reserved."""
    return address.is_global and not (
        address.is_loopback or address.is_private or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
    )


def _unmapped(address: IPAddress) -> IPAddress:
    """::ffff:10.0.0.1 is 10.0.0.1 as far as safety goes."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _remove_folder(folder: Path) -> None:
    if folder.is_dir():
        for child in folder.iterdir():
            child.unlink(missing_ok=True)
        folder.rmdir()
