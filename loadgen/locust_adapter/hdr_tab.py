"""An "HDR percentiles" tab in Locust's web UI: exact p50…p99.9 and max, live.

Uses Locust's documented extension points: ``template_args["extended_tabs"]`` and
``["extended_tables"]`` declare the tab and its columns; an ``after_request`` hook adds the
rows to every ``/stats/requests`` answer (the UI polls it every couple of seconds) under
``extended_stats``. Rows come from the master's merged HdrHistograms (everything flushed so far
plus the current interval), one per endpoint and per Executor / breakdown part; under open
loop the uncorrected p99 and the late count are shown beside the corrected figures.
"""
from __future__ import annotations

import json
from typing import Any

from loadgen.metrics import PERCENTILES
from loadgen.reports.summary import BREAKDOWN_TYPES, latency_figures

TAB_KEY = "loadgen-hdr"
COLUMNS = [("type", "Type"), ("name", "Name"), ("requests", "# requests"), ("failures", "# fails"),
           *((key, f"{key} ms") for key in PERCENTILES), ("max", "max ms"),
           ("p99_uncorrected", "p99 uncorrected ms"), ("late", "late")]


def install(web_ui: Any, session: Any) -> None:
    """Add the tab to ``web_ui`` (Locust's WebUI); rows are read from ``session`` on demand."""
    web_ui.template_args["extended_tabs"] = [{"title": "HDR percentiles", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB_KEY, "structure": [{"key": key, "title": title} for key, title in COLUMNS]}]

    @web_ui.app.after_request
    def add_hdr_rows(response):
        from flask import request  # Flask comes with Locust; imported where it is used

        if request.path.rstrip("/").endswith("/stats/requests") and response.is_json:
            payload = {**response.get_json(), "extended_stats": [{"key": TAB_KEY, "data": rows(session)}]}
            response.set_data(json.dumps(payload))
        return response


def rows(session: Any) -> list[dict[str, Any]]:
    """One row per (request_type, name) of the run so far, percentiles in ms (3 decimals)."""
    live = session.intervals.live()
    out = []
    # Requests first, then the Executors and the rest of the breakdown.
    for (rtype, name), stats in sorted(live.entries.items(), key=lambda kv: (kv[0][0] in BREAKDOWN_TYPES, kv[0])):
        figures = latency_figures(stats)
        uncorrected = latency_figures(stats, uncorrected=True)["p99"] if stats.uncorrected.count else ""
        out.append({"type": rtype, "name": name, "requests": stats.requests, "failures": stats.failures,
                    **{key: figures[key] for key in PERCENTILES}, "max": figures["max"], "late": stats.late,
                    "p99_uncorrected": uncorrected, "safe_name": name})
    return out
