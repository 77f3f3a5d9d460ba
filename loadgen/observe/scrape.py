"""One scrape of a Prometheus text endpoint: fetched, filtered to the families loadgen keeps,
parsed by ``prometheus_client``'s own text parser, flattened into series.

A *series* is one metric family with one label set (without ``le`` and ``quantile``): a
counter's or gauge's value, a summary's count and sum (and quantiles, if the server computes
them), a histogram's count, sum and cumulative buckets. Jina 3.x exposes its times as
summaries (count and sum only); histograms come from other servers or ``--server-metric``.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from prometheus_client.parser import text_string_to_metric_families

from loadgen.observe.rawhttp import HttpError, get
from loadgen.observe.series import Reading, Series, SeriesKey

__all__ = ["JINA_FAMILIES", "Reading", "ScrapeError", "Series", "SeriesKey", "family_name", "keeper", "parse", "scrape"]

#: Jina's own families kept by default (request counts, times; jina/serve/runtimes/*).
JINA_FAMILIES = ("jina_successful_requests", "jina_failed_requests", "jina_process_request_seconds",
                 "jina_receiving_request_seconds", "jina_sending_request_seconds",
                 "jina_number_of_pending_requests")
SUFFIXES = ("_total", "_count", "_sum", "_bucket", "_created")
# Sample suffixes that belong to no series value (prometheus_client's creation timestamps).
IGNORED = ("_created",)


class ScrapeError(Exception):
    """A scrape that gave nothing usable: ``kind`` is ``down``, ``slow``, ``http`` (a status
    other than 200) or ``garbage`` (not Prometheus text)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def keeper(extra: Iterable[str] = ()) -> Callable[[str], bool]:
    """The filter of family names: Jina's (:data:`JINA_FAMILIES`) plus ``extra``
    (``--server-metric``; a sample name such as ``x_total`` or ``x_bucket`` names its family ``x``)."""
    wanted = set(JINA_FAMILIES) | {family_name(name) for name in extra}
    return lambda name: name in wanted


def family_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def scrape(url: str, *, keep: Callable[[str], bool], timeout_s: float, clock: Callable[[], float] = time.time) -> Reading:
    """GET ``url`` and parse what ``keep`` wants. :raises ScrapeError: naming what went wrong."""
    at = clock()
    try:
        response = get(url, timeout_s=timeout_s)
    except HttpError as exc:
        raise ScrapeError(exc.kind, str(exc)) from None
    if response.status != 200:
        raise ScrapeError("http", f"HTTP {response.status}: {response.body[:80].decode('utf-8', 'replace')!r}")
    return parse(response.body.decode("utf-8", "replace"), keep=keep, source=url, at=at)


def parse(text: str, *, keep: Callable[[str], bool], source: str = "", at: float = 0.0) -> Reading:
    """Parse Prometheus text; only families ``keep`` accepts are parsed (a cheap line filter
    first: the parser is pure Python). :raises ScrapeError: ``garbage`` for text that is
    not the Prometheus format (an empty page included)."""
    if "# TYPE" not in text and "# HELP" not in text and not _looks_like_samples(text):
        raise ScrapeError("garbage", f"not Prometheus text: {text[:60]!r}")
    try:
        families = [f for f in text_string_to_metric_families(_kept_lines(text, keep)) if keep(f.name)]
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ScrapeError("garbage", f"not Prometheus text ({exc})") from None
    return Reading(source=source, at=at, series=flatten(families), families=tuple(families))


def _looks_like_samples(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    name = first.split("{")[0].split(" ")[0]
    return bool(name) and name.replace("_", "a").replace(":", "a").isalnum() and len(first.split()) >= 2


def _kept_lines(text: str, keep: Callable[[str], bool]) -> str:
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            words = line.split(None, 3)
            if len(words) >= 3 and words[1] in ("TYPE", "HELP") and keep(family_name(words[2])):
                out.append(line)
        elif line.strip() and keep(family_name(line.split("{", 1)[0].split(" ", 1)[0])):
            out.append(line)
    return "\n".join(out) + "\n"


def flatten(families: Iterable) -> dict[SeriesKey, Series]:
    """Parsed families → one :class:`Series` per family and label set."""
    out: dict[SeriesKey, Series] = {}
    for family in families:
        for sample in family.samples:
            name, labels, value = sample[0], dict(sample[1]), float(sample[2])
            if name.endswith(IGNORED):
                continue
            le, quantile = labels.pop("le", None), labels.pop("quantile", None)
            key = (family.name, tuple(sorted(labels.items())))
            series = out.setdefault(key, Series(kind=family.type))
            _assign(series, name[len(family.name):], value, le, quantile)
    return out


def _assign(series: Series, suffix: str, value: float, le: str | None, quantile: str | None) -> None:
    if suffix == "_bucket" and le is not None:
        series.buckets[float(le)] = value
    elif suffix == "_count":
        series.count = value
    elif suffix == "_sum":
        series.sum = value
    elif quantile is not None:
        series.quantiles[float(quantile)] = value
    else:  # counter (_total), gauge, untyped
        series.value = value
