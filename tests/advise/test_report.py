"""advice.json, the table and the answer, from a strategy's outcome on a model Flow (the
encoder serves 25 req/s per replica, the indexer 1000): keys exactly as documented, the
figures those the model gave."""
import json

from loadgen.advise.driver import exit_code
from loadgen.advise.page import render
from loadgen.advise.report import advice_json, answer, fragment, table_rows
from loadgen.advise.strategy import Bounds, Measurement, greedy
from loadgen.advise.topology import ExecutorSpec, Topology

SPECS = (ExecutorSpec(name="encoder"), ExecutorSpec(name="indexer", indexer=True, merger=True))
KEYS = {"step", "topology", "processes", "runtimes", "change", "verdict", "held", "max_rate", "achieved_rate", "p99_ms",
        "bottleneck", "shares", "gain", "cpu_busy", "flow_cpu_cores", "cores", "reason", "dir", "report"}


def measure_at(target):
    def measure(topology):
        capacity = 25 * topology.size("encoder")[0]
        held = capacity >= target
        return Measurement(held=held, verdict="held" if held else "violated", max_rate=target if held else None,
                           achieved_rate=min(target, capacity), p99_ms=120.0 if held else 900.0,
                           shares={"encoder": 0.95, "indexer": 0.05}, cpu_busy=0.5, cores=2, dir=topology.slug(),
                           report=f"{topology.slug()}/trial-{target}rps/report.html")
    return measure


def data(target=40):
    bounds = Bounds(target_rate=target, max_processes=4, scaled=frozenset({"encoder", "indexer"}))
    outcome = greedy(Topology.of(SPECS), bounds, measure_at(target))
    return advice_json(outcome, target_rate=target, slos=["/search:p99<400ms"], specs=SPECS)


def test_advice_json_has_exactly_the_documented_keys():
    advice = json.loads(json.dumps(data()))  # JSON-safe (no infinite gain)
    assert set(advice) == {"target_rate", "slo", "chosen", "tried", "stopped_because"}
    assert advice["chosen"] == {"topology": {"encoder": {"replicas": 2, "shards": 1},
                                             "indexer": {"replicas": 1, "shards": 1}}, "processes": 3, "max_rate": 40}
    assert [set(t) for t in advice["tried"]] == [KEYS, KEYS]
    first, second = advice["tried"]
    assert (first["change"], second["change"]) == ("the Flow as given", "encoder +1 replica")
    assert (first["bottleneck"], first["held"], second["held"], second["gain"]) == ("encoder", False, True, None)
    assert (first["runtimes"], second["runtimes"]) == (3, 4)  # + the gateway
    assert advice["stopped_because"].startswith("target-held: encoder 2, indexer 1 holds 40 req/s")
    assert exit_code(advice) == 0


def test_table_answer_and_fragment():
    advice = data()
    rows = table_rows(advice)
    assert rows[0] == {"step": 1, "encoder": "1", "indexer": "1", "processes": 2, "change": "the Flow as given",
                       "at 40 req/s": "violated", "achieved req/s": 25, "p99 ms": 900.0, "bottleneck": "encoder 95%",
                       "gain": "", "cpu busy": "50%"}
    assert answer(advice).startswith("recommended: encoder 2, indexer 1 (3 processes, held 40 req/s)")
    assert fragment(advice) == ("executors:\n  - name: encoder\n    replicas: 2\n    shards: 1\n"
                                "  - name: indexer\n    replicas: 1\n    shards: 1\n")


def test_no_recommendation_within_the_bound_exits_3():
    advice = data(target=500)
    assert advice["chosen"] is None and advice["stopped_because"].startswith("max-processes:")
    assert [t["processes"] for t in advice["tried"]] == [2, 3, 4]
    assert exit_code(advice) == 3 and answer(advice).startswith("no recommendation")
    assert exit_code({**advice, "stopped_because": "generator: lag"}) == 1
    assert exit_code({**advice, "stopped_because": "interrupted: after 2"}) == 130


def test_the_page_is_self_contained():
    html = render(data())
    assert "<script" not in html and " src=" not in html and "href='http" not in html
    assert "id='fragment'" in html and "replicas: 2" in html and "encoder 2x1" not in html
    assert "trial-40rps/report.html" in html
