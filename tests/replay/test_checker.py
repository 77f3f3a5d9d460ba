"""The checker (loadgen.replay.checker): one read of a file, its counts and errors."""
import dataclasses
import io
from pathlib import Path

import pytest

from loadgen.errors import ConfigError
from loadgen.replay import (MakeConfig, ReplayError, UnreadableReplayFile, check, check_file, make, open_replay,
                            render_check)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "replay"
SELDON_MAP = {"/js/recommendations": "/search", "/js/action/new": "/index"}


def made(config):
    stream = io.StringIO()
    make(config, stream)
    return stream.getvalue()


def test_check_counts_endpoints_kinds_docs_and_users():
    text = made(MakeConfig(calls=200, paired=True, kind="text", docs=2, users=30, variant_fraction=0.5))
    report = check(io.StringIO(text), source="f")
    assert report.ok and report.requests == 400 == report.weight and report.users <= 30
    assert report.endpoints == {"/search": 200, "/index": 200} and report.kinds == {"text": 400}
    assert report.docs == {"2": 400} and 0 < report.names["/index-variant"] < 200
    rendered = render_check(report)
    assert rendered.startswith("f: OK\n  requests 400, total weight 400, distinct users")
    assert "/search" in rendered and "50.0%" in rendered


def test_check_stops_at_the_nth_error():
    text = "/a?docs=1\n" + "/b?bad=1\n" * 10 + "/c\n"
    report = check(io.StringIO(text), source="f", max_errors=3)
    assert not report.ok and report.stopped_early and [e.lineno for e in report.errors] == [2, 3, 4]
    assert "stopped at error 3 (--max-errors): lines after 4 were not checked" in render_check(report)
    full = check(io.StringIO(text), source="f")
    assert len(full.errors) == 10 and not full.stopped_early and full.requests == 2


def test_check_of_an_empty_file_is_an_error():
    report = check(io.StringIO("# nothing\n"), source="f")
    assert [str(e) for e in report.errors] == [
        "f: no requests (the file is empty or holds only comments and blank lines); expected at least one "
        "request line such as /search?kind=image&docs=1&top_k=50&seed=812&user=417"]


def test_skipped_bad_lines_are_counted_not_listed():
    text = "/a?docs=1\n/b?bad=1\n# c\n/c?docs=x\n/d\n"
    report = check(io.StringIO(text), source="f", skip_bad_lines=True, max_errors=1)
    assert report.ok and report.requests == 2 and report.bad_lines == 2 and not report.stopped_early
    strict = check(io.StringIO(text), source="f", max_errors=1)
    assert [e.lineno for e in strict.errors] == [2] and strict.stopped_early and strict.bad_lines == 0
    assert strict.requests == 1, "a run's check stops reading at the first bad line"


def test_all_lines_skipped_is_the_error_a_run_raises():
    report = check(io.StringIO("/a?x=1\n/b?y=2\n"), source="f", skip_bad_lines=True)
    assert report.bad_lines == 2 and [str(e) for e in report.errors] == [
        "f: no requests (all 2 request lines are bad); expected at least one request line such as "
        "/search?kind=image&docs=1&top_k=50&seed=812&user=417"]


def test_check_file_of_an_unreadable_file(tmp_path):
    for path, reason in ((tmp_path / "nope.replay", "No such file or directory"), (tmp_path, "Is a directory")):
        with pytest.raises(UnreadableReplayFile) as err:
            check_file(path)
        assert str(err.value) == f"{path}: cannot read the file ({reason}); expected a readable replay file"
        assert err.value.reason == reason and isinstance(err.value, ReplayError) and err.value.lineno is None


def test_max_errors_below_one_is_a_usage_error(tmp_path):
    path = tmp_path / "ok.replay"
    path.write_text("/a\n")
    with pytest.raises(ConfigError, match=r"^--max-errors: must be a whole number >= 1, got 0$"):
        check_file(path, max_errors=0)


def test_the_record_is_read_only():
    report = check(io.StringIO("/a?docs=1\n"), source="f")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.requests = 2
    with pytest.raises(TypeError):
        report.endpoints["/a"] = 2
    assert report.endpoints == {"/a": 1} and report.docs == {"1": 1} and report.errors == ()


# -- the shipped examples -----------------------------------------------------------------------

@pytest.mark.parametrize("name, endpoint_map", [
    ("image-mix.replay", None), ("text-paired.replay", None), ("seldon-recommendations.replay", SELDON_MAP),
])
def test_shipped_examples_check_clean(name, endpoint_map):
    with open_replay(SCENARIOS / name) as stream:
        report = check(stream, source=name, endpoint_map=endpoint_map)
    assert report.ok and report.requests >= 100, [str(e) for e in report.errors]
