"""The bad-input corpus: every input surface, one line naming the file/line/option, exit 2.

Each case is a real command line (``locust`` with loadgen's options, or ``loadgen``); each
must exit with code 2, print a message containing the expected text, and no traceback.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.chaos
LOCUST = str(Path(sys.executable).parent / "locust")
LOADGEN = [sys.executable, "-m", "loadgen"]

LOCUST_CASES = [  # (arguments after `locust -f locustfiles/image.py --headless -t 2s`, expected text)
    (["--request-size", "0"], "--request-size: must be a whole number >= 1"),
    (["--request-size", "many"], "--request-size: must be a whole number >= 1, got 'many'"),
    (["--image-shape", "224,,3"], "--image-shape: cannot read"),
    (["--top-k", "-5"], "--top-k: must be a whole number >= 1"),
    (["--pool-mb", "0"], "--pool-mb: must be a number > 0"),
    (["--arrival-rate", "-1"], "--arrival-rate: cannot use '-1'"),
    (["--arrival-rate", "step:10@x"], "--arrival-rate: cannot use 'step:10@x'"),
    (["--arrival-rate", "10", "--arrival", "bursty"], "--arrival: unknown arrival process 'bursty'"),
    (["--slo", "p99<fast"], "--slo: cannot read 'p99<fast'"),
    (["--slo", "/search:p98<1s"], "--slo: '/search:p98<1s': metric 'p98'"),
    (["--host", "grpc://:80"], "--host: 'grpc://:80' needs a host"),
    (["--host", "tcp://gw:1"], "--host: unsupported scheme 'tcp'"),
    (["--host", "grpc://gw:99999"], "--host: bad port"),
    (["--protocol", "http", "--host", "grpc://127.0.0.1:1"], "--protocol http does not match --host"),
    (["--replay-file", "/nonexistent/file.replay"], "--replay-file: cannot read /nonexistent/file.replay"),
    (["--endpoint-map", "js=/search"], "--endpoint-map: bad item 'js=/search'"),
    (["--report-interval", "0"], "--report-interval: must be a number > 0"),
    (["--flow", "no-such-flow"], "--flow: no Flow 'no-such-flow'"),
]


@pytest.mark.parametrize("args, expected", LOCUST_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_locust_options(args, expected):
    proc = subprocess.run([LOCUST, "-f", "locustfiles/image.py", "--headless", "-t", "2s", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def _replay_file(tmp_path, text):
    path = tmp_path / "bad.replay"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("content, expected", [
    ("/search?docs=two\n", ":1: "), ("# only a comment\n\n", "no request"), ("", "no request"),
    ("/search?kind=video\n", ":1: "), ("/search?top_k=-3\n", ":1: "), ("/search?colour=red\n", ":1: "),
    ("/index\n" + "/search?docs=1&" + "x" * 1_000_000 + "\n", ":2: "),
], ids=["docs", "comments-only", "empty", "kind", "top_k", "unknown-key", "1MB-line"])
def test_replay_files(tmp_path, content, expected):
    path = _replay_file(tmp_path, content)
    proc = subprocess.run([*LOADGEN, "replay", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr
    assert str(path) in proc.stderr


def test_harmless_replay_quirks_are_accepted(tmp_path):
    path = _replay_file(tmp_path, b"\xef\xbb\xbf/search?docs=1\r\n/index?docs=2\r\n")  # BOM + CRLF
    proc = subprocess.run([*LOADGEN, "replay", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("argv, expected", [
    (["flow", "up", "--flow", "nope"], "--flow: no Flow 'nope'"),
    (["flow", "up", "--shards", "0"], "--shards: must be >= 1"),
    (["flow", "up", "--protocol", "smtp"], "--protocol: the demo Flow serves"),
    (["report", "/nonexistent"], "cannot read"),
    (["replay", "make", "--calls", "0", "-o", "/tmp/x.replay"], "--calls"),
    (["replay", "make", "--calls", "10", "--mix", "search:x", "-o", "/tmp/x.replay"], "--mix"),
])
def test_loadgen_commands(argv, expected):
    proc = subprocess.run([*LOADGEN, *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["--slo", "/search:p98<1s"], "--slo: '/search:p98<1s': metric 'p98'"),
    (["--slo", "p99<fast"], "--slo: cannot read 'p99<fast'"),
    (["--precision", "0"], "--precision: must be a percentage > 0 such as 5%, got '0'"),
    (["--precision=-5%"], "--precision: must be a percentage > 0"),
    (["--rate-start", "500", "--rate-max", "100"], "--rate-start: 500 is above --rate-max 100"),
    (["--window", "0.5"], "--window: 0.5 s is shorter than the report interval 1 s"),
    (["--workers", "2", "--window", "2", "--report-interval", "3"],
     "--window: 2 s is shorter than the report interval 3 s (--report-interval)"),
    (["--max-windows", "2"], "--max-windows: must be at least 3"),
    (["--max-time", "5s"], "--max-time: 5 s is shorter than one trial"),
    (["--rate-factor", "1"], "--rate-factor: must be more than 1"),
    (["-t", "10s"], "-t: not an option of loadgen capacity"),
    (["--arrival-rate", "10"], "--arrival-rate: not an option of loadgen capacity"),
    (["--request-size", "0"], "--request-size: must be a whole number >= 1"),
    (["--no-such-option", "1"], "unrecognized arguments: --no-such-option"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_loadgen_capacity(args, expected):
    proc = subprocess.run([*LOADGEN, "capacity", "-f", "locustfiles/text.py", "--host", "grpc://127.0.0.1:1", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["--host", "grpc://gw:1"], "--host: loadgen advise restarts the Flow with every topology it tries and cannot "
                                "restart a remote one"),
    (["--executor", "decoder"], "--executor: no Executor 'decoder' in image.yml; its Executors are encoder, indexer"),
    (["--max-processes", "1"], "--max-processes: 1 is below the 2 Executor processes image.yml starts with"),
    (["--max-processes", "many"], "--max-processes: must be a whole number >= 1, got 'many'"),
    (["--target-rate", "fast"], "--target-rate: must be a number of requests per second > 0, or max; got 'fast'"),
    (["--target-rate", "0"], "--target-rate: must be a number of requests per second > 0"),
    (["--strategy", "random"], "--strategy: unknown strategy 'random'; use greedy or grid"),
    (["--measure", "guess"], "--measure: unknown measure 'guess'; use trial or search"),
    (["--flow", "nope"], "--flow: no Flow 'nope'"),
    (["--flow-replicas", "2"], "--flow-replicas: not an option of loadgen advise"),
    (["--protocol", "http"], "--protocol: the HTTP gateway returns no per-Executor times"),
    (["-t", "10s"], "-t: not an option of loadgen advise"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_loadgen_advise(args, expected):
    base = ["--target-rate", "30"] if "--target-rate" not in args else []
    proc = subprocess.run([*LOADGEN, "advise", *base, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_loadgen_advise_needs_a_target_rate():
    proc = subprocess.run([*LOADGEN, "advise"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--target-rate: required" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
