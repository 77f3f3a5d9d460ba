"""Tiny scripted metrics servers (threads of the test process) and a real Prometheus server."""
from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import json
from pathlib import Path
from typing import Callable

import pytest

from loadgen.ports import free_port

PROMETHEUS = shutil.which("prometheus")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        server = self.server
        with server.lock:
            server.gets += 1
            number = server.gets
        status, body, delay = server.script(number)
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the scraper gave up (a slow page)

    def log_message(self, *args):
        pass


@pytest.fixture
def metrics_server():
    """``serve(script) -> (url, server)``: ``script(n)`` gives ``(status, body bytes, delay s)``
    for the n-th GET (from 1); ``server.gets`` counts them."""
    servers = []

    def serve(script: Callable[[int], tuple[int, bytes, float]]):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.script, server.gets, server.lock = script, 0, threading.Lock()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/metrics", server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


class Prometheus:
    """A running Prometheus server: ``query(promql)`` over its HTTP API."""

    def __init__(self, url: str, proc: subprocess.Popen, log: Path):
        self.url, self.proc, self.log = url, proc, log

    def query(self, promql: str) -> list[dict]:
        data = self.api("query", query=promql)
        return data["result"]

    def api(self, path: str, **params) -> dict:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = json.load(reply)
        assert body["status"] == "success", body
        return body["data"]

    def wait_for_target_up(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if [r for r in self.query("up") if r["value"][1] == "1"]:
                return
            time.sleep(0.2)
        raise AssertionError(f"Prometheus never scraped its target; log:\n{self.log.read_text()[-2000:]}")


@pytest.fixture
def prometheus(tmp_path):
    """``start(target_port) -> Prometheus``: /usr/bin/prometheus on a free loopback port,
    scraping ``127.0.0.1:target_port`` every second, data in ``tmp_path``; stopped after."""
    if PROMETHEUS is None:
        pytest.skip("no prometheus server: run `make prometheus` as root (Debian package prometheus)")
    procs = []

    def start(target_port: int) -> Prometheus:
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                          "scrape_configs:\n  - job_name: loadgen\n    static_configs:\n"
                          f"      - targets: ['127.0.0.1:{target_port}']\n")
        port, log = free_port(), tmp_path / "prometheus.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append(proc)
        server = Prometheus(f"http://127.0.0.1:{port}", proc, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return server
            except OSError:
                time.sleep(0.2)
            assert proc.poll() is None, f"prometheus exited: {log.read_text()[-2000:]}"
        raise AssertionError(f"prometheus not ready: {log.read_text()[-2000:]}")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
