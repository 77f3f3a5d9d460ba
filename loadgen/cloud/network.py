"""Who may reach the master's web UI: ``--allow-cidr`` and the caller's own address."""
from __future__ import annotations

import ipaddress
import urllib.request

from loadgen.errors import ConfigError

#: Answers with the caller's public IPv4 address as plain text.
CHECKIP_URL = "https://checkip.amazonaws.com"


def parse_cidr(text: str) -> str:
    """``text`` as a normalised CIDR block; a bare address becomes ``/32`` (``/128``).

    :raises ConfigError: naming ``--allow-cidr`` when it is not an address or block.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ConfigError(f"--allow-cidr: {text!r} is not a CIDR block; give your address as e.g. "
                          f"203.0.113.7/32") from None
    return str(network)


def caller_cidr(*, url: str = CHECKIP_URL, timeout_s: float = 5.0) -> str:
    """The caller's public address as a ``/32`` block, asked from ``url``.

    :raises ConfigError: when it cannot be told; the web UI is then never opened to the
        world by default, the user must say ``--allow-cidr``.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            address = response.read(64).decode("ascii", "replace").strip()
        return str(ipaddress.ip_network(f"{ipaddress.ip_address(address)}"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--allow-cidr: cannot tell your public address ({url}: {exc}); give the block that may "
                          f"open the web UI, e.g. --allow-cidr 203.0.113.7/32") from None


def is_world(cidr: str) -> bool:
    """True for ``0.0.0.0/0`` or ``::/0`` (the Locust UI has no login by default)."""
    return ipaddress.ip_network(cidr).prefixlen == 0
