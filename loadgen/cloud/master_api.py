"""Poll a Locust master's web API until its workers have connected.

``GET /stats/requests`` on a master lists its workers (``{"workers": [{"id": ...}]}``);
a worker's id is ``<hostname>_<uuid>``, so counting distinct hostnames counts worker
*instances* even when each runs one process per core (``--processes -1``).
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable

from loadgen.errors import CloudError


def get_json(url: str, *, timeout_s: float = 5.0) -> Any:
    """GET ``url`` and decode its JSON body (the one network call of this module)."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return json.loads(response.read())


def worker_ids(stats: dict) -> list[str]:
    """Ids of the workers a master's ``/stats/requests`` reply lists (missing: none)."""
    return [str(w.get("id", "")) for w in stats.get("workers") or []]


def connected(stats: dict, *, distinct_hosts: bool) -> int:
    """Workers connected: processes, or distinct worker hosts when ``distinct_hosts``."""
    ids = worker_ids(stats)
    return len({i.rsplit("_", 1)[0] for i in ids}) if distinct_hosts else len(ids)


def wait_for_workers(ui_url: str, expected: int, *, timeout_s: float, distinct_hosts: bool = True,
                     interval_s: float = 3.0, out: Callable[[str], Any] = print) -> int:
    """Poll ``ui_url``'s ``/stats/requests`` until ``expected`` workers are connected.

    :param ui_url: the master's web UI, e.g. ``http://203.0.113.7:8089``.
    :param distinct_hosts: count worker hosts (fleet instances), not worker processes.
    :returns: the number of workers connected.
    :raises CloudError: when fewer connected within ``timeout_s``; the message says how
        many did and whether the master answered at all.
    """
    deadline, seen, reason = time.monotonic() + timeout_s, -1, "the master's web UI did not answer"
    while True:
        try:
            count = connected(get_json(f"{ui_url}/stats/requests"), distinct_hosts=distinct_hosts)
            reason = f"{count} of {expected} workers connected"
        except (OSError, ValueError, urllib.error.URLError) as exc:
            count, reason = -1, f"the master's web UI at {ui_url} did not answer ({exc})"
        if count >= expected:
            return count
        if count != seen and count >= 0:
            out(f"  {count}/{expected} workers connected ...")
            seen = count
        if time.monotonic() + interval_s > deadline:
            raise CloudError(f"workers did not connect within {timeout_s:g} s: {reason}; "
                             f"`loadgen fleet logs` shows the instances' console output")
        time.sleep(interval_s)
