"""capacity.json's keys, the printed table and line, capacity.html's chart marks."""
import json
import re

from loadgen.capacity.config import CapacityConfig, LoadConfig, WindowConfig
from loadgen.capacity.page import write_page
from loadgen.capacity.report import CapacityResult, final_line, table_rows, trial_line, write_json
from loadgen.capacity.search import SearchConfig
from loadgen.capacity.trial import Trial
from loadgen.slo import parse_slo

CONFIG = CapacityConfig(load=LoadConfig(argv=("-f", "x.py")), search=SearchConfig(rate_start=50),
                        windows=WindowConfig(), slos=(parse_slo("/search:p99<200ms"), parse_slo("failures<1%")))


def trial(rate, p99, verdict, *, achieved=None):
    latency = {"p50": p99 / 3, "p90": p99 / 2, "p95": p99 / 1.5, "p99": p99, "p999": p99, "max": p99, "mean": p99 / 3}
    endpoint = {"requests": int(rate * 15), "failures": 0, "rps": achieved or rate, "docs_per_s": 8 * (achieved or rate),
                "latency_ms": latency, "timed_requests": int(rate * 15)}
    return Trial(offered_rate=rate, achieved_rate=achieved or rate, windows=3, stable=True, verdict=verdict,
                 reason=f"/search:p99<200ms: {p99} ms", endpoints={"/search": endpoint}, dir=f"trial-{rate:g}rps",
                 users=10, docs_per_s=8 * (achieved or rate), total=endpoint, late_share=0.0, duration_s=18.0)


RESULT = CapacityResult(max_rate=150.0, limit="slo", trials=(trial(50, 30, "held"), trial(100, 60, "held"),
                                                              trial(200, 900, "violated", achieved=160),
                                                              trial(150, 120, "held", achieved=148.5),
                                                              trial(175, 300, "violated", achieved=170)),
                        probe={"rate": 50.0, "users": 4, "dir": "probe"}, duration_s=99.0)


def test_capacity_json_has_the_issues_keys(tmp_path):
    data = json.loads(write_json(tmp_path, RESULT, CONFIG).read_text())
    assert {"max_rate", "max_docs_per_s", "limit", "slo", "trials"} <= set(data)
    assert (data["max_rate"], data["limit"], data["slo"]) == (150.0, "slo", ["/search:p99<200ms", "failures<1%"])
    assert data["max_docs_per_s"] == 1200.0  # 150 req/s x 8 documents per request, as measured at 150
    first = data["trials"][0]
    assert {"offered_rate", "achieved_rate", "windows", "stable", "verdict", "reason", "endpoints", "dir"} <= set(first)
    assert {"requests", "failures", "rps", "latency_ms"} <= set(first["endpoints"]["/search"])
    assert {"p50", "p95", "p99", "p999", "max"} <= set(first["endpoints"]["/search"]["latency_ms"])


def test_the_table_and_the_lines():
    rows = table_rows([t.as_dict() for t in RESULT.trials])
    assert list(rows[0]) == ["trial", "offered req/s", "achieved req/s", "users", "/search p50 ms", "/search p95 ms",
                             "/search p99 ms", "failures", "windows", "verdict", "reason"]
    assert [r["verdict"] for r in rows] == ["held", "held", "violated", "held", "violated"]
    assert final_line(RESULT) == "max sustainable rate within SLO: 150 req/s (1200 docs/s)  [limit: slo: the SLO decided]"
    none = CapacityResult(max_rate=None, limit="slo", trials=RESULT.trials[2:3])
    assert final_line(none).startswith("no tried rate holds the SLO")
    assert trial_line(3, RESULT.trials[2]) == ("trial 3: 200 req/s offered, 160 achieved, /search p99 900 ms, "
                                               "3 windows: violated (/search:p99<200ms: 900 ms)")


def test_capacity_html_marks_the_knee_and_the_gate(tmp_path):
    write_json(tmp_path, RESULT, CONFIG)
    html = write_page(tmp_path).read_text()
    assert "<script" not in html and "max sustainable rate within SLO: 150 req/s" in html
    assert re.search(r"class=\"h-mark\"[^>]*>.*?/search:p99&lt;200ms", html), "the gate's line"
    assert "knee: 150 req/s held" in html and html.count("class=\"v-mark\"") == 1
    assert html.count("<circle") == 3 * len(RESULT.trials)  # p50, p95, p99 of every trial
    assert "<table id='trials'>" in html and "href='trial-150rps/report.html'" in html
