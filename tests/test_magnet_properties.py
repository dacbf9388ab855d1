"""Properties of the magnet parser over generated input: whatever a user pastes, the answer is
a usable info-hash or an `InvalidMagnet` sentence, never a crash."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, quote_plus

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mediahub.torrents.magnet import MAX_MAGNET_LENGTH, InvalidMagnet, parse_magnet
from mediahub.torrents.paths import without_format_characters

HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(lambda s: s.strip())
urls = st.from_regex(r"(udp|http|https)://[a-z0-9.]{1,20}(:[0-9]{1,5})?/[a-z]{0,10}", fullmatch=True)


@settings(max_examples=300)
@given(st.text(max_size=300))
@example("magnet:?xt=urn:btih:")
@example("magnet:?xt=urn:btih:%00%00")
@example("magnet:?xt=urn:btmh:1220")
@example("magnet:?&&&=&xt&xt=")
@example("magnet:?xt=urn:btih:" + "=" * 32)
def test_any_text_is_a_magnet_or_a_sentence(text: str) -> None:
    for candidate in (text, "magnet:?" + text, "magnet:?xt=urn:btih:" + text):
        try:
            magnet = parse_magnet(candidate)
        except InvalidMagnet as exc:
            assert str(exc)[0].isupper() and str(exc).endswith(".")
        else:
            assert HASH.fullmatch(magnet.infohash)


@settings(max_examples=200)
@given(
    digest=st.binary(min_size=20, max_size=20).filter(any),  # all zeros is no hash (test_magnet.py)
    form=st.sampled_from(["hex", "HEX", "base32", "b32lower"]),
    name=st.none() | names,
    trackers=st.lists(urls, max_size=4),
    peers=st.lists(st.from_regex(r"127\.0\.0\.1:[0-9]{1,5}", fullmatch=True), max_size=3),
    plus_for_space=st.booleans(),
)
def test_v1_magnets_round_trip(
    digest: bytes, form: str, name: str | None, trackers: list[str], peers: list[str], plus_for_space: bool
) -> None:
    encoded = {
        "hex": digest.hex(),
        "HEX": digest.hex().upper(),
        "base32": base64.b32encode(digest).decode(),
        "b32lower": base64.b32encode(digest).decode().lower(),
    }[form]
    encode = quote_plus if plus_for_space else quote
    parts = [f"xt=urn:btih:{encoded}"]
    if name is not None:
        parts.append(f"dn={encode(name, safe='')}")
    parts += [f"tr={encode(t, safe='')}" for t in trackers] + [f"x.pe={p}" for p in peers]
    magnet = parse_magnet("magnet:?" + "&".join(parts))
    assert magnet.infohash == digest.hex()
    assert magnet.display_name == ((without_format_characters(name).strip() or None) if name is not None else None)
    assert magnet.trackers == tuple(dict.fromkeys(trackers))
    assert magnet.peers == tuple(dict.fromkeys(peers))


@given(
    digest=st.binary(min_size=32, max_size=32).filter(any),
    v1=st.none() | st.binary(min_size=20, max_size=20).filter(any),
)
def test_v2_and_hybrid_magnets(digest: bytes, v1: bytes | None) -> None:
    link = f"magnet:?xt=urn:btmh:1220{digest.hex()}"
    if v1 is not None:
        link += f"&xt=urn:btih:{v1.hex()}"
    assert parse_magnet(link).infohash == (v1.hex() if v1 else digest.hex())  # v1 is what peers key on


@given(st.integers(1, 64).filter(lambda n: n not in (32, 40)), st.booleans())
def test_wrong_length_hashes_are_refused(length: int, hexadecimal: bool) -> None:
    value = ("a" if hexadecimal else "z") * length
    try:
        parse_magnet(f"magnet:?xt=urn:btih:{value}")
    except InvalidMagnet as exc:
        assert "40 hexadecimal or 32 base32" in str(exc)
    else:
        raise AssertionError(f"accepted a {length}-character info-hash")


@given(st.integers(1, 1000))
def test_overlong_links_are_refused_before_parsing(extra: int) -> None:
    link = f"magnet:?xt=urn:btih:{'a' * 40}&tr=" + "x" * (MAX_MAGNET_LENGTH + extra)
    try:
        parse_magnet(link)
    except InvalidMagnet as exc:
        assert "too long" in str(exc)
    else:
        raise AssertionError("accepted an over-long magnet")


@given(name=names, control=st.characters(min_codepoint=0, max_codepoint=31) | st.just("\x7f"), at=st.integers(0, 80))
def test_control_characters_are_refused(name: str, control: str, at: int) -> None:
    """Raw or percent-encoded: PostgreSQL cannot store a NUL, and a newline would forge log lines."""
    bad = name[:at] + control + name[at:]
    for link in (f"magnet:?xt=urn:btih:{'a' * 40}&dn={quote(bad, safe='')}", f"magnet:?xt=urn:btih:{'a' * 40}&dn={bad}x"):
        try:
            parse_magnet(link)
        except InvalidMagnet as exc:
            assert "control characters" in str(exc)
        else:
            raise AssertionError(f"accepted {link!r}")
