"""Starting and stopping Flows: errors are the Flow's own, bounded in time; stop frees the port."""
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from loadgen.config import PayloadConfig, TargetConfig
from loadgen.errors import ConfigError, FlowError
from loadgen.flowctl import FlowConfig, flow_yaml, parse_polling, start_flow
from loadgen.ports import free_port
from loadgen.pools import build_pools
from loadgen.protocols.grpc import GrpcTransport, probe


def test_a_flow_that_fails_to_start_reports_its_own_error_quickly(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("jtype: Flow\nexecutors:\n  - name: ghost\n    uses: NoSuchExecutorAnywhere\n")
    started = time.monotonic()
    with pytest.raises(FlowError) as err:
        start_flow(FlowConfig(flow=str(bad), startup_timeout_s=60), log_dir=tmp_path)
    assert time.monotonic() - started < 60
    assert "NoSuchExecutorAnywhere" in str(err.value)


def test_unknown_flow_and_missing_venv_are_usage_errors(tmp_path):
    with pytest.raises(ConfigError, match="--flow: no Flow 'nope'"):
        flow_yaml("nope")
    with pytest.raises(ConfigError, match="make venv-flow"):
        start_flow(FlowConfig(python=str(tmp_path / "missing/python")))


@pytest.mark.integration
def test_stop_frees_the_port(tmp_path):
    flow = start_flow(FlowConfig(flow="text"), log_dir=tmp_path)
    port = flow.port
    flow.stop()
    assert flow.proc.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.integration
def test_loadgen_flow_up_serves_until_ctrl_c(tmp_path):
    """Started with SIGINT ignored, as a script's background job starts it: Ctrl-C
    (``kill -INT``) still stops it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "loadgen", "flow", "up", "--flow", "text", "--port", str(port),
                             "--log-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ignore_sigint)
    try:
        line = proc.stdout.readline()
        assert f"ready at grpc://127.0.0.1:{port}" in line, proc.stderr.read() if proc.poll() is not None else line
        assert probe(TargetConfig(port=port)) is None
        # then the metrics endpoints of its gateway and Executors, and how a run scrapes them all
        lines = [proc.stdout.readline() for _ in range(4)]
        urls = {re.search(r"metrics of (\S+): (http://\S+)", line).groups() for line in lines[:3]}
        assert {name for name, _ in urls} == {"gateway/rep-0", "encoder/rep-0", "indexer/rep-0"}, lines
        for _, url in urls:
            with urllib.request.urlopen(url, timeout=5) as reply:
                assert b"jina_successful_requests_total" in reply.read()
        flow_pid = int(re.search(r"--server-metrics pid:(\d+)", lines[3]).group(1))
        assert psutil.Process(flow_pid).ppid() == proc.pid, "the Flow's parent process, started by `flow up`"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_loadgen_flow_up_usage_errors_exit_2():
    proc = subprocess.run([sys.executable, "-m", "loadgen", "flow", "up", "--flow", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--flow: no Flow 'nope'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.integration
def test_sharded_and_replicated_demo_flow_answers_exactly_top_k(tmp_path):
    """shards=2 with /search: ALL — the ranker merges the shards' partial results."""
    payload = PayloadConfig(kind="text", request_size=2, top_k=5, pool_size=4)
    pools = build_pools(payload, ["/index", "/search"], seed=3).pools
    with start_flow(FlowConfig(flow="text", shards=2, replicas=2, top_k=5), log_dir=tmp_path) as flow:
        with GrpcTransport(flow.target) as transport:
            for _ in range(8):
                assert transport.send(pools["/index"].next()).ok
            for _ in range(4):
                result = transport.send(pools["/search"].next())
                assert result.ok, result.error
                assert result.docs_returned == 2
    # The ranker's arguments go with `uses_after` itself: Jina has no `uses_after_with`.
    assert "ignored unknown argument" not in flow.log_path.read_text(errors="replace")


@pytest.mark.parametrize("spec, expected", [
    ("ANY", "ANY"), ("all", "ALL"), ("/index:ANY,/search:ALL", '{"/index": "ANY", "/search": "ALL"}'),
    (" /search : all_async ", '{"/search": "ALL_ASYNC"}'), ("*:ALL", '{"*": "ALL"}'),
])
def test_polling_specs_become_jinas_argument(spec, expected):
    assert parse_polling(spec) == expected


@pytest.mark.parametrize("spec, needle", [
    ("SOME", "--polling: unknown polling 'SOME'"), ("/search:MANY", "unknown polling 'MANY'"),
    ("search:ALL", "cannot read 'search:ALL'"), ("", "unknown polling ''"),
])
def test_bad_polling_is_one_clear_error(spec, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        FlowConfig(polling=spec)
