"""What a run observes and exports: ``--server-metrics``, ``--server-metric``,
``--prometheus-port``/``--prometheus-host``/``--prometheus-linger``, validated into one
keyword-only record (:class:`ObserveOptions`). Nothing here reads argv or the environment.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from loadgen.errors import ConfigError
from loadgen.observe.rawhttp import url_host_port

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
DEFAULT_LINGER_S = 15.0
SOURCES_HELP = "give http://HOST:PORT/metrics URLs, pid:PID (a Flow's parent process on this machine), or off"


@dataclass(frozen=True, kw_only=True)
class ObserveOptions:
    """Server metrics and the live export of one run.

    :param urls: Prometheus text endpoints to scrape every report interval.
    :param flow_pids: parent processes of Flows on this machine: their endpoints are found
        and their processes' CPU/RSS sampled.
    :param auto: scrape the embedded demo Flow when loadgen starts one (``off`` clears it).
    :param metric_names: families kept besides Jina's own (``--server-metric``).
    :param prometheus_port: serve loadgen's live figures on this port (0: off).
    :param prometheus_host: the address it listens on (loopback by default).
    :param prometheus_linger_s: at the end, wait up to this many seconds for one scrape of
        the final figures.
    :param scrape_timeout_s: the deadline of one scrape (s).
    """

    urls: tuple[str, ...] = ()
    flow_pids: tuple[int, ...] = ()
    auto: bool = True
    metric_names: tuple[str, ...] = ()
    prometheus_port: int = 0
    prometheus_host: str = "127.0.0.1"
    prometheus_linger_s: float = DEFAULT_LINGER_S
    scrape_timeout_s: float = 2.0

    @property
    def scrapes(self) -> bool:
        return bool(self.urls or self.flow_pids)


def parse_sources(text: str, *, option: str = "--server-metrics") -> dict[str, object]:
    """``URL[,URL...]``, ``pid:PID`` items or ``off`` → ``{"urls", "flow_pids", "auto"}``.
    :raises ConfigError: naming the bad item and the fix."""
    urls, pids, auto = [], [], True
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        if item == "off":
            auto = False
        elif item.startswith("pid:"):
            pid = item[4:]
            if not pid.isdigit() or int(pid) < 1:
                raise ConfigError(f"{option}: {item!r} is not pid:PID with a process id; {SOURCES_HELP}")
            pids.append(int(pid))
        elif url_host_port(item) is None:
            raise ConfigError(f"{option}: cannot scrape {item!r}; {SOURCES_HELP} (https is not supported)")
        else:
            urls.append(item)
    return {"urls": tuple(dict.fromkeys(urls)), "flow_pids": tuple(dict.fromkeys(pids)), "auto": auto}


def parse_metric_names(names: Iterable[str], *, option: str = "--server-metric") -> tuple[str, ...]:
    out = []
    for name in names:
        for part in (p.strip() for p in str(name).split(",")):
            if not part:
                continue
            if not METRIC_NAME.match(part):
                raise ConfigError(f"{option}: {part!r} is not a Prometheus metric name (letters, digits, _ and :)")
            out.append(part)
    return tuple(dict.fromkeys(out))


def parse_port(text: str, *, option: str = "--prometheus-port") -> int:
    value = str(text or "").strip()
    if not value:
        return 0
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{option}: must be a TCP port 1-65535, got {text!r}")
    return int(value)


def parse_seconds(text: str, *, option: str, default: float) -> float:
    value = str(text if text is not None else "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ConfigError(f"{option}: must be a number of seconds >= 0, got {text!r}")
    return seconds


def observe_options(*, server_metrics: str = "", server_metric: Iterable[str] = (), prometheus_port: str = "",
                    prometheus_host: str = "", prometheus_linger: Optional[str] = None) -> ObserveOptions:
    """The record from the options' texts. :raises ConfigError: naming the option."""
    host = str(prometheus_host or "").strip() or "127.0.0.1"
    return ObserveOptions(**parse_sources(server_metrics), metric_names=parse_metric_names(server_metric),
                          prometheus_port=parse_port(prometheus_port), prometheus_host=host,
                          prometheus_linger_s=parse_seconds(prometheus_linger, option="--prometheus-linger",
                                                            default=DEFAULT_LINGER_S))
