"""The address policy: which hosts the server may reach because someone else named them.

A client hands us image URLs (`posterUrl`), and a magnet names trackers, web seeds and peers
(`tr=`, `ws=`, `x.pe=`). Reaching them blindly would let anyone with a token make the server
send requests to internal addresses (SSRF). One rule for all of them: the host must match a
list entry (`host`, `host:port`, `[v6]`, `[v6]:port`, `*.domain`, `*`), and every address it
resolves to must be public, unless that exact host is listed: the operator vouches for it.
A wildcard never vouches for a loopback, private or link-local address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The policy does not let the server reach this host; the message says why."""


class HostUnresolvable(Exception):
    """The host name did not resolve (try again later)."""


async def allowed_addresses(host: str, port: int, entries: tuple[str, ...], setting: str) -> list[IPAddress]:
    """The addresses of `host` if the policy lets us reach it; `setting` names the list in
    messages. Raises AddressRefused or HostUnresolvable."""
    allowed, explicit = host_allowed(host, port, entries)
    if not allowed:
        raise AddressRefused(f"{host} is not in {setting}")
    addresses = await resolve(host, port)
    if not explicit and not all(is_public_address(a) for a in addresses):
        raise AddressRefused(f"{host} resolves to a non-public address")
    return addresses


def host_allowed(host: str, port: int, entries: tuple[str, ...]) -> tuple[bool, bool]:
    """(allowed, explicitly listed). Only an exact entry vouches for a non-public address."""
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


def listed_names(entries: tuple[str, ...]) -> list[str]:
    """The exact hosts of a list (no wildcards): the ones that may be non-public."""
    return [name for name in (_split_entry(entry)[0] for entry in entries) if "*" not in name]


def _split_entry(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    name, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return entry, None


async def resolve(host: str, port: int) -> list[IPAddress]:
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
    except (OSError, UnicodeError):
        raise HostUnresolvable(f"{host} could not be resolved") from None
    addresses = [_unmapped(ipaddress.ip_address(info[4][0])) for info in infos]
    if not addresses:
        raise HostUnresolvable(f"{host} could not be resolved")
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
