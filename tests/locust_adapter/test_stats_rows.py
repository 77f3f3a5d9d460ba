"""Parts of requests reach Locust's rows in batches: ``PartEntry.log_many`` must leave an
entry exactly as Locust's own ``log`` does value by value (the truth here), at the same
clock, across seconds (the cached windows of "current" percentiles) and with a customised
bucketing. Run in a subprocess: importing Locust would monkey-patch this test process."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

_RUN = """
import json, sys, time
import locust.stats
from locust.stats import RequestStats
from loadgen.locust_adapter.stats_rows import PartEntry, entry

FIELDS = ("num_requests", "num_none_requests", "num_failures", "total_response_time", "min_response_time",
          "max_response_time", "num_reqs_per_sec", "response_times", "total_content_length", "last_request_timestamp")

def state(e):
    cache = {str(t): [sorted(c.response_times.items()), c.num_requests] for t, c in (e.response_times_cache or {}).items()}
    out = {f: getattr(e, f) for f in FIELDS}
    out["num_reqs_per_sec"] = sorted(out["num_reqs_per_sec"].items())
    out["response_times"] = sorted(out["response_times"].items())
    return {**out, "cache": cache}

batches, custom = json.loads(sys.stdin.read()), sys.argv[1] == "custom"
if custom:
    locust.stats.bucket_response_time = lambda ms: int(ms) // 7 * 7
stats = RequestStats(use_response_times_cache=True)
batched, one_by_one = entry(stats, "encoder", "executor"), PartEntry(stats, "encoder", "executor", True)
real_time, states = time.time, []
for now, values in batches:
    batched.log_many(values, now)
    time.time = lambda now=now: now
    for value in values:
        one_by_one.log(value, 0)
    time.time = real_time
    states.append([state(batched), state(one_by_one)])
batched.log_many([], 1.0)  # an empty batch changes nothing
states.append([state(batched), states[-1][0]])
print(json.dumps({"kind": type(batched).__name__, "states": states}))
"""


def _batches(seed):
    rng = np.random.default_rng(seed)  # ms from 0.01 ms to ~60 s: every bucket width of Locust
    values = np.exp(rng.uniform(np.log(0.01), np.log(60_000), 900)).tolist()
    return [(1_700_000_000.25, values[:300]), (1_700_000_000.75, values[300:310]),
            (1_700_000_003.5, values[310:])]  # two in one second, then one three seconds later


@pytest.mark.parametrize("seed, bucketing", [(1, "locust"), (2, "locust"), (3, "custom")])
def test_a_batch_leaves_the_entry_as_locust_logging_each_value_would(seed, bucketing):
    proc = subprocess.run([sys.executable, "-c", _RUN, bucketing], input=json.dumps(_batches(seed)), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["kind"] == "PartEntry"
    for batched, one_by_one in out["states"]:
        assert batched == one_by_one
    last = out["states"][-1][0]
    assert last["num_requests"] == 900 and "1700000002" in last["cache"]  # the second before the last batch
    if bucketing == "custom":
        assert all(bucket % 7 == 0 for bucket, _ in last["response_times"])
