"""What the advisor may scale: Executors whose YAML pins replicas/shards stay as given unless
--executor names them; shards only for indexers and only with --allow-shards; usage errors."""
from dataclasses import replace

import pytest

from loadgen.advise.config import AdviseConfig, check
from loadgen.advise.flow_yaml import read_flow
from loadgen.advise.measure import gated_p99, shares_of
from loadgen.capacity.config import CapacityConfig, LoadConfig, WindowConfig
from loadgen.capacity.search import SearchConfig
from loadgen.capacity.trial import Trial
from loadgen.errors import ConfigError
from loadgen.slo import parse_slo

YAML = """\
executors:
  - name: encoder
    replicas: 2
  - name: ranker
  - name: indexer
    polling: ALL
"""
CAPACITY = CapacityConfig(load=LoadConfig(argv=()), windows=WindowConfig(), search=SearchConfig(),
                          slos=(parse_slo("/search:p99<400ms"),))


@pytest.fixture
def flow(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text(YAML)
    return read_flow(path)


def config(flow, **kw):
    return AdviseConfig(flow=flow, capacity=CAPACITY, target_rate=kw.pop("target_rate", 30.0), **kw)


def test_pinned_executors_stay_unless_named(flow):
    assert config(flow).bounds().scaled == {"ranker", "indexer"}
    assert config(flow, executors=("encoder",)).bounds().scaled == {"encoder"}
    assert config(flow).bounds().sharded == frozenset()
    assert config(flow, allow_shards=True).bounds().sharded == {"indexer"}
    assert config(flow, allow_shards=True, executors=("ranker",)).bounds().sharded == frozenset()
    assert config(flow, target_rate=None, measure="trial").searches and not config(flow).searches


@pytest.mark.parametrize("kw, message", [
    ({"executors": ("encoder", "decoder")}, "--executor: no Executor 'decoder' in flow.yml; its Executors are encoder, "
                                            "ranker, indexer"),
    ({"max_processes": 3}, "--max-processes: 3 is below the 4 Executor processes flow.yml starts with; raise it to 4"),
    ({"strategy": "random"}, "--strategy: unknown strategy 'random'"),
    ({"measure": "guess"}, "--measure: unknown measure 'guess'"),
    ({"protocol": "http"}, "--protocol: the HTTP gateway returns no per-Executor times"),
])
def test_usage_errors_name_the_option(flow, kw, message):
    with pytest.raises(ConfigError, match=message):
        check(config(flow, **kw))
    check(config(flow, protocol="http", strategy="grid"))  # grid needs no breakdown


def test_a_flow_whose_executors_are_all_pinned_needs_executor(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text("executors:\n  - name: a\n    replicas: 1\n")
    with pytest.raises(ConfigError, match="every Executor of flow.yml pins its replicas/shards"):
        check(config(read_flow(path)))


def test_shares_are_each_executors_time_over_all_executor_time():
    summary = {"executors": {"encoder": {"count": 100, "latency_ms": {"mean": 300.0}},
                             "indexer": {"count": 100, "latency_ms": {"mean": 1.5}},
                             "ranker": {"count": 50, "latency_ms": {"mean": 3.0}}}}
    total = 100 * 300.0 + 100 * 1.5 + 50 * 3.0
    assert shares_of(summary) == {"encoder": round(30000 / total, 4), "indexer": round(150 / total, 4),
                                  "ranker": round(150 / total, 4)}
    assert shares_of({"executors": {}}) == {} and shares_of(None) == {}


def test_the_gated_p99_is_the_gated_endpoints():
    latency = {"p99": 250.0}
    trial = Trial(offered_rate=30, achieved_rate=30, windows=3, stable=True, verdict="held", reason="", dir="t",
                  endpoints={"/search": {"latency_ms": latency}, "/index": {"latency_ms": {"p99": 9.0}}}, users=4,
                  docs_per_s=30, total={"latency_ms": {"p99": 99.0}}, late_share=0.0, duration_s=8)
    assert gated_p99(trial, CAPACITY) == 250.0
    assert gated_p99(trial, replace(CAPACITY, slos=(parse_slo("p99<1s"),))) == 99.0
    assert gated_p99(trial, replace(CAPACITY, slos=())) == 99.0
