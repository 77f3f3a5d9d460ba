"""Reading replay files (loadgen.replay.reader): streams, bytes, laziness, bad lines."""
import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.replay import MAX_LINE_CHARS, ReplayError, ReplayLine, open_replay, read, scan


def lines_of(text, **kwargs):
    return list(read(io.StringIO(text), **kwargs))


def test_read_numbers_lines_and_requests():
    text = "# header\n\n/search?docs=1\n# note\n/index?docs=2\n"
    lines = lines_of(text)
    assert [(line.lineno, line.index, line.endpoint) for line in lines] == [(3, 0, "/search"), (5, 1, "/index")]


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n# comments\n", "\ufeff"])
def test_a_file_without_requests_is_an_error(text):
    with pytest.raises(ReplayError, match=r"^f: no requests \(the file is empty or holds only comments"):
        lines_of(text, source="f")


def test_crlf_bom_and_bad_bytes_from_disk(tmp_path):
    path = tmp_path / "log.replay"
    path.write_bytes(b"\xef\xbb\xbf/search?docs=1\r\n# c\r\n/index?user=\xff\xfe\r\n/index?docs=2\r\n")
    errors = []
    with open_replay(path) as stream:
        lines = list(read(stream, source=str(path), skip_bad_lines=True, on_bad_line=errors.append))
    assert [(line.lineno, line.endpoint, line.docs) for line in lines] == [(1, "/search", 1), (4, "/index", 2)]
    assert [e.lineno for e in errors] == [3] and "not UTF-8" in str(errors[0])
    with open_replay(path) as stream, pytest.raises(ReplayError, match=r":3: bytes that are not UTF-8"):
        list(read(stream, source=str(path)))


def test_a_strictly_decoded_stream_fails_with_the_line_number():
    stream = io.TextIOWrapper(io.BytesIO(b"/a\n/b\n\xff\n"), encoding="utf-8")
    with pytest.raises(ReplayError, match=r"^FILE: bytes that are not UTF-8 \(invalid start byte\) in or after line 1; "):
        list(read(stream))


def test_a_1mb_line_is_an_error_and_the_reader_moves_on():
    text = "/search?param.x=" + "a" * 1_000_000 + "\n/index?docs=2\n"
    with pytest.raises(ReplayError, match=rf"^FILE:1: the line is longer than {MAX_LINE_CHARS} characters"):
        lines_of(text)
    errors = []
    lines = lines_of(text, skip_bad_lines=True, on_bad_line=errors.append)
    assert [(line.lineno, line.endpoint) for line in lines] == [(2, "/index")] and len(errors) == 1


def test_all_lines_bad_is_an_error_even_when_skipping():
    with pytest.raises(ReplayError, match=r"no requests \(all 2 request lines are bad\)"):
        lines_of("/a?x=1\n/b?y=2\n", skip_bad_lines=True)


def test_read_is_lazy():
    class Endless:  # a stream that never ends
        def readline(self, limit=-1):
            return "/search?docs=1\n"

    assert [line.lineno for line in itertools.islice(read(Endless()), 3)] == [1, 2, 3]


def test_scan_yields_errors_in_place():
    items = list(scan(io.StringIO("/a\n/b?docs=x\n/c\n")))
    assert [type(i).__name__ for i in items] == ["ReplayLine", "ReplayError", "ReplayLine"]
    assert items[2].index == 1


# -- properties ------------------------------------------------------------------------------

# Pieces of the grammar reach the value parsers far more often than random text does.
_TOKENS = [*"/?&=%#:+.,x019 \r\n\ufeff\x00", "param.", "docs=", "top_k=", "seed=", "shape=", "weight=", "name=",
           "user=", "kind=image", "http://h", "//", "%ff", "%C3%A9", "\udcff", "-1", "9" * 20, "/js/a"]


@settings(max_examples=300, deadline=None)
@given(st.text() | st.lists(st.sampled_from(_TOKENS)).map("".join))
def test_the_parser_raises_nothing_but_its_own_error(text):
    try:
        for line in read(io.StringIO(text), endpoint_map={"/js/a": "/search"}):
            assert isinstance(line, ReplayLine)
    except ReplayError:
        pass
