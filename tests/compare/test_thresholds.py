"""``--max-regression`` items: the grammar, the defaults, which item wins, and the errors."""
import pytest

from loadgen.compare.thresholds import DEFAULTS, Thresholds, parse_threshold
from loadgen.errors import ConfigError


@pytest.mark.parametrize("text, metric, limit, name", [
    ("p99:+10%", "p99", 0.10, None),
    ("p99:10%", "p99", 0.10, None),           # the sign may be left out
    ("rps:-5%", "rps", 0.05, None),
    ("failures:+0.5pp", "failures", 0.5, None),
    ("/search:p99:+20%", "p99", 0.20, "/search"),
    ("encoder:p99.9:+50%", "p999", 0.50, "encoder"),
    ("max_rate:-10%", "max_rate", 0.10, None),
    ("p95:off", "p95", None, None),
])
def test_items_parse(text, metric, limit, name):
    threshold = parse_threshold(text)
    assert (threshold.metric, threshold.name) == (metric, name)
    assert threshold.limit == (None if limit is None else pytest.approx(limit))


@pytest.mark.parametrize("text, message", [
    ("p99", "expected [NAME:]METRIC:LIMIT, e.g. 'p99:+10%', 'rps:-5%', 'failures:+0.5pp' or '/search:p99:+10%'"),
    ("p98:+10%", "unknown metric 'p98'; use one of rps, failures, p50, p95, p99, p999, max_rate"),
    ("p99:-10%", "a higher p99 is worse; write p99:+10%"),
    ("rps:+5%", "a lower rps is worse; write rps:-5%"),
    ("failures:+1%", "failures's limit is +Npp (e.g. failures:+0.5pp) or off"),
    ("p99:+10ms", "p99's limit is +N% (e.g. p99:+10%) or off"),
    ("/search::+10%", "expected [NAME:]METRIC:LIMIT, e.g. 'p99:+10%', 'rps:-5%', 'failures:+0.5pp' or "
                      "'/search:p99:+10%'"),
])
def test_bad_items_name_the_fix(text, message):
    with pytest.raises(ConfigError) as info:
        parse_threshold(text)
    assert str(info.value) == f"--max-regression {text!r}: {message}"


def test_named_items_outrank_unnamed_ones_and_given_ones_the_defaults():
    limits = Thresholds.parse(["p99:+20%", "/search:p99:+5%", "p999:off"])
    assert limits.for_("/search", "p99").describe() == "+5%"
    assert limits.for_("/index", "p99").describe() == "+20%"
    assert limits.for_("/index", "p50").describe() == "+10%"  # a default
    assert limits.for_("/index", "p999").limit is None
    assert limits.given()[:len(DEFAULTS)] == list(DEFAULTS)


def test_the_defaults_cover_every_metric():
    defaults = Thresholds()
    assert {m: defaults.for_("x", m).describe() for m in ("rps", "failures", "p50", "p95", "p99", "p999", "max_rate")} \
        == {"rps": "-5%", "failures": "+0.5pp", "p50": "+10%", "p95": "+10%", "p99": "+10%", "p999": "+25%",
            "max_rate": "-5%"}
