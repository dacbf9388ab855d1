"""Magnet link parsing: the only way a user's torrent enters mediahub.

Parsing is strict up front so a bad paste fails with a sentence the user can act on,
before anything is stored or handed to libtorrent. libtorrent parses the link again when it
adds the torrent, so its own parser must accept it too, and read the same info-hash.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qsl

import libtorrent as lt
import msgspec

from mediahub.torrents.paths import without_format_characters

MAX_MAGNET_LENGTH = 16 * 1024

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")
_BASE32 = re.compile(r"[A-Za-z2-7]{32}")
_MULTIHASH_SHA256 = re.compile(r"1220([0-9a-fA-F]{64})")
# Magnet keys may carry an index suffix: xt.1, tr.2, ...
_INDEXED_KEY = re.compile(r"^(?P<key>[a-z.]+?)(?:\.\d+)?$")
# Raw or percent-encoded: a NUL cannot be stored in PostgreSQL text, and a newline in a name
# would forge lines in logs and the CLI's output.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LIBTORRENT_CODE = re.compile(r"\s*\[libtorrent:\d+\]$")


class InvalidMagnet(ValueError):
    """The text is not a usable magnet link; the message is shown to the user."""


class Magnet(msgspec.Struct, frozen=True):
    infohash: str
    display_name: str | None
    trackers: tuple[str, ...]
    peers: tuple[str, ...]
    link: str


def parse_magnet(link: str) -> Magnet:
    """Parse a magnet URI into its info-hash, name, trackers and peers."""
    link = link.strip()
    if len(link) > MAX_MAGNET_LENGTH:
        raise InvalidMagnet(f"The magnet link is too long (over {MAX_MAGNET_LENGTH} characters).")
    if not link.lower().startswith("magnet:?"):
        raise InvalidMagnet("This is not a magnet link: it must start with 'magnet:?'.")
    params: dict[str, list[str]] = {}
    for raw_key, value in parse_qsl(link[len("magnet:?") :], keep_blank_values=True):
        if _CONTROL.search(raw_key + value):
            raise InvalidMagnet("The magnet link contains control characters.")
        match = _INDEXED_KEY.match(raw_key.lower())
        if match:
            params.setdefault(match["key"], []).append(value.strip())
    names = [name for name in (without_format_characters(dn).strip() for dn in params.get("dn", [])) if name]
    infohash = _infohash(params.get("xt", []))
    _check_libtorrent_reads(link, infohash)
    return Magnet(
        infohash=infohash,
        display_name=names[0] if names else None,
        trackers=_unique(params.get("tr", [])),
        peers=_unique(params.get("x.pe", [])),
        link=link,
    )


def _infohash(topics: list[str]) -> str:
    """The v1 hash when present (what libtorrent and peers key on), else the v2 hash.

    One torrent only: at most one v1 and one v2 hash (a hybrid torrent has both). Several
    would leave us keyed on one torrent while libtorrent adds another.
    """
    v1: set[str] = set()
    v2: set[str] = set()
    for topic in topics:
        scheme, _, value = topic.rpartition(":")
        scheme = scheme.lower()
        if scheme == "urn:btih":
            v1.add(_btih(value))
        elif scheme == "urn:btmh":
            match = _MULTIHASH_SHA256.fullmatch(value)
            if not match:
                raise InvalidMagnet("The magnet link's v2 info-hash (urn:btmh) is not a valid SHA-256 hash.")
            v2.add(match[1].lower())
    if len(v1) > 1 or len(v2) > 1:
        raise InvalidMagnet("The magnet link names more than one torrent (several info-hashes); add them one by one.")
    if v1 or v2:
        return min(v1 or v2)
    if topics:
        raise InvalidMagnet("The magnet link has no BitTorrent info-hash (xt=urn:btih:... or urn:btmh:...).")
    raise InvalidMagnet("The magnet link has no info-hash (the xt parameter is missing).")


def _check_libtorrent_reads(link: str, infohash: str) -> None:
    try:
        hashes = lt.parse_magnet_uri(link).info_hashes
    except UnicodeEncodeError:
        raise InvalidMagnet("The magnet link holds characters that are not valid text.") from None
    except RuntimeError as exc:
        reason = _LIBTORRENT_CODE.sub("", str(exc))
        raise InvalidMagnet(
            f"BitTorrent cannot use this magnet link ({reason}): it must start with 'magnet:?' and name its "
            "info-hash as xt=urn:btih:... (or urn:btmh:...), in lower case, with nothing around the hash."
        ) from None
    read = {str(hashes.v1)} if hashes.has_v1() else {str(hashes.v2)} if hashes.has_v2() else set()
    if not read:  # libtorrent takes a hash of zeros for none
        raise InvalidMagnet("The magnet link's info-hash is all zeros.")
    if infohash not in read:
        raise InvalidMagnet("BitTorrent reads another info-hash from this magnet link.")


def _btih(value: str) -> str:
    if _HEX40.fullmatch(value):
        return value.lower()
    if _BASE32.fullmatch(value):
        try:
            return base64.b32decode(value.upper()).hex()
        except binascii.Error:
            pass
    raise InvalidMagnet("The magnet link's info-hash must be 40 hexadecimal or 32 base32 characters.")


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
