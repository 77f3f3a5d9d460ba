"""The process's watchdog of overdue replies: a fake clock for what it expires and when, and
a websocket transport and a gRPC stream against the fake gateway (its own process) that
answers late, for the timeout a user sees: failed between the deadline and one sweep after
it, the connection (stream) dropped, the next request answered on a new one."""
import time

import pytest

from loadgen.config import TargetConfig
from loadgen.documents import text_documents
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import RequestTimeout
from loadgen.protocols.grpc import GrpcTransport
from loadgen.protocols.watchdog import SWEEP_S, Watchdog
from loadgen.protocols.websocket import WATCHED_FROM_S, WebsocketTransport


class FakeClock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


def test_a_sweep_expires_each_overdue_receive_once_and_nothing_else():
    clock, expired = FakeClock(), []
    dog = Watchdog(period_s=0.1, clock=clock)
    dog._thread = object()  # swept by hand here: no thread
    for key, deadline in (("a", 100.5), ("b", 101.0), ("c", 102.0)):
        dog.watch(key, deadline, lambda key=key: expired.append(key))
    dog.unwatch("b")  # its reply came in time
    assert dog.sweep() == 0 and expired == []
    clock.now = 101.5
    assert dog.sweep() == 1 and expired == ["a"]
    assert dog.sweep() == 0 and expired == ["a"]  # once
    dog.watch("a", 103.0, lambda: expired.append("a again"))  # the next request of the same transport
    clock.now = 102.0
    assert dog.sweep() == 1 and expired == ["a", "c"]
    clock.now = 103.0
    assert dog.sweep() == 1 and expired == ["a", "c", "a again"]


def test_the_sweeper_thread_starts_on_first_use_and_expires_on_its_own():
    expired = []
    dog = Watchdog(period_s=0.02)
    assert dog._thread is None
    dog.watch("k", time.perf_counter() + 0.05, lambda: expired.append(time.perf_counter()))
    deadline = time.perf_counter() + 0.05
    time.sleep(0.3)
    assert len(expired) == 1 and deadline <= expired[0] <= deadline + 0.2


def _request(seed):
    return encode(RequestSpec(endpoint="/search", docs=list(text_documents(1, seed=seed))))


@pytest.mark.parametrize("timeout_s", [WATCHED_FROM_S + 0.2, 0.4])  # the watchdog's; a timer per receive
def test_a_late_reply_is_a_timeout_at_its_deadline_and_the_next_request_gets_a_new_connection(
        launch_fake_gateway, timeout_s):
    # Slow (3 s) for the first 0.2 s of traffic, then 5 ms.
    port = launch_fake_gateway("--protocol", "websocket", "--delay-ms", 5, "--delay-until", "+0.2:3000")
    with WebsocketTransport(TargetConfig(protocol="websocket", port=port, timeout_s=timeout_s)) as transport:
        late = transport.send(_request(1))
        connection = transport._connection
        on_time = transport.send(_request(2))
    assert isinstance(late.error, RequestTimeout) and late.error.kind == "timeout", late.error
    allowed = SWEEP_S if timeout_s >= WATCHED_FROM_S else 0.0
    # the span covers the handshake too; the machine may be slow to switch back by some ms
    assert timeout_s - 0.01 <= late.latency_s <= timeout_s + allowed + 0.1, late.latency_s
    assert connection is None and on_time.ok, on_time.error


def test_a_late_reply_on_a_grpc_stream_is_a_timeout_and_the_next_request_gets_a_new_stream(launch_fake_gateway):
    port = launch_fake_gateway("--delay-ms", 5, "--delay-until", "+0.2:3000")
    target = TargetConfig(protocol="grpc", port=port, grpc_mode="stream", timeout_s=1.2)
    with GrpcTransport(target) as transport:
        late = transport.send(_request(1))
        stream = transport._stream
        on_time = transport.send(_request(2))
    assert isinstance(late.error, RequestTimeout) and "(stream)" in str(late.error), late.error
    assert 1.2 - 0.01 <= late.latency_s <= 1.2 + SWEEP_S + 0.1, late.latency_s
    assert stream is None and on_time.ok, on_time.error
