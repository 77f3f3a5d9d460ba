"""The processes of a Flow running on this machine: their metrics endpoints and CPU/RSS.

A Flow started by ``jina flow`` (as :mod:`loadgen.flowctl` does) is one parent process and
one child per gateway, head and Executor replica. :func:`find_endpoints` lists the ports
each of them listens on and keeps those that answer an HTTP GET like a Prometheus endpoint
(gRPC ports answer HTTP/2 frames, a websocket or HTTP gateway answers 404): with
``monitoring: true`` each runtime serves its own ``/metrics``. :class:`ProcessSampler`
reads each process's CPU use and resident memory from the operating system (psutil).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import psutil

from loadgen.observe.rawhttp import HttpError, Response, get

PROBE_TIMEOUT_S = 1.0
# prometheus_client's WSGI server answers this when the registry fails to render (e.g.
# Jina 3.33 with prometheus_client >= 0.22): it is a metrics endpoint, a broken one.
WSGI_ERROR = b"A server error occurred"


@dataclass(frozen=True)
class Endpoint:
    """A metrics endpoint of a Flow process."""

    url: str
    pid: int


def flow_processes(root_pid: int) -> list[psutil.Process]:
    """The process ``root_pid`` and all its descendants (an empty list when it is gone)."""
    try:
        root = psutil.Process(root_pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def listening_ports(process: psutil.Process) -> list[int]:
    try:
        connections = process.net_connections(kind="tcp")
    except psutil.Error:
        return []
    return sorted({c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN})


def is_metrics_page(response: Response) -> bool:
    """Does a GET's reply come from a Prometheus endpoint (a working or a failing one)?"""
    if response.status == 200:
        head = response.body[:4096]
        return b"# TYPE " in head or b"# HELP " in head
    return response.status == 500 and response.body.startswith(WSGI_ERROR)


def find_endpoints(root_pid: int, *, host: str = "127.0.0.1",
                   probe: Callable[[str], Optional[Response]] | None = None) -> list[Endpoint]:
    """Metrics endpoints of the Flow whose parent process is ``root_pid`` (see the module
    docstring), ordered by pid. ``probe(url)`` returns a reply or None (default: a GET with
    a 1 s deadline)."""
    probe = probe or _probe
    found = []
    for process in flow_processes(root_pid):
        for port in listening_ports(process):
            url = f"http://{host}:{port}/metrics"
            response = probe(url)
            if response is not None and is_metrics_page(response):
                found.append(Endpoint(url=url, pid=process.pid))
    return sorted(found, key=lambda e: (e.pid, e.url))


def _probe(url: str) -> Optional[Response]:
    try:
        return get(url, timeout_s=PROBE_TIMEOUT_S, max_bytes=2**22)
    except HttpError:
        return None


@dataclass(frozen=True)
class ProcessSample:
    """One process at one moment: CPU in % of one core since the previous sample (200 = two
    cores busy), resident memory in bytes."""

    pid: int
    cpu_pct: float
    rss_bytes: int


class ProcessSampler:
    """CPU% and RSS of a fixed set of processes; each :meth:`sample` covers the time since
    the previous one (the first call after construction covers the time since then)."""

    def __init__(self, pids: list[int]):
        self._processes: dict[int, psutil.Process] = {}
        for pid in pids:
            try:
                process = psutil.Process(pid)
                process.cpu_percent(None)  # starts the measurement: the first reading is meaningless
                self._processes[pid] = process
            except psutil.Error:
                continue

    @property
    def pids(self) -> list[int]:
        return sorted(self._processes)

    def sample(self) -> list[ProcessSample]:
        """One sample per process still alive (a process that exited is dropped)."""
        out = []
        for pid, process in list(self._processes.items()):
            try:
                with process.oneshot():
                    out.append(ProcessSample(pid=pid, cpu_pct=process.cpu_percent(None),
                                             rss_bytes=process.memory_info().rss))
            except psutil.Error:
                del self._processes[pid]
        return out


def describe_endpoints(root_pid: int) -> list[str]:
    """Lines naming the metrics endpoints of the Flow whose parent process is ``root_pid``
    (``loadgen flow up`` prints them)."""
    from loadgen.observe.scrape import ScrapeError, keeper, scrape

    endpoints = find_endpoints(root_pid)
    if not endpoints:
        return ["no Prometheus metrics endpoints (monitoring is off in this Flow's YAML)"]
    lines = []
    for endpoint in endpoints:
        try:
            reading = scrape(endpoint.url, keep=keeper(), timeout_s=PROBE_TIMEOUT_S)
            names = sorted({dict(labels).get("runtime_name", "") for _, labels in reading.series} - {""})
        except ScrapeError as exc:
            names = [f"({exc})"]
        lines.append(f"metrics of {', '.join(names) or f'pid {endpoint.pid}'}: {endpoint.url}")
    lines.append(f"a run scrapes them all, with each process's CPU and memory: --server-metrics pid:{root_pid}")
    return lines
