"""Secrets stay secret: credentials given to loadgen reach the gateway and nothing else.

Credentials enter as ``--host``'s ``user:password`` (sent as ``Authorization: Basic``),
``--header`` values, AWS variables in the environment (read by boto3 only) and Locust's own
options. A real distributed Locust run against a gateway that answers only authenticated
calls proves that they arrive, on every worker; then every byte the run printed or wrote
(stdout, stderr, summary.json, report.html, timeseries.csv, histograms.hlog, Locust's CSV,
HTML report and log file) is searched for them.
"""
import base64
import json
import os
import subprocess
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from websockets.sync.server import serve as serve_websocket

from conftest import ROOT
from fakegateway import reply_to
from loadgen.config import TargetConfig, parse_headers
from loadgen.documents import text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConfigError
from loadgen.ports import free_port
from loadgen.protocols import open_transport, probe
from loadgen.protocols.grpc import DRY_RUN_PATH, STREAM_PATH, UNARY_PATH
from loadgen.wire import jina_pb2 as jp

pytestmark = pytest.mark.chaos
LOCUST = str(Path(sys.executable).parent / "locust")
USER, PASSWORD = "loadtester", "hunter2-host-password"
API_KEY = "hdr-secret-9f8e7d"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
AWS = {"AWS_ACCESS_KEY_ID": "AKIAFAKESECURITY0042", "AWS_SECRET_ACCESS_KEY": "fake-aws-secret-key-7c6b5a",
       "AWS_SESSION_TOKEN": "fake-aws-session-token-3d2c1b"}
SECRETS = (PASSWORD, API_KEY, BASIC.split()[1], *AWS.values())


class AuthGateway:
    """A stand-in Jina gRPC gateway behind an auth proxy: it answers (as tests/fakegateway.py
    does) only calls whose metadata carries ``required``; others end ``UNAUTHENTICATED``."""

    def __init__(self, required: dict[str, str]):
        self.required = required
        self.answered = self.refused = 0
        self._lock = threading.Lock()

    def _admit(self, context) -> None:
        seen = dict(context.invocation_metadata())
        allowed = all(seen.get(key) == value for key, value in self.required.items())
        with self._lock:
            self.answered += allowed
            self.refused += not allowed
        if not allowed:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no or wrong credentials")

    def unary(self, raw: bytes, context) -> bytes:
        self._admit(context)
        return reply_to(jp.DataRequestProto.FromString(raw), time.time()).SerializeToString()

    def stream(self, requests, context):
        self._admit(context)
        for raw in requests:
            yield reply_to(jp.DataRequestProto.FromString(raw), time.time()).SerializeToString()

    def dry_run(self, raw: bytes, context) -> bytes:
        self._admit(context)
        return jp.StatusProto(code=jp.StatusProto.SUCCESS).SerializeToString()

    def serve(self, port: int) -> grpc.Server:
        methods = {UNARY_PATH: grpc.unary_unary_rpc_method_handler(self.unary),
                   STREAM_PATH: grpc.stream_stream_rpc_method_handler(self.stream),
                   DRY_RUN_PATH: grpc.unary_unary_rpc_method_handler(self.dry_run)}
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        for path, handler in methods.items():
            service, method = path.split("/")[1:]
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {method: handler}),))
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        return server


@pytest.fixture
def auth_gateway():
    gateway, port = AuthGateway({"authorization": BASIC, "x-api-key": API_KEY}), free_port()
    server = gateway.serve(port)
    yield gateway, port
    server.stop(grace=None)


def leaks(texts: dict[str, str | bytes], secrets=SECRETS) -> list[tuple[str, str]]:
    """``(where, secret)`` for every secret found in ``texts`` (name -> content)."""
    found = []
    for where, content in texts.items():
        data = content.encode() if isinstance(content, str) else content
        found += [(where, secret) for secret in secrets if secret.encode() in data]
    return found


def files_under(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# -- a real run -------------------------------------------------------------------------------
INJECTIONS = ("$(touch {f}1)", "`touch {f}2`", "__import__('os').system('touch {f}3')",
              "{{{{ __import__('os').system('touch {f}4') }}}}", "!!python/object/apply:os.system ['touch {f}5']")


def _dataset(tmp_path: Path) -> Path:
    """A JSONL dataset whose texts are shell, Python and template injections: sent as data."""
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": text.format(f=tmp_path / "pwned")}) + "\n" for text in INJECTIONS))
    return path


@pytest.mark.locust
def test_a_distributed_run_sends_the_credentials_and_writes_none_of_them(auth_gateway, tmp_path):
    gateway, port = auth_gateway
    results, master_port = tmp_path / "results", free_port()
    env = {**os.environ, **AWS, "PYTHONUNBUFFERED": "1",
           "LOCUST_HOST": f"grpc://{USER}:{PASSWORD}@127.0.0.1:{port}"}  # the host from the environment
    args = ["-f", "locustfiles/text.py", "--headless", "-u", "4", "-r", "4", "-t", "4s",
            "--processes", "2", "--master-bind-port", str(master_port), "--master-port", str(master_port),
            "--header", f"X-Api-Key: {API_KEY}", "--task-mix", "index:1,search:3", "--request-size", "1",
            "--top-k", "3", "--dataset", f"jsonl:{_dataset(tmp_path)}", "--results-dir", str(results),
            "--csv", str(results / "locust"), "--csv-full-history", "--html", str(results / "locust.html"),
            "--logfile", str(results / "locust.log"), "--loglevel", "DEBUG"]
    proc = subprocess.run([LOCUST, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0, "both workers authenticated"
    assert summary["workers"] == 2 and gateway.answered > 0 and gateway.refused == 0
    assert summary["target"] == f"grpc://127.0.0.1:{port}" and summary["headers"] == ["Authorization", "X-Api-Key"]
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr, **files_under(results)}
    assert {"summary.json", "report.html", "timeseries.csv", "histograms.hlog", "locust.log"} <= set(outputs)
    assert leaks(outputs) == [] and leaks({"check": f"a{BASIC}b"}) == [("check", BASIC.split()[1])]
    assert list(tmp_path.glob("pwned*")) == [], "a document's text was executed"


@pytest.mark.locust
@pytest.mark.parametrize("args, expected", [
    (["--host", f"grpc://{USER}:{PASSWORD}@127.0.0.1:99999"],
     f"--host: bad port in 'grpc://{USER}:***@127.0.0.1:99999'"),
    (["--host", f"ws://{USER}:{PASSWORD}@gw:1", "--protocol", "grpc"], f"does not match --host ws://{USER}:***@gw:1"),
    (["--header", f"Authorization Bearer {API_KEY}"], "--header: item 1 is not 'Name: value'"),
    (["--header", "X-Ok: 1", "--header", f"X-Bad: {API_KEY}\u00e9"], "--header: item 2 is not 'Name: value'"),
    (["--web-auth", f"{USER}:{PASSWORD}"], "--web-auth parameters has been replaced with --web-login"),
], ids=["host-bad-port", "host-protocol-mismatch", "header-without-colon", "header-non-ascii", "locust-web-auth"])
def test_bad_credentials_input_is_refused_without_echoing_it(args, expected):
    proc = subprocess.run([LOCUST, "-f", "locustfiles/text.py", "--headless", "-t", "2s", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert leaks({"stdout": proc.stdout, "stderr": proc.stderr}) == []


def test_a_scenario_dry_run_shows_no_secret_from_variables(tmp_path):
    """Secrets in the --env-file, --set and the environment are substituted, never printed."""
    scenario = tmp_path / "s.yml"
    scenario.write_text("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: image\n"
                        "      - method: index\n        execution_time: 1\n        num_clients: 1\n"
                        "        inputs: {method: random_texts}\n      - method: terminate_flow\n")
    env_file = tmp_path / "run.env"
    env_file.write_text(f"API_TOKEN={API_KEY}\nexport DB_PASSWORD='{PASSWORD}'\n")
    proc = subprocess.run([sys.executable, "-m", "loadgen", "run", str(scenario), "--env-file", str(env_file),
                           "--set", f"GATEWAY_TOKEN={BASIC}", "--dry-run"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **AWS}, cwd=tmp_path)
    assert proc.returncode == 0 and "job j" in proc.stdout, proc.stderr
    written = {k: v for k, v in files_under(tmp_path).items() if k not in ("run.env", "s.yml")}
    assert leaks({"stdout": proc.stdout, "stderr": proc.stderr, **written}) == []


# -- --header over each transport ---------------------------------------------------------------
def _index_request(wire="protobuf"):
    return encode(RequestSpec(endpoint="/index", docs=list(text_documents(1, seed=1))), wire=wire)


@pytest.mark.parametrize("mode", ["unary", "stream"])
def test_grpc_sends_the_headers_as_metadata(auth_gateway, mode):
    gateway, port = auth_gateway
    target = TargetConfig.from_url(f"grpc://{USER}:{PASSWORD}@127.0.0.1:{port}", grpc_mode=mode,
                                   headers=parse_headers([f"X-Api-Key: {API_KEY}"]))
    assert probe(target) is None
    with open_transport(target) as transport:
        assert all(transport.send(_index_request()).ok for _ in range(3))
    bare = TargetConfig.from_url(f"grpc://127.0.0.1:{port}", grpc_mode=mode)
    with open_transport(bare) as transport:
        failed = transport.send(_index_request())
    assert failed.error.kind == "protocol" and "UNAUTHENTICATED" in str(failed.error)
    # unary: the probe and 3 calls; stream: the probe and one long-lived call
    assert gateway.answered == (4 if mode == "unary" else 2) and gateway.refused == 1


class _Recorder(BaseHTTPRequestHandler):
    """Records each request's headers; answers 401 without the expected Authorization."""

    seen: list = []

    def do_GET(self):
        self._answer(b'{"code": 0}')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(b'{"data": []}')

    def _answer(self, body: bytes):
        type(self).seen.append((self.command, self.path, dict(self.headers)))
        status = 200 if self.headers.get("Authorization") == BASIC else 401
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_sends_the_headers_with_requests_and_the_probe():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.server_address[1]}"
    try:
        target = TargetConfig.from_url(url, headers=parse_headers([f"X-Api-Key: {API_KEY}"]))
        assert probe(target) is None
        with open_transport(target) as transport:
            transport.send(_index_request(wire="json"))
        assert "give credentials with --header" in probe(TargetConfig.from_url(url.replace(f"{USER}:{PASSWORD}@", "")))
    finally:
        server.shutdown()
        server.server_close()
    (probe_call, post, bare_probe) = _Recorder.seen
    assert probe_call[:2] == ("GET", "/dry_run") and post[:2] == ("POST", "/index")
    for _, _, headers in (probe_call, post):
        assert headers["Authorization"] == BASIC and headers["X-Api-Key"] == API_KEY
    assert "Authorization" not in bare_probe[2]


def test_websocket_sends_the_headers_with_the_handshake():
    seen = []

    def handler(connection):
        seen.append(connection.request.headers)
        for raw in connection:
            if raw == b"\x00":  # the client's end-of-stream frame
                return
            connection.send(reply_to(jp.DataRequestProto.FromString(raw), time.time()).SerializeToString())

    with serve_websocket(handler, "127.0.0.1", 0, compression=None) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        target = TargetConfig.from_url(f"ws://{USER}:{PASSWORD}@127.0.0.1:{port}",
                                       headers=parse_headers([f"X-Api-Key: {API_KEY}"]))
        with open_transport(target) as transport:
            assert transport.send(_index_request()).ok
        server.shutdown()
    assert seen and seen[0]["Authorization"] == BASIC and seen[0]["X-Api-Key"] == API_KEY


def test_an_explicit_authorization_header_wins_over_the_hosts_password():
    target = TargetConfig.from_url(f"grpc://{USER}:{PASSWORD}@gw:1", headers=parse_headers(["authorization: Bearer t"]))
    assert target.headers == (("authorization", "Bearer t"),)
    assert PASSWORD not in repr(target) and API_KEY not in repr(TargetConfig(headers=(("X", API_KEY),)))
    with pytest.raises(ConfigError) as error:
        parse_headers([f"Authorization: Bearer {API_KEY}\r\nX-Injected: 1"])
    assert API_KEY not in str(error.value)


@pytest.mark.locust
def test_a_scenario_sends_headers_from_variables_and_shows_none(auth_gateway, tmp_path):
    """`headers:` of a load step, filled from an env file: the gateway gets them, and no output
    of `loadgen run` (stdout, stderr, plan.txt, the step's locust.log with its equivalent
    command, summary.json, the tables) holds a value."""
    gateway, port = auth_gateway
    scenario, env_file, results = tmp_path / "s.yml", tmp_path / "run.env", tmp_path / "results"
    scenario.write_text(
        "jobs:\n  j:\n    steps:\n      - method: query\n        gateway_host: 127.0.0.1\n"
        f"        gateway_port: {port}\n        execution_time: 2\n        num_clients: 2\n"
        "        top_k: 3\n        inputs: random_texts\n"
        "        headers: ['Authorization: ${GATEWAY_AUTH}', 'X-Api-Key: ${API_TOKEN}']\n")
    env_file.write_text(f"GATEWAY_AUTH='{BASIC}'\nAPI_TOKEN={API_KEY}\n")
    proc = subprocess.run([str(Path(sys.executable).parent / "loadgen"), "run", str(scenario), "--env-file",
                           str(env_file), "--results-dir", str(results)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert gateway.answered > 0 and gateway.refused == 0
    summary = json.loads((results / "j/point1_rep1/01-query/summary.json").read_text())
    assert summary["total"]["requests"] > 0 and summary["headers"] == ["Authorization", "X-Api-Key"]
    log = (results / "j/point1_rep1/01-query/locust.log").read_text()
    assert "--header Authorization: *** --header X-Api-Key: ***" in log.splitlines()[0]
    assert "headers=[Authorization, X-Api-Key]" in (results / "plan.txt").read_text()
    assert leaks({"stdout": proc.stdout, "stderr": proc.stderr, **files_under(results)}) == []
