"""A stand-in Jina gateway (gRPC, HTTP or websocket) with a known latency, for measurement tests.

Run as a separate process (so that its work does not share the test's GIL)::

    python tests/fakegateway.py --port 50051 --delay-ms 2 [--stall-at EPOCH --stall-s 1]
        [--schedule loguniform:MIN_MS,MAX_MS[,SHARE] --seed N] [--delay-until WHEN:MS]
        [--protocol grpc|http|websocket] [--log FILE] [--slots C --service-ms D] [--canned]

It answers like a Jina gateway: gRPC ``process_single_data`` with a valid
``DataRequestProto`` (every request doc comes back with ``top_k`` matches, from the request's
parameters, and a gateway route) and the same answers one by one on the ``/jina.JinaRPC/Call``
stream, or, with ``--protocol http``, ``POST /<endpoint>`` with the
HTTP gateway's JSON (docs and matches, no routes) and ``GET /dry_run``, or, with ``--protocol
websocket``, one binary reply frame (the gRPC reply's bytes) per binary request frame on
``ws://HOST:PORT/`` until the end-of-stream frame ``b'\\x00'``. Each answer takes
``--delay-ms``; during the stall window ``[stall_at, stall_at + stall_s)`` (wall clock) the
server is frozen: a request arriving in it is answered at the window's end plus the delay.

``--delay-until WHEN:MS``: a request arriving before ``WHEN`` takes ``MS`` ms instead of
``--delay-ms``; ``WHEN`` is an epoch time in seconds, or ``+S``: S seconds after the first
request arrived (e.g. ``+2:200``: slow for the first 2 s of traffic, then ``--delay-ms``).

``--schedule loguniform:MIN_MS,MAX_MS[,SHARE]`` adds a seeded random sleep: a share ``SHARE``
(default 1) of the requests, drawn at random, sleeps a further log-uniform time in
``[MIN_MS, MAX_MS]``; the others add nothing. The draws come from ``random.Random(--seed)`` in
arrival order, so a run's multiset of sleeps is fixed by the seed and the request count.

With ``--canned`` each kind of reply (gRPC/websocket: per endpoint, doc count and top_k;
HTTP: per path and body) is built once and sent again for every request of that kind, with
the request's own header (its request id): a cheap echo, so that a client's maximum rate
is measured rather than the fake gateway's (benchmarks/bench_throughput.py). Doc ids and
route times are then those of the first request of the kind.

``--slots C --service-ms D`` gives the server a **known capacity** of C / D requests per second (D in seconds):
C requests are served at a time, each for D ms; a request arriving while all C slots are
busy waits for the first slot to free, in arrival order (FIFO). The queue is computed, not
slept through: at its arrival a request is given the finish time an M/D/C-style FIFO queue
would give it (:class:`Slots`), then sleeps until then -- so the queue is exactly the one a
discrete-event simulation of C servers with deterministic service D describes
(tests/queue_sim.py), whatever the thread scheduling. ``--delay-ms`` and the stall still
add their time outside the slots.

With ``--log`` it appends one line per request: its wall-clock arrival time, its endpoint and
the id of its first document; with ``--schedule`` also the sleep in ms it was given on top of
``--delay-ms`` (0 for the requests outside the share).

Concurrency: gRPC requests run on a pool of ``--threads`` (default 256) threads, and a
sleeping request holds one, so keep the clients' concurrency below it. HTTP and websocket use
one thread per connection (Jina's clients keep one connection per user), without a cap.
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import socket
import socketserver
import threading
import time
from concurrent import futures
from typing import Optional

import grpc

from loadgen.protocols.grpc import DRY_RUN_PATH, STREAM_PATH, UNARY_PATH
from loadgen.wire import jina_pb2 as jp


class Schedule:
    """Seeded extra sleeps: a ``share`` of the requests sleeps log-uniformly in [low_s, high_s]."""

    def __init__(self, *, low_s: float, high_s: float, share: float = 1.0, seed: int = 0):
        if not 0 < low_s <= high_s or not 0 <= share <= 1:
            raise ValueError("need 0 < MIN_MS <= MAX_MS and 0 <= SHARE <= 1")
        self.low_s, self.high_s, self.share = low_s, high_s, share
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> "Schedule":
        """``loguniform:MIN_MS,MAX_MS[,SHARE]`` → a schedule."""
        kind, _, args = spec.partition(":")
        values = [float(v) for v in args.split(",")]
        if kind != "loguniform" or len(values) not in (2, 3):
            raise ValueError(f"--schedule {spec!r}: expected loguniform:MIN_MS,MAX_MS[,SHARE]")
        share = values[2] if len(values) == 3 else 1.0
        return cls(low_s=values[0] / 1000, high_s=values[1] / 1000, share=share, seed=seed)

    def draw(self) -> float:
        """The next request's extra sleep in seconds (thread-safe; two draws per request)."""
        with self._lock:
            picked, u = self._rng.random() < self.share, self._rng.random()
        if not picked:
            return 0.0
        return math.exp(math.log(self.low_s) + u * (math.log(self.high_s) - math.log(self.low_s)))


class Slots:
    """C servers with a deterministic service time and one FIFO queue (a known capacity of
    ``slots / service_s`` requests per second)."""

    def __init__(self, slots: int, service_s: float, *, clock=time.monotonic):
        if slots < 1 or service_s <= 0:
            raise ValueError("need --slots >= 1 and --service-ms > 0")
        self.service_s, self._clock = service_s, clock
        self._free_at = [0.0] * slots  # a heap: when each server is next free (clock seconds)
        self._lock = threading.Lock()

    def admit(self) -> float:
        """Queue a request arriving now; returns the clock time its service ends."""
        with self._lock:
            start = max(self._clock(), heapq.heappop(self._free_at))
            heapq.heappush(self._free_at, start + self.service_s)
        return start + self.service_s

    def serve(self) -> None:
        """Wait in the queue and be served (sleeps until the finish time)."""
        finish = self.admit()
        remaining = finish - self._clock()
        if remaining > 0:
            time.sleep(remaining)


class DelayUntil:
    """``WHEN:MS``: requests arriving before WHEN (epoch s, or ``+S`` after the first arrival)
    take MS ms."""

    def __init__(self, spec: str):
        when, _, ms = spec.partition(":")
        self.relative = when.startswith("+")
        self.until, self.delay_s = float(when.lstrip("+")), float(ms) / 1000
        self._lock = threading.Lock()

    def delay_at(self, arrival: float) -> Optional[float]:
        """The delay of a request arriving at ``arrival`` (epoch s), or None after WHEN."""
        with self._lock:
            if self.relative:  # the first arrival fixes WHEN
                self.until, self.relative = arrival + self.until, False
        return self.delay_s if arrival < self.until else None


class FakeGateway:
    def __init__(self, *, delay_s: float, stall_at: float, stall_s: float, log_path: str | None,
                 schedule: Optional[Schedule] = None, slots: Optional[Slots] = None,
                 delay_until: Optional[DelayUntil] = None, canned: bool = False):
        self.delay_s, self.stall_at, self.stall_s = delay_s, stall_at, stall_s
        self.schedule, self.delay_until = schedule, delay_until
        self.slots = slots
        # --canned: replies built once per kind of request, so that the gateway costs little
        # CPU per request (throughput measurements of the client)
        self.canned: Optional[dict] = {} if canned else None
        self._log = open(log_path, "a", buffering=1) if log_path else None
        self._lock = threading.Lock()

    def latency_at(self, arrival: float) -> float:
        """Seconds this server takes to answer a request arriving at ``arrival`` (epoch s),
        without the schedule's random part."""
        end = self.stall_at + self.stall_s
        frozen = end - arrival if self.stall_at <= arrival < end else 0.0
        early = self.delay_until.delay_at(arrival) if self.delay_until is not None else None
        return frozen + (self.delay_s if early is None else early)

    def wait(self, arrival: float, endpoint: str, first_id: str) -> None:
        """Log the request, then sleep for as long as it is to take."""
        extra = self.schedule.draw() if self.schedule is not None else 0.0
        if self._log is not None:
            line = f"{arrival:.6f} {endpoint} {first_id}"
            if self.schedule is not None:
                line += f" {extra * 1000:.6f}"
            with self._lock:
                self._log.write(line + "\n")
        if self.slots is not None:
            self.slots.serve()
        seconds = self.latency_at(arrival) + extra
        if seconds > 0:
            time.sleep(seconds)

    def process(self, raw: bytes, context) -> bytes:
        arrival = time.time()
        request = jp.DataRequestProto.FromString(raw)
        docs = request.data.docs.docs
        self.wait(arrival, request.header.exec_endpoint, docs[0].data["id"].text if docs else "-")
        if self.canned is None:
            return reply_to(request, arrival).SerializeToString()
        key = (request.header.exec_endpoint, len(docs), request.parameters["top_k"] if "top_k" in request.parameters else 0)
        if key not in self.canned:  # the reply without its header; the request's header follows it
            reply = reply_to(request, arrival)
            reply.ClearField("header")
            self.canned[key] = reply.SerializeToString()
        return self.canned[key] + jp.DataRequestProto(header=request.header).SerializeToString()

    def process_json(self, path: str, body: bytes) -> bytes:
        """The HTTP gateway's answer to ``POST path`` with a JSON ``body``."""
        arrival = time.time()
        if self.canned is not None and (path, body) in self.canned:
            self.wait(arrival, path, "-")
            return self.canned[(path, body)]
        request = json.loads(body)
        docs = request.get("data") or []
        self.wait(arrival, path, docs[0].get("id", "-") if docs else "-")
        top_k = int((request.get("parameters") or {}).get("top_k", 0))
        matches = [{"id": f"{j:032x}"} for j in range(top_k)]
        reply = json.dumps({"data": [{"id": d.get("id"), "matches": matches} for d in docs]}).encode()
        if self.canned is not None:
            self.canned[(path, body)] = reply
        return reply


def reply_to(request: jp.DataRequestProto, arrival: float) -> jp.DataRequestProto:
    reply = jp.DataRequestProto()
    reply.header.CopyFrom(request.header)
    top_k = int(request.parameters["top_k"]) if "top_k" in request.parameters else 0
    for doc in request.data.docs.docs:
        out = reply.data.docs.docs.add()
        out.data["id"].CopyFrom(doc.data["id"])
        for j in range(top_k):
            match = out.data["matches"].doc_array.docs.add()
            match.data["id"].text = f"{j:032x}"
    route = reply.routes.add(executor="gateway")
    route.start_time.FromNanoseconds(int(arrival * 1e9))
    route.end_time.FromNanoseconds(time.time_ns())
    return reply


def serve(port: int, gateway: FakeGateway, *, threads: int = 256) -> grpc.Server:
    handlers = {
        UNARY_PATH.split("/")[2]: grpc.unary_unary_rpc_method_handler(gateway.process),
    }
    ok = jp.StatusProto(code=jp.StatusProto.SUCCESS).SerializeToString()
    stream = grpc.stream_stream_rpc_method_handler(lambda requests, context: (gateway.process(raw, context)
                                                                               for raw in requests))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads), options=[
        ("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)])
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(UNARY_PATH.split("/")[1], handlers),
        grpc.method_handlers_generic_handler(STREAM_PATH.split("/")[1], {STREAM_PATH.split("/")[2]: stream}),
        grpc.method_handlers_generic_handler(DRY_RUN_PATH.split("/")[1], {
            DRY_RUN_PATH.split("/")[2]: grpc.unary_unary_rpc_method_handler(lambda raw, ctx: ok)}),
    ))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


class _HttpHandler(socketserver.StreamRequestHandler):
    """Minimal HTTP/1.1 with keep-alive: the requests loadgen's HTTP transport and probe send."""

    def handle(self) -> None:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            request_line = self.rfile.readline()
            if not request_line.strip():
                return
            method, path = request_line.split()[:2]
            headers = {}
            for line in iter(self.rfile.readline, b"\r\n"):
                if not line:
                    return
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().lower()
            body = self.rfile.read(int(headers.get(b"content-length", 0)))
            self.wfile.write(self.answer(method.decode(), path.decode(), body))
            if headers.get(b"connection") == b"close":
                return

    def answer(self, method: str, path: str, body: bytes) -> bytes:
        if method == "GET" and path == "/dry_run":
            status, reply = "200 OK", b'{"code": 0}'
        elif method == "POST":
            status, reply = "200 OK", self.server.gateway.process_json(path, body)
        else:
            status, reply = "404 Not Found", b'{"detail": "Not Found"}'
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(reply)}\r\n\r\n"
        return head.encode() + reply


class _HttpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def serve_http(port: int, gateway: FakeGateway) -> _HttpServer:
    server = _HttpServer(("127.0.0.1", port), _HttpHandler)
    server.gateway = gateway
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_websocket(port: int, gateway: FakeGateway):
    """Jina's websocket gateway, as far as loadgen speaks it: one binary reply frame per
    binary request frame (a ``DataRequestProto``, answered as over gRPC) until ``b'\\x00'``,
    and ``GET /dry_run`` (plain HTTP, the readiness probe)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.server import serve as ws_serve

    def handle(connection) -> None:
        try:
            for frame in connection:
                if frame == b"\x00":
                    return
                connection.send(gateway.process(frame, None))
        except ConnectionClosed:
            pass

    def dry_run(connection, request):
        return connection.respond(200, '{"code": 0}') if request.path == "/dry_run" else None

    server = ws_serve(handle, "127.0.0.1", port, compression=None, max_size=None, ping_interval=None,
                      process_request=dry_run)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", choices=("grpc", "http", "websocket"), default="grpc")
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--stall-at", type=float, default=0.0, help="epoch seconds")
    parser.add_argument("--stall-s", type=float, default=0.0)
    parser.add_argument("--schedule", default=None, help="loguniform:MIN_MS,MAX_MS[,SHARE]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--delay-until", default=None, help="WHEN:MS (WHEN: epoch s or +S after the first request)")
    parser.add_argument("--threads", type=int, default=256, help="gRPC request threads")
    parser.add_argument("--log", default=None)
    parser.add_argument("--canned", action="store_true",
                        help="build each kind of reply once (same docs and matches, the request's own header): "
                             "a cheap echo for measuring a client's throughput")
    parser.add_argument("--slots", type=int, default=0, help="requests served at a time (0: no limit)")
    parser.add_argument("--service-ms", type=float, default=0.0, help="with --slots: each request's service time")
    args = parser.parse_args()
    schedule = Schedule.parse(args.schedule, seed=args.seed) if args.schedule else None
    slots = Slots(args.slots, args.service_ms / 1000) if args.slots else None
    gateway = FakeGateway(delay_s=args.delay_ms / 1000, stall_at=args.stall_at, stall_s=args.stall_s,
                          log_path=args.log, schedule=schedule, slots=slots,
                          delay_until=DelayUntil(args.delay_until) if args.delay_until else None,
                          canned=args.canned)
    if args.protocol in ("http", "websocket"):
        (serve_http if args.protocol == "http" else serve_websocket)(args.port, gateway)
        print("ready", flush=True)
        threading.Event().wait()
    else:
        server = serve(args.port, gateway, threads=args.threads)
        print("ready", flush=True)
        server.wait_for_termination()


if __name__ == "__main__":
    main()
