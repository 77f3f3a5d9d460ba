"""A trial's verdict and its reason, from figures the test writes."""
import pytest

from loadgen.capacity.verdict import judge
from loadgen.slo import parse_slo

GATES = (parse_slo("/search:p99<200ms"), parse_slo("failures<1%"))


def figures(*, rps=100.0, p99=150.0, failures=0, requests=100_000):
    endpoint = {"requests": requests, "failures": failures, "rps": rps, "docs_per_s": rps,
                "latency_ms": {"p50": 20.0, "p90": 50.0, "p95": 80.0, "p99": p99, "p999": p99, "max": p99,
                               "mean": 30.0}}
    return {"endpoints": {"/search": endpoint}, "total": endpoint}


@pytest.mark.parametrize("kwargs, verdict, reason", [
    ({}, "held", "/search:p99<200ms: 150 ms; failures<1%: 0%"),
    ({"figs": figures(p99=250.0)}, "violated", "/search:p99<200ms: 250 ms"),
    ({"figs": figures(failures=5000)}, "violated", "failures<1%: 5%"),
    ({"figs": figures(rps=90.0)}, "violated",
     "achieved 90 of 100 req/s offered (90 % < 95 %): the Flow did not keep up"),
    ({"figs": figures(rps=95.0)}, "held", "/search:p99<200ms: 150 ms; failures<1%: 0%"),
    # 24 requests where 30 were offered: within the sampling error of Poisson arrivals
    ({"figs": figures(rps=80.0, requests=24)}, "held", "/search:p99<200ms: 150 ms; failures<1%: 0%"),
    ({"figs": figures(rps=90.0), "late_share": 0.2, "users": 8}, "violated",
     "achieved 90 of 100 req/s offered (90 % < 95 %): the Flow did not keep up; 20 % of sends left late: a "
     "generator-side limit too (all 8 users busy, or the generator overloaded; raise -u or add --processes)"),
    ({"disagreements": ["/search p99 100/150/220 ms"]}, "unstable",
     "the last windows disagree: /search p99 100/150/220 ms"),
    ({"figs": figures(p99=250.0), "disagreements": ["x"]}, "violated", "/search:p99<200ms: 250 ms"),
    ({"generator": {"saturated": True, "reason": "loop lag p99 45 ms > 20 ms"}, "figs": figures(p99=250.0)},
     "generator-saturated", "loop lag p99 45 ms > 20 ms"),
    ({"generator": {"saturated": False, "cpu_pct_max": 30}}, "held", "/search:p99<200ms: 150 ms; failures<1%: 0%"),
    ({"gates": ()}, "held", "kept up"),
    ({"gates": (parse_slo("/index:p99<1s"),)}, "violated", "/index:p99<1s: no requests to /index"),
])
def test_verdicts(kwargs, verdict, reason):
    judgement = judge(figures=kwargs.get("figs", figures()), offered_rate=100.0, slos=kwargs.get("gates", GATES),
                      disagreements=kwargs.get("disagreements", []), generator=kwargs.get("generator"),
                      late_share=kwargs.get("late_share", 0.0), users=kwargs.get("users", 0))
    assert (judgement.verdict, judgement.reason) == (verdict, reason)
    assert judgement.held is (verdict == "held")
