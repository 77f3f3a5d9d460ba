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
