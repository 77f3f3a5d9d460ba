"""An Executor that raises on some documents, during a whole Locust run.

The session's demo Flow (``flow``, tests/conftest.py) runs its indexer with ``raise_on``: it
raises ``ValueError`` on any document whose text holds ``RAISE_MARKER``. A text dataset with
the marker in one line of four makes a quarter of the pooled requests fail. The transports'
own tests (tests/protocols/) check one such reply; this one checks a run: the failures are
``gateway_status`` and name the exception and the Executor, the other requests succeed and
are timed, every user keeps sending, and the exit code is Locust's ``--exit-code-on-error``.
"""
import csv
import io
import json

import pytest

from conftest import RAISE_MARKER, ROOT, TOP_K, run_locust

pytestmark = [pytest.mark.integration, pytest.mark.locust, pytest.mark.chaos]
USERS = 3


def _rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_an_executor_raising_on_some_docs_fails_only_those_requests(flow, tmp_path):
    lines = tmp_path / "texts.txt"
    lines.write_text(f"a harmless sentence\nanother plain one\nthis one holds {RAISE_MARKER} inside\nthe last\n")
    results = tmp_path / "results"
    proc = run_locust(["-f", "locustfiles/text.py", "--host", flow.target.url, "--headless", "-u", str(USERS),
                       "-r", str(USERS), "-t", "5s", "--task-mix", "search:1", "--request-size", "1",
                       "--pool-size", "8", "--top-k", str(TOP_K), "--dataset", f"text:{lines}",
                       "--results-dir", str(results), "--csv", str(results / "locust"), "--csv-full-history",
                       "--json-file", str(results / "locust")],
                      cwd=ROOT)
    assert proc.returncode == 1, proc.stderr[-3000:]  # requests failed: --exit-code-on-error (default 1)
    assert "Traceback" not in proc.stderr
    summary = json.loads((results / "summary.json").read_text())
    search = summary["endpoints"]["/search"]
    assert summary["failures"] == {"gateway_status": search["failures"]} and search["failures"] > 0
    assert search["timed_requests"] == search["requests"] - search["failures"] > search["failures"]
    assert 0.15 < search["failures"] / search["requests"] < 0.35, "one request in four holds the marker"

    (failure,) = [r for r in _rows(results / "locust_failures.csv") if r["Name"] == "/search"]
    # e.g. "GatewayStatusError [gateway_status]: ValueError in NumpyIndexer: document 3f... contains the marker"
    assert failure["Error"].startswith("GatewayStatusError [gateway_status]: ValueError in NumpyIndexer: ")
    assert RAISE_MARKER in failure["Error"]
    # Locust's own count, from its final JSON (its CSV files are rewritten once a second and
    # may miss the last requests)
    (locust_search,) = [e for e in json.loads((results / "locust.json").read_text()) if e["name"] == "/search"]
    assert (locust_search["num_requests"], locust_search["num_failures"]) == (search["requests"], search["failures"])

    history = [r for r in _rows(results / "locust_stats_history.csv") if r["Name"] == "Aggregated"]
    running = [r for r in history[:-1] if int(r["Total Request Count"]) > 0]  # the last row: maybe stopping
    assert running and all(int(r["User Count"]) == USERS for r in running), "no user died of a failure"
    series = [r for r in _rows(results / "timeseries.csv") if r["request_type"] == "grpc"]
    later = series[len(series) // 2:]
    requests, failures = (sum(int(r[key]) for r in later) for key in ("requests", "failures"))
    assert requests > 2 * failures > 0, "successes and failures go on together to the end"
