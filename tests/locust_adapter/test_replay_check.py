"""The master's one read of ``--replay-file`` (replay_feed.check_replay over loadgen.replay.check_file)."""
import logging

import pytest

from loadgen.errors import ConfigError
from loadgen.locust_adapter.options import ReplayOptions
from loadgen.locust_adapter.replay_feed import check_replay
from loadgen.replay import ReplayError


def _options(path, *, skip_bad_lines=False, endpoint_map=None):
    return ReplayOptions(path=str(path), endpoint_map=endpoint_map or {}, skip_bad_lines=skip_bad_lines,
                         reuse_file=False, max_requests=0)


def test_lines_per_pass_and_skipped_lines_are_logged(tmp_path, caplog):
    path = tmp_path / "f.replay"
    path.write_text("/search?docs=1\n/search?docs=lots\n# c\n/index\n/x?y=1\n")
    with caplog.at_level(logging.WARNING, logger="loadgen"):
        result = check_replay(_options(path, skip_bad_lines=True))
    assert (result.requests, result.bad_lines) == (2, 2)
    assert caplog.messages == [f"--skip-bad-lines: skipped 2 bad lines of {path}"]


def test_a_bad_line_stops_the_run_and_nothing_is_logged(tmp_path, caplog):
    path = tmp_path / "f.replay"
    path.write_text("/search?docs=1\n/search?docs=lots\n/x?y=1\n")
    with caplog.at_level(logging.WARNING, logger="loadgen"), pytest.raises(ReplayError) as err:
        check_replay(_options(path))
    assert str(err.value).startswith(f"{path}:2: docs='lots'") and caplog.messages == []


def test_all_lines_bad_is_an_error_even_when_skipping(tmp_path):
    path = tmp_path / "f.replay"
    path.write_text("/a?x=1\n/b?y=2\n")
    with pytest.raises(ReplayError, match=r": no requests \(all 2 request lines are bad\)"):
        check_replay(_options(path, skip_bad_lines=True))


def test_an_unreadable_file_names_the_option(tmp_path):
    with pytest.raises(ConfigError) as err:
        check_replay(_options(tmp_path / "nope.replay"))
    assert str(err.value) == (f"--replay-file: cannot read {tmp_path / 'nope.replay'} (No such file or directory); "
                              "give an existing file")


def test_the_endpoint_map_is_applied(tmp_path):
    path = tmp_path / "f.replay"
    path.write_text("/js/recommendations?consumer_key=k&user=1\n")
    assert check_replay(_options(path, endpoint_map={"/js/recommendations": "/search"})).requests == 1
