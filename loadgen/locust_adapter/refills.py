"""Where data is prepared during a run: native threads, never the gevent hub.

One gevent hub serves every user of a process; a refill that decodes and resizes images on
it (tens to hundreds of ms) delays every reply arriving meanwhile, and that delay is timed
as the server's. Pool refills (:class:`loadgen.pools.RefillingPool`) and the replay
producer (:mod:`~loadgen.locust_adapter.replay_feed`) therefore run their encoding in native
threads: Pillow, zlib and numpy's copies release the GIL, and gevent awaits the threads'
results cooperatively.

Measured with ``benchmarks/hub_lag.py`` (docs/performance.md): refills from noise PNGs of
1000x1000 held the hub up to 280 ms inline and 80 ms on
:class:`concurrent.futures.ThreadPoolExecutor` -- under Locust's monkey-patching its
"threads" are greenlets -- while gevent's :class:`gevent.threadpool.ThreadPoolExecutor`
(native threads) left the hub's pauses at the machine's own noise (p99 3.8 against 2.6 ms
without refills). It is a pool of its own: grpcio's gevent mode waits for its completion
queues in the hub's threadpool, which refills must not crowd.
"""
from __future__ import annotations

from typing import Any

from gevent.threadpool import ThreadPoolExecutor

#: Threads per process. One: it takes one core at most, leaving the others to the hub (and
#: to the other processes of a ``--processes`` run); data that cannot keep up is counted as
#: waits, and more processes bring more threads. Lowering the thread's priority (nice 10)
#: was tried and made no measurable difference (``benchmarks/hub_lag.py``), while it risks
#: the hub waiting for a starved thread that holds the GIL.
THREADS = 1


def refill_executor(threads: int = THREADS) -> Any:
    """A ``concurrent.futures``-style executor of native threads whose futures gevent awaits
    cooperatively (``result()`` lets the other greenlets run)."""
    return ThreadPoolExecutor(max_workers=max(1, threads))
