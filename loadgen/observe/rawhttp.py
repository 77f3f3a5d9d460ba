"""Blocking HTTP/1.0 on the C socket module, for loadgen's own threads: one GET (:func:`get`)
and a one-connection-at-a-time server (:class:`Listener`).

Why not urllib or http.server: under Locust, gevent monkey-patches ``socket``, ``threading``
and ``selectors``; a patched socket used from a native thread starts a second gevent hub in
that thread, and a patched server thread is a greenlet on the hub that sends the load.
``_socket`` (the C module under ``socket``) is never patched: its calls block only the
calling thread and release the GIL while they wait. HTTP/1.0 keeps the protocol trivial:
the server closes the connection after the body, so there is no chunking to undo (a chunked
reply is decoded anyway) and no keep-alive to manage.
"""
from __future__ import annotations

import _socket
import time
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import urlsplit

MAX_BODY = 16 * 2**20  # a metrics page larger than this is not one (bytes)
MAX_HEAD = 8192  # request head a server reads (bytes)


class HttpError(Exception):
    """A GET that got no usable reply; ``kind`` is ``down`` (refused, unreachable), ``slow``
    (the deadline passed) or ``garbage`` (not HTTP, or too large)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


def get(url: str, *, timeout_s: float, max_bytes: int = MAX_BODY) -> Response:
    """GET ``url`` (``http://`` only) within ``timeout_s`` seconds in all (connect, send,
    read). :raises HttpError: no reply, a late one, or something that is not HTTP."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout_s
    request = (f"GET {path} HTTP/1.0\r\nHost: {parts.netloc}\r\nAccept: text/plain\r\n"
               f"User-Agent: jina-loadgen\r\n\r\n").encode("ascii")
    try:
        sock = _connect(parts.hostname or "127.0.0.1", parts.port or 80, deadline)
        try:
            sock.sendall(request)
            raw = _read_all(sock, deadline, max_bytes)
        finally:
            sock.close()
    except TimeoutError:
        raise HttpError("slow", f"no complete reply within {timeout_s:g} s") from None
    except OSError as exc:
        raise HttpError("down", exc.strerror or str(exc)) from None
    return parse_response(raw)


def _connect(host: str, port: int, deadline: float) -> _socket.socket:
    family, kind, proto, _, address = _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM)[0]
    sock = _socket.socket(family, kind, proto)
    try:
        sock.settimeout(_remaining(deadline))
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _read_all(sock: _socket.socket, deadline: float, max_bytes: int) -> bytes:
    chunks, size = [], 0
    while True:
        sock.settimeout(_remaining(deadline))
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
        size += len(data)
        if size > max_bytes:
            raise HttpError("garbage", f"reply larger than {max_bytes // 2**20} MiB")


def parse_response(raw: bytes) -> Response:
    """A whole HTTP/1.x reply as bytes → :class:`Response`. :raises HttpError: not HTTP."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(None, 2)
    if not sep or len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise HttpError("garbage", f"not an HTTP reply: {raw[:40]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Response(status=int(status_line[1]), body=body, headers=headers)


def _dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise HttpError("garbage", "bad chunked encoding") from None
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


class Listener:
    """A listening TCP socket on ``host:port`` (0: any free port) that answers one request
    per connection, one connection at a time, with ``handler(method, path) -> Response``.

    Binding happens in the constructor, so a port already in use raises ``OSError`` there
    (before any load). :meth:`serve_forever` runs in the caller's (native) thread until
    :meth:`close`.
    """

    POLL_S = 0.25  # how soon serve_forever notices close()
    CLIENT_TIMEOUT_S = 5.0  # a client that sends nothing for this long is dropped

    def __init__(self, host: str, port: int):
        family, kind, proto, _, address = _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM)[0]
        self._sock = _socket.socket(family, kind, proto)
        try:
            self._sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)  # TIME_WAIT only; a listener still conflicts
            self._sock.bind(address)
            self._sock.listen(16)
            self._sock.settimeout(self.POLL_S)
        except BaseException:
            self._sock.close()
            raise
        self.host, self.port = host, self._sock.getsockname()[1]
        self._closed = False

    def serve_forever(self, handler: Callable[[str, str], Response],
                      on_sent: Optional[Callable[[str], None]] = None) -> None:
        """Answer requests until :meth:`close`; ``on_sent(user_agent)`` after each complete reply."""
        while not self._closed:
            try:
                fd, _ = self._sock._accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closed:
                    return
                continue
            conn = _socket.socket(fileno=fd)
            try:
                agent = self._answer(conn, handler)
                if agent is not None and on_sent is not None:
                    on_sent(agent)
            except OSError:
                pass  # the client went away: its problem
            finally:
                conn.close()

    def _answer(self, conn: _socket.socket, handler: Callable[[str, str], Response]) -> Optional[str]:
        """Read one request, send ``handler``'s reply; the client's User-Agent ("" without one),
        or None when no request came."""
        conn.settimeout(self.CLIENT_TIMEOUT_S)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
            data = conn.recv(4096)
            if not data:
                break
            head += data
        words = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(words) < 2:
            return None
        reply = handler(words[0], words[1])
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}.get(reply.status, "")
        lines = [f"HTTP/1.0 {reply.status} {reason}", *(f"{k}: {v}" for k, v in reply.headers.items()),
                 f"Content-Length: {len(reply.body)}", "Connection: close", "", ""]
        conn.sendall("\r\n".join(lines).encode("latin-1") + (reply.body if words[0] != "HEAD" else b""))
        return user_agent(head)

    def close(self) -> None:
        """Stop serving (within :attr:`POLL_S`) and free the port."""
        self._closed = True
        self._sock.close()


def start_listener(host: str, port: int, handler: Callable[[str, str], Response], *,
                   start_thread: Callable[[Callable[[], None]], None],
                   on_sent: Optional[Callable[[str], None]] = None) -> Listener:
    """Bind ``host:port`` now, then serve from a thread started with ``start_thread(fn)``
    (the Locust adapter passes one that starts a native thread). :raises OSError: in use."""
    listener = Listener(host, port)
    start_thread(lambda: listener.serve_forever(handler, on_sent))
    return listener


def url_host_port(url: str) -> Optional[tuple[str, int]]:
    """``(host, port)`` of an ``http://`` URL, None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    try:
        return parts.hostname, parts.port or 80
    except ValueError:
        return None


def user_agent(head: bytes) -> str:
    """The ``User-Agent`` of a request head ("" when it has none)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"user-agent":
            return value.strip().decode("latin-1")
    return ""
