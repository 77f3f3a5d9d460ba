"""The web UI behind a login (``--web-login``, docs/usage.md): refused without it, served
with it, and no credential in the page or the output.

One real Locust process with its web UI on a free loopback port (``--web-host 127.0.0.1``),
the shipped locustfiles/text.py (loadgen installs the login: loadgen/locust_adapter/weblogin.py),
and credentials everywhere: the login
password in the environment, ``user:password`` in ``--host``, an API key in ``--header``.
No load is started; the process is stopped with SIGTERM at the end.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import ROOT
from loadgen.ports import free_port

pytestmark = [pytest.mark.chaos, pytest.mark.locust]
LOCUST = str(Path(sys.executable).parent / "locust")
WEB_PASSWORD, HOST_PASSWORD, API_KEY = "web-login-pw-5e4d3c", "host-pw-2b1a09", "hdr-key-8f7e6d"


def _request(port, method, path, *, cookie="", form=None):
    """``(status, headers, body, cookie)``; redirects are returned, not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urllib.parse.urlencode(form).encode() if form else None
    headers = {"Cookie": cookie} if cookie else {}
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read().decode(errors="replace")
    finally:
        connection.close()
    set_cookie = response.getheader("Set-Cookie", "")
    return response.status, response, data, set_cookie.split(";")[0] or cookie


def _wait_listening(port, proc, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "Locust exited before its web UI came up"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web UI did not come up")


@pytest.fixture
def protected_ui(tmp_path):
    port = free_port()
    env = {**os.environ, "LOADGEN_WEB_PASSWORD": WEB_PASSWORD, "PYTHONUNBUFFERED": "1"}
    args = ["-f", "locustfiles/text.py", "--web-login", "--web-host", "127.0.0.1",
            "--web-port", str(port), "--host", f"grpc://tester:{HOST_PASSWORD}@127.0.0.1:{free_port()}",
            "--skip-host-check", "--header", f"X-Api-Key: {API_KEY}", "--results-dir", str(tmp_path / "results")]
    proc = subprocess.Popen([LOCUST, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        _wait_listening(port, proc)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_the_web_ui_wants_a_login_and_shows_no_secret(protected_ui):
    port, proc = protected_ui
    for path in ("/", "/stats/requests"):
        status, response, body, _ = _request(port, "GET", path)
        assert status == 302 and "/login" in response.getheader("Location"), (path, status)
        assert "extended_stats" not in body  # loadgen's HDR rows ride on /stats/requests: not without a login
    status, _, _, cookie = _request(port, "POST", "/loadgen_login_submit", form={"username": "admin", "password": "guess"})
    assert status == 302 and _request(port, "GET", "/stats/requests", cookie=cookie)[0] == 302, "wrong password"

    status, _, _, cookie = _request(port, "POST", "/loadgen_login_submit",
                                    form={"username": "admin", "password": WEB_PASSWORD})
    assert status == 302
    status, _, stats, cookie = _request(port, "GET", "/stats/requests", cookie=cookie)
    assert status == 200 and '"extended_stats"' in stats
    status, _, page, _ = _request(port, "GET", "/", cookie=cookie)
    assert status == 200 and "127.0.0.1" in page
    for secret in (WEB_PASSWORD, HOST_PASSWORD, API_KEY):
        assert secret not in page and secret not in stats

    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
    assert all(secret not in stdout + stderr for secret in (WEB_PASSWORD, HOST_PASSWORD, API_KEY))


def test_web_login_without_a_password_is_a_usage_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LOADGEN_WEB_PASSWORD"}
    proc = subprocess.run([LOCUST, "-f", "locustfiles/text.py", "--web-login", "--web-host", "127.0.0.1",
                           "--web-port", str(free_port()), "--host", f"grpc://127.0.0.1:{free_port()}",
                           "--skip-host-check", "--results-dir", str(tmp_path / "results")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "loadgen: error: --web-login: set the environment variable LOADGEN_WEB_PASSWORD" in proc.stderr
