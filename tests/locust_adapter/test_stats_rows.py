"""Parts of requests reach Locust's rows in batches: ``PartEntry.log_many`` must leave an
entry exactly as Locust's own ``log`` does value by value (the truth here), at the same
clock, across seconds (the cached windows of "current" percentiles) and with a customised
bucketing."""
import locust.stats
import numpy as np
import pytest
from locust.stats import RequestStats

from loadgen.locust_adapter.stats_rows import PartEntry, entry

FIELDS = ("num_requests", "num_none_requests", "num_failures", "total_response_time", "min_response_time",
          "max_response_time", "num_reqs_per_sec", "response_times", "total_content_length", "last_request_timestamp")


def _state(e):
    cache = {t: (dict(c.response_times), c.num_requests) for t, c in (e.response_times_cache or {}).items()}
    return {f: getattr(e, f) for f in FIELDS} | {"cache": cache}


def _batches(seed):
    rng = np.random.default_rng(seed)  # ms from 0.01 ms to ~60 s: every bucket width of Locust
    values = np.exp(rng.uniform(np.log(0.01), np.log(60_000), 900)).tolist()
    return [(1_700_000_000.25, values[:300]), (1_700_000_000.75, values[300:310]),
            (1_700_000_003.5, values[310:])]  # two in one second, then one three seconds later


@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_leaves_the_entry_as_locust_logging_each_value_would(monkeypatch, seed):
    stats = RequestStats(use_response_times_cache=True)
    batched, one_by_one = entry(stats, "encoder", "executor"), PartEntry(stats, "encoder", "executor", True)
    assert isinstance(batched, PartEntry)
    for now, values in _batches(seed):
        batched.log_many(values, now)
        monkeypatch.setattr(locust.stats.time, "time", lambda now=now: now)
        for value in values:
            one_by_one.log(value, 0)
        monkeypatch.undo()
        assert _state(batched) == _state(one_by_one)
    assert batched.num_requests == 900 and 1_700_000_002 in batched.response_times_cache  # the second before the last batch
    assert batched.get_response_time_percentile(0.95) == one_by_one.get_response_time_percentile(0.95)


def test_a_customised_bucketing_is_used_and_an_empty_batch_changes_nothing(monkeypatch):
    monkeypatch.setattr(locust.stats, "bucket_response_time", lambda ms: int(ms) // 7 * 7)
    stats = RequestStats()
    e = entry(stats, "gateway overhead", "breakdown")
    e.log_many([], 1_700_000_000.0)
    assert e.num_requests == 0 and e.last_request_timestamp is None
    e.log_many([1.5, 13.9, 14.0, 20.99], 1_700_000_000.0)
    assert dict(e.response_times) == {0: 1, 7: 1, 14: 2}
