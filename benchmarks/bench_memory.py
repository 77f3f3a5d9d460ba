"""Does a load-generating process's memory stay flat? (issue: no per-request accumulation)

    .venv/bin/python benchmarks/bench_memory.py [--minutes 5] [--users 10]

Runs ``locustfiles/image.py`` (a mixed index/search image load, 64x64x3 images, 8 per
request) headless against the stand-in gateway ``tests/fakegateway.py`` (so the machine's CPU
goes to the load generator, not to a Flow), samples the Locust process's RSS from
``/proc/PID/status`` every 5 s, and compares the mean of the first minute after warm-up with
the mean of the last minute. Writes ``results/bench/memory.json``; target: within ±10%.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from loadgen.ports import free_port  # noqa: E402

SAMPLE_S = 5.0
WARMUP_S = 30.0


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    port, seconds = free_port(), int(args.minutes * 60 + WARMUP_S)
    gateway = subprocess.Popen([sys.executable, str(ROOT / "tests/fakegateway.py"), "--port", str(port),
                                "--delay-ms", "2"], stdout=subprocess.PIPE, text=True)
    gateway.stdout.readline()
    locust = subprocess.Popen([str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/image.py", "--headless",
                               "-u", str(args.users), "-r", str(args.users), "-t", f"{seconds}s",
                               "--host", f"grpc://127.0.0.1:{port}", "--image-shape", "64,64,3", "--top-k", "3",
                               "--results-dir", "results/bench/memory-run", "--only-summary", "--overwrite"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    try:
        started = time.monotonic()
        while locust.poll() is None:
            time.sleep(SAMPLE_S)
            if locust.poll() is None:
                samples.append((round(time.monotonic() - started, 1), round(rss_mib(locust.pid), 1)))
    finally:
        gateway.kill()
        locust.wait()
    report(samples, args)


def report(samples: list[tuple[float, float]], args: argparse.Namespace) -> None:
    """Mean RSS of the first and last minute after warm-up; drift in %."""
    steady = [(t, m) for t, m in samples if t >= WARMUP_S]
    first = [m for t, m in steady if t < WARMUP_S + 60]
    last = [m for t, m in steady if t >= steady[-1][0] - 60]
    drift = 100.0 * (sum(last) / len(last) - sum(first) / len(first)) / (sum(first) / len(first))
    summary = json.loads((ROOT / "results/bench/memory-run/summary.json").read_text())
    result = {"minutes": args.minutes, "users": args.users, "requests": summary["total"]["requests"],
              "rss_mib_first_minute": round(sum(first) / len(first), 1),
              "rss_mib_last_minute": round(sum(last) / len(last), 1), "drift_pct": round(drift, 2),
              "target_pct": 10.0, "met": abs(drift) <= 10.0, "samples": samples}
    Path(ROOT / "results/bench").mkdir(parents=True, exist_ok=True)
    (ROOT / "results/bench/memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))


if __name__ == "__main__":
    main()
