"""Where an install step may connect: the allow-list of index hosts and the address policy.

An install step runs a stranger's setup.py or `setup:` line with the network it needs to fetch
packages. The worker's own services listen on loopback (Redis holds every customer's token),
private ranges hold the rest of the deployment, and link-local holds the cloud's metadata
service. So the egress proxy (egress.py) lets a step reach only the configured index hosts, and
only at public addresses, which it resolves itself: a name that resolves to 127.0.0.1 (localhost,
or an attacker's DNS record) is refused like the literal. The one exception is a host the
operator configured explicitly as an index (a devpi on the LAN): that exact host may be private.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Ranges that are not private in Python's sense but are never a package index on the internet:
#: RFC 1918 and RFC 4193 private space, RFC 6598 carrier-grade NAT (cloud-internal services such
#: as 100.100.100.200), "this network" and the IETF protocol block (192.0.0.0/24).
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "fc00::/7",
        "fec0::/10",
        "100::/64",
    )
)
#: IPv6 prefixes that carry an IPv4 address in their low 32 bits (NAT64 well-known prefix).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

#: PyPI's hosts: the index pages and the files they link to. Used when no index is configured.
PYPI_ENDPOINTS = (("pypi.org", 443), ("files.pythonhosted.org", 443))


@dataclass(frozen=True)
class EgressPolicy:
    """The (host, port) pairs a step may reach; `trusted` hosts may resolve to any address.

    Hosts are compared lower-case without a trailing dot. `trusted` holds only hosts the
    operator named explicitly (an index URL, find-links, FIXWURX_EGRESS_HOSTS): the default
    PyPI hosts must resolve to public addresses like everything else.
    """

    endpoints: frozenset[tuple[str, int]]
    trusted: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, endpoints: Iterable[tuple[str, int]], trusted: Iterable[str] = ()) -> EgressPolicy:
        """A policy from host/port pairs, normalised."""
        return cls(
            frozenset((normal_host(h), int(p)) for h, p in endpoints),
            frozenset(normal_host(h) for h in trusted),
        )

    @classmethod
    def pypi(cls) -> EgressPolicy:
        """PyPI only, at public addresses: the default when nothing is configured."""
        return cls.of(PYPI_ENDPOINTS)

    def allows(self, host: str, port: int) -> bool:
        """Whether `host:port` is on the list (before any address check)."""
        return (normal_host(host), port) in self.endpoints

    def is_trusted(self, host: str) -> bool:
        """Whether the operator named `host` explicitly, so a private address is accepted."""
        return normal_host(host) in self.trusted


def normal_host(host: str) -> str:
    """`host` lower-case, without IPv6 brackets or a trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def refused_address(address: str) -> str | None:
    """Why `address` (an IP literal) must not be connected to, or None when it is public.

    Loopback, private, link-local, multicast, reserved and unspecified addresses are refused,
    in IPv4 and IPv6, including IPv4 addresses carried inside IPv6 (v4-mapped ::ffff:a.b.c.d,
    NAT64, 6to4, Teredo), which the kernel would otherwise route to the IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    reason = _own_reason(ip)
    if reason is not None:
        return reason
    for inner in _embedded_ipv4(ip):
        reason = _own_reason(inner)
        if reason is not None:
            return f"{reason} (inside {ip})"
    return None


def _own_reason(ip: IPAddress) -> str | None:
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (any(ip in net for net in _BLOCKED_NETWORKS if net.version == ip.version), "private"),
    )
    for hit, name in checks:
        if hit:
            return f"{ip} is a {name} address"
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
        return f"{ip} is a broadcast address"
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
    if int(ip) >> 32 == 0 and int(ip) > 1:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found
