"""Replay files under real Locust processes, against the fake gateway (tests/fakegateway.py),
which logs the endpoint and first document id of every request it receives."""
import json
from collections import Counter

import pytest

from conftest import ROOT, run_locust
from loadgen.datasets import open_dataset
from loadgen.ports import free_port
from loadgen.replay import open_replay, read
from test_open_loop import fake_gateway  # noqa: F401  (the fixture)

pytestmark = pytest.mark.locust
PAIRED = ROOT / "scenarios/replay/text-paired.replay"


def _lines(path, **kwargs):
    with open_replay(path) as stream:
        return list(read(stream, **kwargs))


def _received(log):
    return [tuple(line.split()[1:]) for line in log.read_text().splitlines()]


def _replay(tmp_path, host, *extra):
    args = ["-f", "locustfiles/replay.py", "--host", host, "--headless", "-u", "6", "-r", "100", "-t", "60s",
            "--arrival-rate", "200", "--results-dir", str(tmp_path / "results"), *extra]
    proc = run_locust(args, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((tmp_path / "results/summary.json").read_text())


def test_two_workers_send_every_line_exactly_once(fake_gateway, tmp_path):
    host, log = fake_gateway(delay_ms=1.0)
    port = free_port()  # not Locust's default 5557: other runs on the machine may use it
    summary = _replay(tmp_path, host, "--processes", "2", "--master-bind-port", str(port), "--master-port", str(port),
                      "--replay-file", str(PAIRED))
    lines = _lines(PAIRED)
    received = _received(log)
    assert len(received) == len(lines) == summary["total"]["requests"]
    assert max(Counter(received).values()) == 1, "no line twice within a pass"
    assert summary["workers"] == 2 and summary["replay"]["lines_per_pass"] == len(lines)
    names = Counter(line.stat_name for line in lines)
    assert {n: e["requests"] for n, e in summary["endpoints"].items()} == dict(names), "counted per line class"
    # What was sent, added up over both workers: the file's lines (all text, 4 docs; top_k 10 on /search).
    sent = summary["replay"]["sent"]
    assert {(e, n): v["requests"] for e, by_name in sent.items() for n, v in by_name.items()} == \
        dict(Counter((line.endpoint, line.stat_name) for line in lines))
    assert summary["task_mix"] == dict(Counter(line.endpoint for line in lines))
    assert (summary["kind"], summary["request_size"], summary["top_k"]) == ("text", 4, 10)


def test_max_requests_with_reuse_file_wraps_around(fake_gateway, tmp_path):
    host, log = fake_gateway(delay_ms=1.0)
    lines = len(_lines(PAIRED))
    summary = _replay(tmp_path, host, "--replay-file", str(PAIRED), "--reuse-file", "--max-requests",
                      str(lines + lines // 2))
    assert summary["total"]["requests"] == len(_received(log)) == lines + lines // 2


def test_a_seldon_log_drives_jina_endpoints_through_the_endpoint_map(fake_gateway, tmp_path):
    host, log = fake_gateway(delay_ms=1.0)
    seldon = ROOT / "scenarios/replay/seldon-recommendations.replay"
    mapping = "/js/recommendations=/search,/js/action/new=/index"
    summary = _replay(tmp_path, host, "--replay-file", str(seldon), "--endpoint-map", mapping)
    assert set(summary["endpoints"]) <= {"/search", "/index"} and summary["total"]["failures"] == 0
    assert summary["total"]["requests"] == len(_lines(seldon, endpoint_map=dict(p.split("=") for p in mapping.split(","))))


def test_a_bad_line_stops_the_run_before_any_load(tmp_path):
    bad = tmp_path / "bad.replay"
    bad.write_text("/search?docs=1\n/search?docs=lots\n")
    proc = run_locust(["-f", "locustfiles/replay.py", "--headless", "-t", "2s", "--replay-file", str(bad),
                       "--host", "grpc://127.0.0.1:1", "--skip-host-check"], cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and f"{bad}:2:" in proc.stderr and "Traceback" not in proc.stderr


def test_two_workers_share_a_dataset_each_item_once_per_pass(fake_gateway, tmp_path):
    """--dataset text:FILE with --processes 2: every line is sent, and evenly (each worker goes
    through its own half, pass after pass)."""
    host, log = fake_gateway(delay_ms=1.0)
    data = tmp_path / "docs.txt"
    data.write_text("".join(f"document number {i}\n" for i in range(50)))
    port = free_port()
    args = ["-f", "locustfiles/text.py", "--host", host, "--headless", "-u", "4", "-r", "100", "-t", "4s",
            "--processes", "2", "--master-bind-port", str(port), "--master-port", str(port), "--dataset",
            f"text:{data}", "--task-mix", "index:1", "--request-size", "1", "--results-dir", str(tmp_path / "r")]
    proc = run_locust(args, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = Counter(doc for endpoint, doc in _received(log) if endpoint == "/index")
    assert len(counts) == 50, "every item of the dataset was sent"
    dataset = open_dataset(f"text:{data}")
    for worker in range(2):  # each worker goes through its own half evenly; they may differ in speed
        share = [doc.id for doc in dataset.documents(worker_index=worker, workers=2)]
        sent = [counts[doc_id] for doc_id in share]
        assert len(share) == 25 and max(sent) - min(sent) <= 1, (worker, sent)


def test_a_line_name_with_a_comma_and_a_space_keeps_the_report_the_table_and_the_slo_exit_code(
        fake_gateway, tmp_path):  # noqa: F811 (the fixture imported above)
    """``name=a%2Cb+c`` is counted as ``a,b c``: the interval log escapes it (HdrHistogram log
    tags hold no comma or space), loadgen reads it back, and the end of the run keeps
    summary.json, report.html, the printed table and the --slo exit code 3."""
    host, _ = fake_gateway(delay_ms=1.0)
    replay = tmp_path / "names.replay"
    replay.write_text("/search?kind=text&docs=1&top_k=3&name=a%2Cb+c\n/search?kind=text&docs=1&top_k=3\n")
    results = tmp_path / "results"
    args = ["-f", "locustfiles/replay.py", "--host", host, "--headless", "-u", "2", "-r", "100", "-t", "60s",
            "--arrival-rate", "100", "--replay-file", str(replay), "--reuse-file", "--max-requests", "200",
            "--results-dir", str(results), "--slo", "p50<0.001ms"]
    proc = run_locust(args, cwd=ROOT, timeout=120)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "jina-loadgen summary" in proc.stdout and "a,b c" in proc.stdout
    summary = json.loads((results / "summary.json").read_text())
    assert summary["endpoints"]["a,b c"]["requests"] == 100 and summary["slo"][0]["passed"] is False
    assert "a,b c" in (results / "report.html").read_text()
    hlog = (results / "histograms.hlog").read_text()
    assert "Tag=grpc:a%2Cb%20c," in hlog


MIXED = """\
# text only, with docs and top_k per line or from the run's options
/search?kind=text&docs=2&top_k=3&name=short
/search?kind=text
/index?kind=text&docs=1
/search?kind=text&docs=2&top_k=3&name=short
/index?kind=text&name=bulk&docs=6
"""


@pytest.mark.integration
def test_a_text_replay_starts_the_text_flow_and_records_what_it_sent(tmp_path):
    """No --host: the file's kind picks the demo Flow and the pre-indexed documents; summary.json
    says what the lines sent (their own values, else --request-size 4 and --top-k 5)."""
    replay = tmp_path / "mixed.replay"
    replay.write_text(MIXED * 20)
    proc = run_locust(["-f", "locustfiles/replay.py", "--headless", "-u", "2", "-r", "2", "--replay-file", str(replay),
                       "--request-size", "4", "--top-k", "5", "--preindex-docs", "40",
                       "--results-dir", str(tmp_path / "results")], cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((tmp_path / "results").glob("flow-text-*.log")), "the text demo Flow"
    assert "pre-indexed 40 text documents" in proc.stderr
    summary = json.loads((tmp_path / "results/summary.json").read_text())
    assert summary["kind"] == "text" and summary["request_size"] is None and summary["top_k"] is None
    assert summary["task_mix"] == {"/index": 40, "/search": 60}
    assert summary["replay"]["sent"] == {
        "/index": {"/index": {"requests": 20, "kinds": {"text": 20}, "docs": {"1": 20}, "top_k": {}},
                   "bulk": {"requests": 20, "kinds": {"text": 20}, "docs": {"6": 20}, "top_k": {}}},
        "/search": {"/search": {"requests": 20, "kinds": {"text": 20}, "docs": {"4": 20}, "top_k": {"5": 20}},
                    "short": {"requests": 40, "kinds": {"text": 40}, "docs": {"2": 40}, "top_k": {"3": 40}}}}
    assert summary["total"]["failures"] == 0
