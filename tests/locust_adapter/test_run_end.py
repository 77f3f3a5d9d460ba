"""The end of a run with the demo Flow (real Locust processes): the load stops before the Flow."""
import json

import pytest

from conftest import ROOT, run_locust

pytestmark = [pytest.mark.integration, pytest.mark.locust]


def test_the_demo_flow_stops_after_the_requests_left_in_flight(tmp_path):
    """Locust kills its users mid-request at -t; the Flow must finish those requests before
    it stops, or its gateway logs an EstablishGrpcConnectionError traceback for each."""
    results = tmp_path / "results"
    # Large images make the Flow the bottleneck: most users wait inside it when they are killed.
    proc = run_locust(["-f", "locustfiles/image.py", "--headless", "-u", "12", "-r", "12", "-t", "4s",
                       "--image-shape", "448,448,3", "--pool-size", "2", "--preindex-docs", "16",
                       "--results-dir", str(results)], cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert summary["total"]["unfinished"] > 2, "users were killed mid-request: the case under test"
    log = next(results.glob("flow-*.log")).read_text(errors="replace")
    assert "EstablishGrpcConnectionError" not in log and "Exception sending requests" not in log
    assert "ignored unknown argument" not in log


def _stats_table(output):
    """Locust's last request table: its header and rows (lines up to the closing separator)."""
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("Type     Name") and "req/s" in line)
    rows = []
    for line in lines[start + 2:]:
        if line.startswith("--------|"):
            break
        rows.append(line)
    return lines[start], rows


@pytest.mark.parametrize("fixture", ["flow", "flow_ws"])
def test_locusts_table_keeps_its_columns_and_sets_parts_of_requests_apart(request, fixture, tmp_path):
    host = request.getfixturevalue(fixture).target.url
    proc = run_locust(["-f", "locustfiles/text.py", "--headless", "-u", "2", "-r", "2", "-t", "3s", "--host", host,
                       "--request-size", "1", "--top-k", "5", "--results-dir", str(tmp_path / "results")], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    header, rows = _stats_table(proc.stdout + proc.stderr)
    pipes = [i for i, c in enumerate(header) if c == "|"]
    kinds = {row.split()[0] for row in rows}
    assert kinds == {"grpc" if fixture == "flow" else "ws", "executor", "part"}, rows
    for row in rows:
        assert [i for i, c in enumerate(row) if c == "|"] == pipes, f"misaligned: {row!r}"
        assert row.index(row.split()[1]) == header.index("Name"), f"name column: {row!r}"
        if row.split()[0] in ("executor", "part"):  # not requests: no failures, no rates
            assert row.split()[-2:] == ["-", "-"] and row.split("|")[0].split()[-1] == "-"
