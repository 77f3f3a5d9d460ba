import pytest

from loadgen.errors import ConfigError
from loadgen.slo import evaluate, parse_slo

SUMMARY = {
    "endpoints": {"/search": {"requests": 200, "failures": 1, "rps": 40.0, "docs_per_s": 320.0,
                              "latency_ms": {"p50": 20.0, "p95": 90.0, "p99": 150.0, "max": 400.0}}},
    "total": {"requests": 400, "failures": 1, "rps": 80.0, "docs_per_s": 640.0,
              "latency_ms": {"p50": 25.0, "p95": 95.0, "p99": 210.0, "max": 400.0}},
}


@pytest.mark.parametrize("text, passed", [
    ("/search:p99<200ms", True), ("/search:p99<0.1s", False), ("p99<200ms", False), ("p99 <= 210", True),
    ("/search:p50<20000us", False), ("failures<1%", True), ("/search:failures<0.5%", False),
    ("failures<=1", True), ("rps>=80", True), ("/search:docs_per_s>400", False), ("max<1s", True),
])
def test_verdicts(text, passed):
    verdict = evaluate(parse_slo(text), SUMMARY)
    assert verdict.passed is passed
    assert verdict.line.startswith("PASS" if passed else "FAIL") and text in verdict.line


def test_an_endpoint_without_requests_fails_the_gate():
    verdict = evaluate(parse_slo("/index:p99<1s"), SUMMARY)
    assert not verdict.passed and "no requests to /index" in verdict.line


@pytest.mark.parametrize("bad", ["", "p99", "p99<", "p98<200ms", "p99<200kg", "rps<10ms", "failures<1s",
                                 "/search:p99=200ms", "p99<<2", "latency<2ms"])
def test_malformed_slos_name_the_option_and_an_example(bad):
    with pytest.raises(ConfigError, match=r"--slo: .*e\.g\. --slo"):
        parse_slo(bad)
