"""An "HDR percentiles" tab in Locust's web UI: exact p50…p99.9 and max, live.

Uses Locust's documented extension points: ``template_args["extended_tabs"]`` and
``["extended_tables"]`` declare the tab and its columns; an ``after_request`` hook adds the
rows to every ``/stats/requests`` answer (the UI polls it every couple of seconds) under
``extended_stats``. Rows come from the master's merged HdrHistograms (everything flushed so far
plus the current interval), one per endpoint, a total row, and one per Executor / breakdown
part; only under open loop are the uncorrected p99 and the late count shown beside the
corrected figures (in closed loop those columns would stay empty).
"""
from __future__ import annotations

import json
from typing import Any

from loadgen.metrics import PERCENTILES, EndpointStats
from loadgen.reports.summary import BREAKDOWN_TYPES, latency_figures

TAB_KEY = "loadgen-hdr"
COLUMNS = [("type", "Type"), ("name", "Name"), ("requests", "# requests"), ("failures", "# fails"),
           *((key, f"{key} ms") for key in PERCENTILES), ("max", "max ms")]
#: Shown only under open loop (``--arrival-rate``): in closed loop they would stay empty.
OPEN_LOOP_COLUMNS = [("p99_uncorrected", "p99 uncorrected ms"), ("late", "late")]
TOTAL = "total"  # the row of all requests (Executors and breakdown parts left out)


def columns(open_loop: bool) -> list[tuple[str, str]]:
    """The tab's ``(key, title)`` columns."""
    return COLUMNS + (OPEN_LOOP_COLUMNS if open_loop else [])


def install(web_ui: Any, session: Any) -> None:
    """Add the tab to ``web_ui`` (Locust's WebUI); rows are read from ``session`` on demand."""
    open_loop = session.options.arrival_shape is not None
    web_ui.template_args["extended_tabs"] = [{"title": "HDR percentiles", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB_KEY, "structure": [{"key": key, "title": title} for key, title in columns(open_loop)]}]

    @web_ui.app.after_request
    def add_hdr_rows(response):
        from flask import request  # Flask comes with Locust; imported where it is used

        if request.path.rstrip("/").endswith("/stats/requests") and response.is_json:
            payload = {**response.get_json(), "extended_stats": [{"key": TAB_KEY, "data": rows(session)}]}
            response.set_data(json.dumps(payload))
        return response


def rows(session: Any) -> list[dict[str, Any]]:
    """One row per (request_type, name) of the run so far, percentiles in ms (3 decimals):
    the requests, their ``total`` (when there is more than one), then the Executors and the
    rest of the breakdown."""
    live = session.intervals.live()
    requests = sorted((key, stats) for key, stats in live.entries.items() if key[0] not in BREAKDOWN_TYPES)
    parts = sorted((key, stats) for key, stats in live.entries.items() if key[0] in BREAKDOWN_TYPES)
    out = [row(rtype, name, stats) for (rtype, name), stats in requests]
    if len(requests) > 1:
        total = EndpointStats()
        for _, stats in requests:
            total.merge(stats)
        out.append(row(TOTAL, TOTAL, total))
    return out + [row(rtype, name, stats) for (rtype, name), stats in parts]


def row(rtype: str, name: str, stats: EndpointStats) -> dict[str, Any]:
    """The tab's row of one key (the open-loop columns are left out by the table in closed loop)."""
    figures = latency_figures(stats)
    uncorrected = latency_figures(stats, uncorrected=True)["p99"] if stats.uncorrected.count else ""
    return {"type": rtype, "name": name, "requests": stats.requests, "failures": stats.failures,
            **{key: figures[key] for key in PERCENTILES}, "max": figures["max"], "late": stats.late,
            "p99_uncorrected": uncorrected, "safe_name": name}
