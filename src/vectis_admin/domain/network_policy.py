"""Which addresses the console may contact on an operator's behalf (SSRF guard).

A registry URL is operator input, and Test Connection makes the console open a connection to it.
Without a guard, that is a way to make the console read cloud metadata endpoints (instance
credentials) or probe addresses the operator did not mean to expose. Link-local and the cloud
metadata addresses are refused by default; operators can block more and allow exceptions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from vectis_admin.errors import InvalidInput

__all__ = ["DEFAULT_BLOCKED", "NetworkPolicy", "parse_networks"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# 169.254.169.254 (AWS, GCP, Azure, OpenStack metadata) sits in the IPv4 link-local range;
# fd00:ec2::254 is AWS's IPv6 metadata endpoint; fe80::/10 is IPv6 link-local.
DEFAULT_BLOCKED: tuple[str, ...] = ("169.254.0.0/16", "fd00:ec2::254/128", "fe80::/10")


def parse_networks(text: str | Sequence[str], *, field: str) -> tuple[IPNetwork, ...]:
    """Comma-separated (or listed) CIDRs or single addresses."""
    items = text.split(",") if isinstance(text, str) else list(text)
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise InvalidInput.one(
                field, f"must be a comma-separated list of CIDR networks; {item!r} is not one"
            ) from None
    return tuple(networks)


@dataclass(frozen=True, kw_only=True)
class NetworkPolicy:
    blocked: tuple[IPNetwork, ...] = parse_networks(DEFAULT_BLOCKED, field="blocked")
    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: str) -> str | None:
        """Why the console must not connect to `address`, or None when it may."""
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is the same endpoint
        if any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        for net in self.blocked:
            if net.version == ip.version and ip in net:
                return (
                    f"address {ip} is in the blocked network {net} (link-local and cloud "
                    "metadata addresses are refused; VECTIS_ALLOWED_NETWORKS can allow it)"
                )
        return None
