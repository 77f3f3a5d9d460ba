"""Waiting for data under the adapter: the replay producer's thread, the session's pools,
and the workers' wait counts merged on the master (no Locust process: gevent only).
"""
import threading
import time
from types import SimpleNamespace

import pytest

from loadgen.config import PayloadConfig
from loadgen.locust_adapter import distributed, replay_feed
from loadgen.locust_adapter.intervals import Intervals
from loadgen.locust_adapter.options import ReplayOptions, RunOptions
from loadgen.locust_adapter.refills import refill_executor
from loadgen.locust_adapter.replay_feed import BATCH, ReplayFeed
from loadgen.locust_adapter.session import Session
from loadgen.reports.summary import summarize


def test_workers_wait_counts_merge_on_the_master():
    master, fleet = Intervals(), distributed.Fleet()
    fed = {"w0": [0.5, 0.25], "w1": [2.0]}
    for report in range(2):
        for client_id, waits in fed.items():
            worker = Intervals()
            for seconds in waits:
                worker.current.data_waits.add(seconds)
            data = {}
            distributed.ship(worker, data)
            distributed.receive(master, fleet, client_id, data)
        master.flush()
    assert (master.total.data_waits.count, master.total.data_waits.seconds) == (6, 5.5)
    summary = summarize(master.total, duration_s=5, run={"dataset": {"spec": "builtin:digits"}})
    assert (summary["dataset"]["waits"], summary["dataset"]["wait_s"]) == (6, 5.5)


def _replay_file(tmp_path, lines):
    path = tmp_path / "lines.replay"
    path.write_text("".join(f"/search?kind=text&docs=1&seed={i}\n" for i in range(lines)))
    return ReplayOptions(path=str(path), endpoint_map={}, skip_bad_lines=False, reuse_file=False, max_requests=0)


def test_the_replay_producer_encodes_in_a_thread_and_counts_the_waits_of_users_that_outrun_it(tmp_path,
                                                                                          monkeypatch):
    threads, encode = set(), replay_feed.encode

    def slow_encode(spec, wire):
        threads.add(threading.current_thread().name)
        time.sleep(0.01)  # a native thread: the hub is free meanwhile
        return encode(spec, wire=wire)

    monkeypatch.setattr(replay_feed, "encode", slow_encode)
    waits = []
    lines = 3 * BATCH
    feed = ReplayFeed(_replay_file(tmp_path, lines), payload=PayloadConfig(kind="text", request_size=1),
                      wire="protobuf", lines_per_pass=lines, executor=refill_executor(1), on_wait=waits.append)
    main = threading.current_thread().name
    assert threads == {main}  # the first batch: encoded before the load, in the caller
    taken = []
    for _ in range(BATCH):  # ready: nobody waits
        taken.append(feed.next())
    assert waits == []
    while (item := feed.next()) is not None:
        taken.append(item)
    assert [line.index for line, _ in taken] == list(range(lines))
    assert main in threads and len(threads) == 2  # every later batch in the refill thread
    # The rest was taken as fast as it came: one wait for each of the two later batches, each
    # as long as encoding 16 lines at 10 ms (the next batch is encoded while one is taken).
    assert len(waits) == 2 and 0.3 <= sum(waits) < 0.32 * 5  # a loaded machine oversleeps
    feed.close()


def test_a_dataset_session_refills_in_native_threads_and_records_the_waits():
    options = RunOptions(protocol="grpc", grpc_mode="unary", timeout_s=1.0, task_mix={"/index": 1},
                         payload=PayloadConfig(kind="image", request_size=2, pool_size=3), results_dir="unused",
                         preindex_docs=0, flow="image", flow_replicas=1, flow_shards=1, skip_host_check=True,
                         dataset="builtin:digits", image_shape_given=(8, 8))
    environment = SimpleNamespace(host="grpc://127.0.0.1:1", runner=None, parsed_options=SimpleNamespace())
    session = Session(environment, kind="image", options=options)
    session.build_pools()
    pool = session.pools.pools["/index"]
    assert pool._executor is session.refill_threads()
    bodies = [session.next_request("/index").body for _ in range(30)]  # 10 chunks of 3: several refills
    assert len(set(bodies)) == 30  # the digits go on: no chunk is sent twice
    session.record_data_wait(0.125)
    waits = session.intervals.current.data_waits
    assert waits.count >= 1 and waits.seconds >= 0.125
    session.stop_refills()  # at quitting: the threads end, a later run makes new ones
    assert session.refills is None and session.refill_threads() is not None
    session.stop_refills()


@pytest.fixture(autouse=True)
def _no_leftover_greenlets():
    yield
    import gevent

    gevent.sleep(0)
