import json
import subprocess
import sys

import pytest

from loadgen.cli import main
from loadgen.metrics import Metrics
from loadgen.results import Result
from loadgen.reports.series import TimeSeriesWriter


def _run_dir(path, latencies):
    m = Metrics()
    for s in latencies:
        m.add(Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=s, bytes_out=1))
    writer = TimeSeriesWriter(path, start_epoch=0.0)
    writer.write_interval(m, start_epoch=0.0, end_epoch=2.0)
    writer.close()
    return path


def test_report_merges_runs_exactly(tmp_path, capsys):
    a = _run_dir(tmp_path / "a", [0.001 * i for i in range(1, 101)])   # 1..100 ms
    b = _run_dir(tmp_path / "b", [0.001 * i for i in range(101, 201)])  # 101..200 ms
    out = tmp_path / "merged.json"
    assert main(["report", str(a), str(b / "histograms.hlog"), "--json", str(out)]) == 0
    tags = json.loads(out.read_text())["tags"]
    search = tags["grpc:/search"]
    assert search["count"] == 200 and search["per_s"] == 100.0
    assert search["latency_ms"]["p50"] == pytest.approx(100.0, rel=1e-3)
    assert search["latency_ms"]["p99"] == pytest.approx(198.0, rel=1e-3)
    assert "grpc:/search" in capsys.readouterr().out


def test_report_on_a_missing_path_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "loadgen", "report", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr
