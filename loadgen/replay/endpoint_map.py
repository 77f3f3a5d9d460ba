"""``--endpoint-map``: replaying a foreign request log (Iago, Seldon) against Jina endpoints.

A foreign log names its own paths, e.g. Seldon's ``/js/recommendations`` and
``/js/action/new``. The map turns each such path into a Jina endpoint; a mapped line passes
its unknown query keys on as request parameters instead of failing on them
(:func:`loadgen.replay.format.parse_line` applies the map). docs/replay.md has an example.
"""
from __future__ import annotations

from loadgen.errors import ConfigError


def parse_endpoint_map(text: str) -> dict[str, str]:
    """Parse ``--endpoint-map`` such as ``/js/recommendations=/search,/js/action/new=/index``.

    :raises ConfigError: for an item that is not ``PATH=/ENDPOINT``.
    """
    mapping = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        foreign, _, endpoint = (part.strip() for part in item.partition("="))
        if not foreign.startswith("/") or not endpoint.startswith("/"):
            raise ConfigError(f"--endpoint-map: bad item {item!r}; use PATH=ENDPOINT pairs, "
                              f"e.g. /js/recommendations=/search,/js/action/new=/index")
        mapping[foreign] = endpoint
    return mapping

