import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.errors import ConnectError, ValidationError
from loadgen.metrics import HIGHEST_US, LatencyHistogram, Metrics
from loadgen.reports.summary import summarize
from loadgen.reports.text import render_table
from loadgen.results import Result

latencies = st.lists(st.floats(min_value=1e-6, max_value=100.0, allow_nan=False), min_size=1, max_size=300)


def _hist(values):
    h = LatencyHistogram()
    for v in values:
        h.record(v)
    return h


def _within_precision(a_ms, b_ms):
    return abs(a_ms - b_ms) <= max(a_ms, b_ms) * 1e-3 + 1e-3


@settings(max_examples=60, deadline=None)
@given(latencies, latencies)
def test_merging_equals_recording_the_concatenation(a, b):
    merged = _hist(a)
    merged.merge(_hist(b))
    direct = _hist(a + b)
    assert merged.count == direct.count == len(a) + len(b)
    for p in (50, 90, 99, 99.9, 100):
        assert merged.percentile_ms(p) == direct.percentile_ms(p)
    assert merged.max_s == max(a + b)


@settings(max_examples=60, deadline=None)
@given(latencies)
def test_encode_decode_round_trip(values):
    h = _hist(values)
    back = LatencyHistogram.decode(json.loads(json.dumps(h.encode())))
    assert back.count == h.count and back.max_s == h.max_s
    assert all(back.percentile_ms(p) == h.percentile_ms(p) for p in (1, 50, 99, 100))


@settings(max_examples=40, deadline=None)
@given(latencies)
def test_percentiles_are_within_the_stated_precision(values):
    h = _hist(values)
    true_ms = np.percentile(np.round(np.array(values) * 1e6), 99, method="inverted_cdf") / 1000.0
    assert _within_precision(h.percentile_ms(99), max(true_ms, 0.001))


def test_out_of_range_values_are_counted_not_dropped():
    h = _hist([0.001, HIGHEST_US / 1e6 * 2])
    assert h.count == 1 and h.out_of_range == 1
    assert _hist([1e-9]).percentile_ms(50) == 0.001  # below 1 µs records as 1 µs


def _result(endpoint, latency_s, error=None, protocol="grpc"):
    return Result(endpoint=endpoint, protocol=protocol, started_at=0.0, latency_s=latency_s,
                  bytes_out=100, bytes_in=10, docs_sent=4, error=error)


def test_metrics_merge_and_summary():
    a, b = Metrics(), Metrics()
    for i in range(100):
        a.add(_result("/search", 0.010 + i * 1e-4))
    b.add(_result("/search", 0.5, error=ValidationError("expected 5 matches, got 3")))
    b.add(_result("/index", 0.02, error=ConnectError("refused")))
    b.add_time("executor", "encoder", 0.001)
    b.add_time("executor", "encoder", 0.003)
    b.add_time("breakdown", "gateway overhead", 0.0005)
    merged = Metrics.decode(a.encode())
    merged.merge(Metrics.decode(b.encode()))
    summary = summarize(merged, duration_s=2.0, run={"kind": "text"})
    search = summary["endpoints"]["/search"]
    assert set(summary["endpoints"]) == {"/search", "/index"}, "executor entries are not endpoints"
    assert (search["requests"], search["failures"], search["rps"]) == (101, 1, 50.5)
    assert search["docs_per_s"] == 200.0 and search["timed_requests"] == 100
    assert abs(search["latency_ms"]["p50"] - 14.9) < 0.1 and search["latency_ms"]["max"] == 19.9
    assert all(v <= search["latency_ms"]["max"] for v in search["latency_ms"].values())
    assert summary["failures"] == {"connect": 1, "validation": 1} and summary["total"]["requests"] == 102
    assert summary["kind"] == "text" and summary["load_model"] == "closed"
    assert summary["executors"]["encoder"]["count"] == 2
    assert abs(summary["executors"]["encoder"]["latency_ms"]["max"] - 3.0) < 1e-9
    assert summary["breakdown"]["gateway overhead"]["count"] == 1
    table = render_table(summary)
    assert "encoder" in table and "gateway overhead" in table
    assert "/search" in table and "p99 ms" in table and "total" in table


def test_match_values_merge_across_workers_and_reach_the_summary():
    def result(values):
        return Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=0.01, bytes_out=1,
                      docs_sent=1, docs_returned=1, match_values=values)

    a, b = Metrics(), Metrics()
    a.add(result((("0", 6), ("1", 4))))
    b.add(result((("1", 10),)))
    b.add(Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=0.01, bytes_out=1,
                    error=ValidationError("x"), match_values=(("2", 99),)))  # failures do not count
    merged = Metrics.decode(json.loads(json.dumps(a.encode())))
    merged.merge(Metrics.decode(json.loads(json.dumps(b.encode()))))
    summary = summarize(merged, duration_s=1.0, run={"match_field": "shard"})
    assert summary["endpoints"]["/search"]["match_values"] == {"0": 6, "1": 14}
    assert summary["endpoints"]["/search"]["values_per_reply"] == {"1": 1, "2": 1}
    assert "/search matches by shard: 0: 6, 1: 14; distinct shards per reply: 1 in 1, 2 in 1 replies" in render_table(summary)


def test_failure_messages_are_counted_per_key_ids_left_out_and_bounded():
    from loadgen.metrics import MAX_MESSAGES, OTHER_MESSAGES

    def failed(message):
        return Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=0.1, bytes_out=1,
                      error=ValidationError(message))

    worker_a, worker_b = Metrics(), Metrics()
    for i in range(30):  # each message carries its own document id
        worker_a.add(failed(f"document {i:032x} contains the marker 'boom'"))
    worker_b.add(failed("document 5d41402abc4b2a76b9719d911017c592 contains the marker 'boom'"))
    for i in range(MAX_MESSAGES + 5):
        worker_b.add(failed(f"distinct failure number {i}"))
    master = Metrics()
    for worker in (worker_a, worker_b):
        master.merge(Metrics.decode(json.loads(json.dumps(worker.encode()))))
    messages = master.entry("grpc", "/search").failure_messages
    assert messages["validation: document <id> contains the marker 'boom'"] == 31
    assert len(messages) == MAX_MESSAGES + 1 and sum(messages.values()) == 31 + MAX_MESSAGES + 5
    assert messages[OTHER_MESSAGES] == 6  # the 20 kept are the first seen: 1 + 19 distinct, 6 over
    summary = summarize(master, duration_s=1.0)
    top = summary["endpoints"]["/search"]["failure_messages"]
    assert list(top)[0] == "validation: document <id> contains the marker 'boom'" and len(top) == 10
    assert summary["total"]["failure_messages"] == top
