"""Where data is prepared during a run: native threads, never the gevent hub.

One gevent hub serves every user of a process; a refill that decodes and resizes images on
it (tens to hundreds of ms) delays every reply arriving meanwhile, and that delay is timed
as the server's. Pool refills (:class:`loadgen.pools.RefillingPool`) and the replay
producer (:mod:`~loadgen.locust_adapter.replay_feed`) therefore run their encoding in native
threads: Pillow, zlib and numpy's copies release the GIL, and gevent awaits the threads'
results cooperatively.

Measured (``benchmarks/hub_lag.py``, see docs/performance.md): refilling
8 noise PNGs of 1000x1000 (60 ms of decoding) blocked the hub for 60 ms inline and equally
with :class:`concurrent.futures.ThreadPoolExecutor` -- under Locust's monkey-patching its
"threads" are greenlets -- while gevent's :class:`gevent.threadpool.ThreadPoolExecutor`
(native threads) kept the hub's longest pause at 0.2-2 ms. It is a pool of its own: grpcio's
gevent mode waits for its completion queues in the hub's threadpool, which refills must not
crowd.
"""
from __future__ import annotations

from typing import Any

from gevent.threadpool import ThreadPoolExecutor

#: Threads per process: refills of different endpoints may overlap; more would only compete
#: with the hub for the machine's cores.
MAX_THREADS = 2


def refill_executor(threads: int = MAX_THREADS) -> Any:
    """A ``concurrent.futures``-style executor of native threads whose futures gevent awaits
    cooperatively (``result()`` lets the other greenlets run)."""
    return ThreadPoolExecutor(max_workers=max(1, threads))
