"""Magnet parsing: what a user may paste, and what we refuse with a readable message."""

from __future__ import annotations

import base64

import pytest

from mediahub.torrents.magnet import MAX_MAGNET_LENGTH, InvalidMagnet, Magnet, parse_magnet

HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
B32 = base64.b32encode(bytes.fromhex(HEX)).decode()
V2 = "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb"


@pytest.mark.parametrize(
    ("link", "infohash", "name", "trackers", "peers"),
    [
        (f"magnet:?xt=urn:btih:{HEX}", HEX, None, (), ()),
        (f"magnet:?xt=urn:btih:{HEX.upper()}", HEX, None, (), ()),
        (f"magnet:?xt=urn:btih:{B32}", HEX, None, (), ()),
        (f"magnet:?xt=urn:btih:{B32.lower()}", HEX, None, (), ()),
        (f"  magnet:?xt=urn:btih:{HEX}\n", HEX, None, (), ()),
        (f"magnet:?xt=urn:btmh:1220{V2}", V2, None, (), ()),
        (f"magnet:?xt=urn:btmh:1220{V2}&xt=urn:btih:{HEX}", HEX, None, (), ()),
        (f"magnet:?xt.1=urn:btih:{HEX}&xt.2=urn:btmh:1220{V2}", HEX, None, (), ()),
        (
            f"magnet:?xt=urn:btih:{HEX}&dn=Big+Buck+Bunny%20(2008)&tr=udp%3A%2F%2Ft.example%3A80"
            "&tr=http://t2.example/announce&tr=udp%3A%2F%2Ft.example%3A80",
            HEX,
            "Big Buck Bunny (2008)",
            ("udp://t.example:80", "http://t2.example/announce"),
            (),
        ),
        (
            f"magnet:?dn=&xt=urn:btih:{HEX}&x.pe=127.0.0.1:6881&x.pe=[::1]:7000&tr.1=http://a/b",
            HEX,
            None,
            ("http://a/b",),
            ("127.0.0.1:6881", "[::1]:7000"),
        ),
        (f"magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0&xt=urn:btih:{HEX}", HEX, None, (), ()),
    ],
)
def test_valid_magnets(link: str, infohash: str, name: str | None, trackers: tuple, peers: tuple) -> None:
    magnet = parse_magnet(link)
    assert magnet == Magnet(infohash=infohash, display_name=name, trackers=trackers, peers=peers, link=link.strip())


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("", "not a magnet link"),
        ("https://example.com/file.torrent", "not a magnet link"),
        (f"urn:btih:{HEX}", "not a magnet link"),
        ("magnet:?dn=nothing", "xt parameter is missing"),
        ("magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0", "no BitTorrent info-hash"),
        (f"magnet:?xt=urn:btih:{HEX[:-1]}", "40 hexadecimal or 32 base32"),
        (f"magnet:?xt=urn:btih:{HEX}0", "40 hexadecimal or 32 base32"),
        ("magnet:?xt=urn:btih:" + "z" * 40, "40 hexadecimal or 32 base32"),
        ("magnet:?xt=urn:btih:" + "1" * 32, "40 hexadecimal or 32 base32"),
        (f"magnet:?xt=urn:btmh:1114{V2}", "v2 info-hash"),
        (f"magnet:?xt=urn:btmh:1220{V2[:-2]}", "v2 info-hash"),
        (f"magnet:?xt=urn:btih:{HEX}&tr=" + "a" * MAX_MAGNET_LENGTH, "too long"),
        # Ours would read these; libtorrent, which parses the link again when it adds it, does not.
        (f"MAGNET:?XT=URN:BTIH:{HEX}", "BitTorrent cannot use this magnet link"),
        (f"magnet:?xt=URN:BTIH:{HEX}", "BitTorrent cannot use this magnet link"),
        (f"magnet:?xt=urn:btih:{HEX}%20", "BitTorrent cannot use this magnet link"),
        (f"magnet:?xt=%20urn:btih:{HEX}", "BitTorrent cannot use this magnet link"),
        (f"magnet:?&&xt=urn:btih:{HEX}", "BitTorrent cannot use this magnet link"),
        (f"magnet:?xt=urn:btih:{HEX}&xt=urn:btih:{'0' * 40}", "more than one torrent"),
        (f"magnet:?xt=urn:btih:{'0' * 40}", "all zeros"),
    ],
)
def test_invalid_magnets(link: str, message: str) -> None:
    with pytest.raises(InvalidMagnet, match=message):
        parse_magnet(link)


def test_invalid_magnet_is_a_value_error_with_a_sentence() -> None:
    with pytest.raises(ValueError) as info:
        parse_magnet("hello")
    text = str(info.value)
    assert text[0].isupper() and text.endswith(".")


def test_magnet_is_immutable() -> None:
    magnet = parse_magnet(f"magnet:?xt=urn:btih:{HEX}")
    with pytest.raises(AttributeError):
        magnet.infohash = "x"  # type: ignore[misc]
