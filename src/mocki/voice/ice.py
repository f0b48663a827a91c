"""ICE candidates on loopback: aioice gathers host candidates from every interface but 127.0.0.1,
so on a machine whose only interface is loopback (a CI container) no peer could ever connect."""

from __future__ import annotations

from collections.abc import Callable

import aioice.ice

_original: Callable[[bool, bool], list[str]] | None = None


def allow_loopback() -> None:
    """Add 127.0.0.1 to the host addresses aioice gathers, in this process (idempotent)."""
    global _original
    if _original is not None:
        return
    _original = aioice.ice.get_host_addresses

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        assert _original is not None
        addresses = _original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    aioice.ice.get_host_addresses = with_loopback
