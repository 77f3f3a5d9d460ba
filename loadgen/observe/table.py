"""``server_metrics.csv``: one row per interval and series, written as the run goes.

Columns: ``timestamp`` (the scrape round at the end of the interval, epoch s: the same in
every row of one round), ``elapsed_s`` (since the run's
start: the same axis as ``timeseries.csv``), ``source`` (the URL scraped, or ``os`` for a
process's CPU/RSS), ``runtime`` (Jina's ``runtime_name``, or the process's name),
``metric`` (the family), ``labels`` (``name="value"`` pairs), ``kind`` (counter, gauge,
summary, histogram), ``value`` (at the end of the interval: a counter's total, a gauge,
a summary's or histogram's count), ``increase`` and ``rate_per_s`` over the interval,
``mean``, ``p50``, ``p99`` (summaries/histograms, in the metric's unit: seconds for
``*_seconds``). Process rows: ``process_cpu_percent`` (% of one core) and
``process_resident_memory_bytes``. Empty cells: not applicable.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Optional

FILE_NAME = "server_metrics.csv"
COLUMNS = ("timestamp", "elapsed_s", "source", "runtime", "metric", "labels", "kind", "value", "increase",
           "rate_per_s", "mean", "p50", "p99")
CPU_METRIC = "process_cpu_percent"
RSS_METRIC = "process_resident_memory_bytes"


def format_labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def cell(value: Optional[float]) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return f"{value:.6g}"


class TableWriter:
    """Appends rows to ``directory/server_metrics.csv``; flushed after every interval so a
    killed run keeps what it had."""

    def __init__(self, directory: Path, *, start_epoch: float):
        directory.mkdir(parents=True, exist_ok=True)
        self.start_epoch = start_epoch
        self._file = open(directory / FILE_NAME, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)

    def row(self, at: float, *, source: str, runtime: str, metric: str, labels: str, kind: str,
            value: Optional[float], increase: Optional[float] = None, rate: Optional[float] = None,
            mean: Optional[float] = None, p50: Optional[float] = None, p99: Optional[float] = None) -> None:
        self._csv.writerow([f"{at:.3f}", f"{at - self.start_epoch:.3f}", source, runtime, metric, labels, kind,
                            cell(value), cell(increase), cell(rate), cell(mean), cell(p50), cell(p99)])

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``server_metrics.csv`` (an empty list when there is none)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))
