"""How long data refills and periodic figures block a load-generating gevent hub.

    .venv/bin/python benchmarks/hub_lag.py [--images 8] [--side 1000] [--seconds 5] [--hogs 0]

One gevent hub times every request of a Locust process, so anything that holds it is timed
as the server's delay. In a monkey-patched process (as under Locust) this measures the hub's
**loop lag**: a greenlet asks to sleep 1 ms, again and again, and records how much later than
asked it woke up (``time.perf_counter``); the longest lag is the longest block.

- **refills**: a consumer greenlet takes a request every 5 ms from a dataset pool
  (:class:`loadgen.pools.RefillingPool`, 2 requests x 2 images per chunk) of ``--images``
  noise PNGs of ``--side`` px (made in a temporary folder), so that refills run back to
  back for ``--seconds``; once per way of running them: ``inline`` (the pool's default, as
  before issue 15), ``patched-threads`` (``concurrent.futures.ThreadPoolExecutor``: under
  monkey-patching, greenlets) and ``gevent-threads`` (gevent's native-thread executor, what
  loadgen uses: :func:`loadgen.locust_adapter.refills.refill_executor`); and, for the
  machine's own noise, ``none`` (random data: no refills at all).
- **figures**: the web UI's HDR rows for 6 keys from 20,000-sample histograms and one
  ticker flush, timed directly: hdrh's own percentiles and mean (before) against
  :mod:`loadgen.hdr_figures` (after).

``--hogs N`` runs N busy-looping processes meanwhile (a loaded machine). Prints one line
per case: lag p50/p99/max in ms, or the figures' time per poll in ms.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import multiprocessing  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402

from loadgen.config import PayloadConfig  # noqa: E402
from loadgen.datasets import open_dataset  # noqa: E402
from loadgen.locust_adapter.refills import refill_executor  # noqa: E402
from loadgen.metrics import Metrics  # noqa: E402
from loadgen.pools import build_pools  # noqa: E402
from loadgen.reports.summary import latency_figures  # noqa: E402
from loadgen.results import Result  # noqa: E402


def noise_pngs(folder: Path, count: int, side: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(15)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
            folder / f"noise{i:02d}.png", compress_level=1)


def loop_lag(work, seconds: float) -> list[float]:
    """Lags (s) of 1 ms sleeps while ``work(deadline)`` runs in its own greenlet."""
    lags, deadline = [], time.perf_counter() + seconds
    worker = gevent.spawn(work, deadline)
    while time.perf_counter() < deadline:
        asked = time.perf_counter()
        gevent.sleep(0.001)
        lags.append(time.perf_counter() - asked - 0.001)
    worker.kill()
    return sorted(lags)


def refill_case(folder: Path, executor, seconds: float) -> list[float]:
    dataset = open_dataset(f"images:{folder}", image_shape=(16, 16, 3))
    payload = PayloadConfig(kind="image", request_size=2, pool_size=2, image_shape=(16, 16, 3))
    documents = (lambda endpoint: dataset.endless()) if executor != "none" else None
    pool = build_pools(payload, ["/index"], seed=0, documents=documents,
                       executor=executor if executor != "none" else None).pools["/index"]

    def consume(deadline):  # a user: take a request, "send" it (5 ms in flight), again
        while time.perf_counter() < deadline:
            pool.next()
            gevent.sleep(0.005)

    return loop_lag(consume, seconds)


def figures_case(hdrh_own: bool, repeats: int = 5) -> float:
    """ms per web UI poll (median of ``repeats``): the figures of 6 keys, latency and
    uncorrected, from 20,000-sample histograms."""
    rng, metrics = np.random.default_rng(1), Metrics()
    for key in range(6):
        for v in rng.lognormal(np.log(0.02), 0.6, 20_000):
            metrics.add(Result(endpoint=f"/e{key}", protocol="grpc", started_at=0.0, latency_s=float(v),
                               bytes_out=0, schedule_lag_s=0.0005))
    latency_figures(metrics.entry("grpc", "/e0"))  # the first call computes the layout once per process
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for stats in metrics.entries.values():
            if hdrh_own:
                for hist in (stats.latency._hist, stats.uncorrected._hist):
                    hist.get_percentile_to_value_dict([50, 90, 95, 99, 99.9])
                    hist.get_mean_value()
            else:
                latency_figures(stats)
                latency_figures(stats, uncorrected=True)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def hog() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hogs", type=int, default=0)
    args = parser.parse_args()
    hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(args.hogs)]
    for process in hogs:
        process.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        noise_pngs(folder, args.images, args.side)
        cases = {"none (random data)": "none", "inline": None, "patched-threads": concurrent.futures.ThreadPoolExecutor(2),
                 "gevent-threads (loadgen)": refill_executor()}
        for name, executor in cases.items():
            lags = refill_case(folder, executor, args.seconds)
            print(f"refills {name:24s} lag p50 {lags[len(lags) // 2] * 1000:7.2f}  "
                  f"p99 {lags[int(len(lags) * 0.99)] * 1000:7.2f}  max {lags[-1] * 1000:7.2f} ms")
    for name, own in (("hdrh (before)", True), ("vectorised", False)):
        print(f"figures {name:24s} {figures_case(own):8.2f} ms per poll of 6 keys (latency + uncorrected)")
    for process in hogs:
        process.terminate()


if __name__ == "__main__":
    main()
