"""The measured window of a gevent floor client (``floor_*_gevent.py``): ``--users``
greenlets under one :class:`bench_window.Window`, crashed workers counted as errors.

Import it after gevent's monkey-patching. Timer: see bench_window.py (the window opens after
``--warmup`` seconds of load and closes before the greenlets are stopped).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import gevent

from bench_window import Tally, Window


def measure_greenlets(worker: Callable[..., None], worker_args: tuple, tally: Tally, args: Any, *,
                      stop: Optional[Any] = None, grace_s: float = 0.0) -> dict:
    """Run ``worker(*worker_args)`` in ``args.users`` greenlets through the window; with a
    ``stop`` event, set it and give the workers ``grace_s`` seconds to end cleanly before they
    are killed. Returns the window's result."""
    greenlets = [gevent.spawn(worker, *worker_args) for _ in range(args.users)]
    window = Window(tally.counts)
    window.run(gevent.sleep, warmup_s=args.warmup, duration_s=args.duration)
    crashed = [g for g in greenlets if g.dead and g.exception is not None]
    for g in crashed:
        tally.errors[f"worker crashed: {g.exception!r}"[:200]] += 1
    if stop is not None:
        stop.set()
        gevent.joinall(greenlets, timeout=grace_s)
    gevent.killall(greenlets, timeout=5)
    return window.result(errors=dict(tally.errors), crashed=len(crashed))
