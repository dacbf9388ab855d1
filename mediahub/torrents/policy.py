"""The address policy (`mediahub/addresses.py`) for what a torrent reaches on a magnet's word.

A magnet names trackers (`tr=`), web seeds (`ws=`), peers (`x.pe=`) and DHT nodes (`dht=`):
HTTP requests, UDP packets and TCP connections to any address a token holder picks. They
pass MEDIAHUB_MAGNET_HOSTS every time the engine adds a torrent, so the policy also holds
for the stored magnets and the resume data (which carries trackers and peers) of a restart.
What fails is dropped with a log line, the magnet is not refused: these are optional hints
(the info-hash is the torrent, DHT finds it without them); public magnets carry long tracker
lists where a dead domain may point at 127.0.0.1; an answer that named the refused host
would tell a token holder how internal names resolve; and a restart cannot refuse anyway.
Peers that libtorrent finds itself (DHT, local discovery, trackers, PEX) are not judged here.

Second layer, inside libtorrent: `ssrf_mitigation` (a loopback tracker must use /announce,
a local web seed gets no query string, a public web seed may not redirect to a local
address) and `ip_filter`, which keeps trackers, web seeds and peers off loopback and
link-local addresses (169.254.169.254 is a cloud's metadata service) unless listed, checked
when libtorrent connects: a tracker name that resolves elsewhere later is still caught.
Private ranges stay open there, for peers on the local network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

import libtorrent as lt

from mediahub.addresses import IPAddress, allowed_addresses, listed_names, resolve

log = logging.getLogger(__name__)

SETTING = "MEDIAHUB_MAGNET_HOSTS"
CHECK_TIMEOUT = 5.0  # seconds for all the name lookups of one torrent
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKER_SCHEMES = ("http", "https", "udp")
_WEB_SEED_SCHEMES = ("http", "https")
_GUARDED_RANGES = (
    ("0.0.0.0", "0.255.255.255"),
    ("127.0.0.0", "127.255.255.255"),
    ("169.254.0.0", "169.254.255.255"),
    ("::", "::1"),
)
_BLOCKED = 1  # lt.ip_filter's `blocked` access flag

Target = tuple[str, int]


async def apply_policy(params: lt.add_torrent_params, entries: tuple[str, ...], infohash: str) -> None:
    """Drop from `params`, in place, every tracker, web seed, peer and DHT node the policy refuses."""
    tiers = list(params.tracker_tiers)[: len(params.trackers)]
    tiers += [0] * (len(params.trackers) - len(tiers))  # libtorrent's own default for a missing tier
    found = {
        "tracker": [((url, tier), _url_target(url, _TRACKER_SCHEMES)) for url, tier in zip(params.trackers, tiers)],
        "web seed": [(url, _url_target(url, _WEB_SEED_SCHEMES)) for url in params.url_seeds],
        "HTTP seed": [(url, _url_target(url, _WEB_SEED_SCHEMES)) for url in params.http_seeds],
        "peer": [(peer, (str(peer[0]), int(peer[1]))) for peer in params.peers],
        "DHT node": [(node, (str(node[0]), int(node[1]))) for node in params.dht_nodes],
    }
    refused = await _refused({target for items in found.values() for _, target in items if target}, entries)
    kept: dict[str, list] = {}
    for kind, items in found.items():
        kept[kind] = []
        for value, target in items:
            reason = refused.get(target) if target else "no host we can check"
            if reason is None:
                kept[kind].append(value)
            else:  # host and port only: a tracker URL may hold a passkey
                where = f"{target[0]}:{target[1]}" if target else "?"
                log.warning("torrent %s: %s %s dropped (%s)", infohash, kind, where, reason)
    params.trackers = [url for url, _ in kept["tracker"]]
    params.tracker_tiers = [tier for _, tier in kept["tracker"]]
    params.url_seeds = kept["web seed"]
    params.http_seeds = kept["HTTP seed"]
    params.peers = kept["peer"]
    params.dht_nodes = kept["DHT node"]


async def ip_filter(entries: tuple[str, ...]) -> lt.ip_filter:
    """libtorrent's IP filter for the second layer: loopback and link-local addresses are
    blocked, except those the list names (names resolved now)."""
    rules = lt.ip_filter()
    for first, last in _GUARDED_RANGES:
        rules.add_rule(first, last, _BLOCKED)
    for address in await _listed_addresses(entries):
        rules.add_rule(str(address), str(address), 0)
    return rules


async def _listed_addresses(entries: tuple[str, ...]) -> list[IPAddress]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            found = await asyncio.gather(*(resolve(name, 0) for name in listed_names(entries)), return_exceptions=True)
    except TimeoutError:
        found = []
    for name, result in zip(listed_names(entries), found):
        if isinstance(result, Exception):
            log.warning("%s lists %s, which does not resolve: libtorrent may not reach it", SETTING, name)
    return [address for result in found if isinstance(result, list) for address in result]


async def _refused(targets: Iterable[Target], entries: tuple[str, ...]) -> dict[Target, str]:
    """Why each refused (host, port) is refused; names resolve concurrently, in CHECK_TIMEOUT."""
    checks = {target: asyncio.ensure_future(allowed_addresses(*target, entries, SETTING)) for target in targets}
    if checks:
        await asyncio.wait(checks.values(), timeout=CHECK_TIMEOUT)
    refused = {}
    for target, check in checks.items():
        if not check.done():
            check.cancel()
            refused[target] = "its name did not resolve in time"
        elif check.exception() is not None:
            refused[target] = str(check.exception())
    return refused


def _url_target(url: str, schemes: tuple[str, ...]) -> Target | None:
    """(host, port) of a tracker or web seed URL; None when it has no usable host."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme.lower() not in schemes or not host:
        return None
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        return host, port
