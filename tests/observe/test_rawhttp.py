"""The blocking HTTP of the scrape and export threads, against tiny servers in the test."""
import socket
import threading
import time

import pytest

from loadgen.observe.rawhttp import HttpError, get, parse_response, url_host_port
from loadgen.ports import free_port


def serve_once(reply: bytes, *, delay_s: float = 0.0):
    """A server that answers one connection with ``reply`` (raw bytes) after ``delay_s``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        conn, _ = server.accept()
        conn.recv(4096)
        time.sleep(delay_s)
        try:
            conn.sendall(reply)
        except OSError:
            pass
        conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/metrics"


def test_a_plain_reply():
    url = serve_once(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nup 1\n")
    response = get(url, timeout_s=5)
    assert response.status == 200 and response.body == b"up 1\n" and response.headers["content-type"] == "text/plain"


def test_a_chunked_reply_is_decoded():
    url = serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nup 1\r\n1\r\n\n\r\n0\r\n\r\n")
    assert get(url, timeout_s=5).body == b"up 1\n"


def test_down_slow_and_garbage():
    with pytest.raises(HttpError) as down:
        get(f"http://127.0.0.1:{free_port()}/metrics", timeout_s=2)
    assert down.value.kind == "down"
    slow = serve_once(b"HTTP/1.0 200 OK\r\n\r\nlate", delay_s=3)
    started = time.monotonic()
    with pytest.raises(HttpError) as late:
        get(slow, timeout_s=0.5)
    assert late.value.kind == "slow" and time.monotonic() - started < 2
    with pytest.raises(HttpError) as garbage:
        get(serve_once(b"\x00\x00\x18\x04\x00\x00 binary"), timeout_s=2)
    assert garbage.value.kind == "garbage"
    with pytest.raises(HttpError) as large:
        get(serve_once(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 5000), timeout_s=2, max_bytes=1000)
    assert large.value.kind == "garbage"


def test_parse_and_urls():
    assert parse_response(b"HTTP/1.1 500 Internal Server Error\r\n\r\noops").status == 500
    assert url_host_port("http://flow:9095/metrics") == ("flow", 9095)
    assert url_host_port("http://flow/metrics") == ("flow", 80)
    assert url_host_port("https://flow/metrics") is None and url_host_port("flow:9095") is None
