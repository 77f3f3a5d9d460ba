"""Custom ``module:function`` generators and validators, end to end: ``loadgen run`` with a
scenario whose modules sit beside it, against a stand-in gateway that logs the id of the
first document of every request it receives (tests/fakegateway.py) -- so the test sees what
went over the wire, not what loadgen says it sent."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = Path(sys.executable).parent / "loadgen"
pytestmark = pytest.mark.locust

MY_DOCS = '''
calls = []

def texts(*, worker_index, workers, prefix, count=40):
    """Worker k of n takes every n-th document."""
    for i in range(worker_index, count, workers):
        yield {"id": f"{prefix}-{i}", "text": f"document number {i}", "lang": "en"}
'''
MY_CHECKS = '''
def check(result, *, reject=False):
    if reject:
        return f"rejected {result.endpoint} with {result.docs_returned} docs"
    if result.docs_returned != result.docs_sent:
        return "lost documents"
    return None
'''
SCENARIO = """
jobs:
  custom:
    steps:
      - method: index
        gateway_host: 127.0.0.1
        gateway_port: {port}
        execution_time: 3
        num_clients: 2
        request_size: 1
        workers: 2
        inputs: {{method: "my_docs:texts", kwargs: {{prefix: custom}}}}
        on_always: {{method: "my_checks:check"}}
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: {port}
        execution_time: 2
        num_clients: 2
        request_size: 1
        top_k: 3
        inputs: {{method: "my_docs:texts", kwargs: {{prefix: asked}}}}
        on_always: {{method: "my_checks:check", kwargs: {{reject: true}}}}
"""


@pytest.fixture
def gateway(tmp_path, launch_fake_gateway):
    log = tmp_path / "arrivals.log"
    return launch_fake_gateway("--delay-ms", 1, "--log", log), log


def test_custom_generator_and_validator_run_in_a_scenario(tmp_path, gateway):
    port, log = gateway
    work = tmp_path / "study"
    work.mkdir()
    (work / "my_docs.py").write_text(MY_DOCS)
    (work / "my_checks.py").write_text(MY_CHECKS)
    (work / "s.yml").write_text(SCENARIO.format(port=port))
    results = tmp_path / "results"
    proc = subprocess.run([str(LOADGEN), "run", str(work / "s.yml"), "--results-dir", str(results), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr[-3000:]  # the query step's validator rejects every reply
    assert "Traceback" not in proc.stderr

    received = [line.split() for line in log.read_text().splitlines()]
    ids = {endpoint: {fields[2] for fields in received if fields[1] == endpoint} for endpoint in ("/index", "/search")}
    # Both workers' shares of the generator's 40 documents reached the gateway, and nothing else.
    assert ids["/index"] == {f"custom-{i}" for i in range(40)}
    assert ids["/search"] and all(i.startswith("asked-") for i in ids["/search"])

    index = json.loads((results / "custom/point1_rep1/01-index/summary.json").read_text())
    assert index["dataset"]["function"] == "my_docs:texts" and index["dataset"]["kwargs"] == {"prefix": "custom"}
    assert index["workers"] == 2 and index["total"]["requests"] > 0 and index["total"]["failures"] == 0
    query = json.loads((results / "custom/point1_rep1/02-query/summary.json").read_text())
    assert query["total"]["requests"] > 0 and query["failures"] == {"validation": query["total"]["requests"]}
    rows = {row["step"]: row["status"] for row in json.loads((results / "results.json").read_text())["table"]}
    assert rows == {"01-index": "ok", "02-query": "failures"}
    command = (results / "custom/point1_rep1/02-query/locust.log").read_text().splitlines()[0]
    assert "--validator my_checks:check --validator-kwargs {\"reject\": true}" in command


def test_a_broken_generator_is_a_scenario_error_before_any_load(tmp_path):
    (tmp_path / "bad_docs.py").write_text("def texts(*, worker_index, workers):\n    return [42]\n")
    (tmp_path / "s.yml").write_text(textwrap.dedent("""\
        jobs:
          j:
            steps:
              - method: query
                gateway_host: 127.0.0.1
                gateway_port: 1
                inputs: {method: "bad_docs:texts"}
        """))
    proc = subprocess.run([str(LOADGEN), "run", str(tmp_path / "s.yml"), "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"loadgen: error: {tmp_path / 's.yml'}:7: jobs.j.steps[0].inputs.method: --dataset python:bad_docs:texts: "
        "item 0 is a int; yield a str (text), a numpy array (tensor), bytes (blob) or a dict like {'text': ...}"]
