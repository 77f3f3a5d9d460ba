"""Starting and stopping Flows: errors are the Flow's own, bounded in time; stop frees the port."""
import socket
import time

import pytest

from loadgen.errors import ConfigError
from loadgen.flowctl import FlowConfig, FlowError, flow_yaml, start_flow


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
