"""A stand-in Jina gRPC gateway with a known latency, for measurement tests.

Run as a separate process (so that its work does not share the test's GIL)::

    python tests/fakegateway.py --port 50051 --delay-ms 2 [--stall-at EPOCH --stall-s 1]
        [--log FILE]

It answers ``process_single_data`` with a valid ``DataRequestProto``: every request doc comes
back with ``top_k`` matches (from the request's parameters) and a gateway route. Each answer
takes ``--delay-ms``; during the stall window ``[stall_at, stall_at + stall_s)`` (wall clock)
the server is frozen: a request arriving in it is answered at the window's end plus the
delay. With ``--log`` it appends one line per request: its wall-clock arrival time, its
endpoint and the id of its first document.
"""
from __future__ import annotations

import argparse
import threading
import time
from concurrent import futures

import grpc

from loadgen.protocols.grpc import DRY_RUN_PATH, UNARY_PATH
from loadgen.wire import jina_pb2 as jp


class FakeGateway:
    def __init__(self, *, delay_s: float, stall_at: float, stall_s: float, log_path: str | None):
        self.delay_s, self.stall_at, self.stall_s = delay_s, stall_at, stall_s
        self._log = open(log_path, "a", buffering=1) if log_path else None
        self._lock = threading.Lock()

    def latency_at(self, arrival: float) -> float:
        """Seconds this server takes to answer a request arriving at ``arrival`` (epoch s)."""
        end = self.stall_at + self.stall_s
        frozen = end - arrival if self.stall_at <= arrival < end else 0.0
        return frozen + self.delay_s

    def process(self, raw: bytes, context) -> bytes:
        arrival = time.time()
        request = jp.DataRequestProto.FromString(raw)
        if self._log is not None:
            docs = request.data.docs.docs
            first = docs[0].data["id"].text if docs else "-"
            with self._lock:
                self._log.write(f"{arrival:.6f} {request.header.exec_endpoint} {first}\n")
        time.sleep(self.latency_at(arrival))
        return reply_to(request, arrival).SerializeToString()


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


def serve(port: int, gateway: FakeGateway) -> grpc.Server:
    handlers = {
        UNARY_PATH.split("/")[2]: grpc.unary_unary_rpc_method_handler(gateway.process),
    }
    ok = jp.StatusProto(code=jp.StatusProto.SUCCESS).SerializeToString()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=256), options=[
        ("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)])
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(UNARY_PATH.split("/")[1], handlers),
        grpc.method_handlers_generic_handler(DRY_RUN_PATH.split("/")[1], {
            DRY_RUN_PATH.split("/")[2]: grpc.unary_unary_rpc_method_handler(lambda raw, ctx: ok)}),
    ))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--stall-at", type=float, default=0.0, help="epoch seconds")
    parser.add_argument("--stall-s", type=float, default=0.0)
    parser.add_argument("--log", default=None)
    args = parser.parse_args()
    gateway = FakeGateway(delay_s=args.delay_ms / 1000, stall_at=args.stall_at, stall_s=args.stall_s,
                          log_path=args.log)
    server = serve(args.port, gateway)
    print("ready", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
