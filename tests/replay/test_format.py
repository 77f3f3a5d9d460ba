"""The replay format (loadgen.replay) and its generator and checker (loadgen.replay_tools)."""
import io
import itertools
import shlex
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.cli import main
from loadgen.config import PayloadConfig
from loadgen.errors import ConfigError
from loadgen.replay import (MAX_LINE_CHARS, MakeConfig, ReplayError, ReplayLine, check, format_line, generate, make,
                            open_replay, parse_endpoint_map, parse_line, read, render_check, scalar, scan,
                            to_request_spec, worker_share)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "replay"
SELDON_MAP = {"/js/recommendations": "/search", "/js/action/new": "/index"}


def lines_of(text, **kwargs):
    return list(read(io.StringIO(text), **kwargs))


# -- good and bad lines ----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("/search?kind=image&docs=1&top_k=50&seed=812&user=417",
     dict(endpoint="/search", kind="image", docs=1, top_k=50, seed=812, user="417")),
    ("/index?kind=text&docs=50&seed=9", dict(endpoint="/index", kind="text", docs=50, seed=9)),
    ("/", dict(endpoint="/")),  # Iago's simplest line
    ("grpc://gw:12345/search?docs=2", dict(endpoint="/search", docs=2)),
    ("http://host?docs=3", dict(endpoint="/", docs=3)),
    ("/search?shape=64x64x3&weight=3&name=hot", dict(endpoint="/search", shape=(64, 64, 3), weight=3, name="hot")),
    ("/search?param.mode=fast&param.n=3&param.r=0.5&param.ok=true&param.q=a+b%26c",
     dict(endpoint="/search", params=(("mode", "fast"), ("n", 3), ("r", 0.5), ("ok", True), ("q", "a b&c")))),
    ("  /search?docs=1&&seed=2#fragment  \r\n", dict(endpoint="/search", docs=1, seed=2)),
    ("\ufeff/search?docs=1", dict(endpoint="/search", docs=1)),
    ("/s%C3%BCche?user=J%C3%BCrgen", dict(endpoint="/süche", user="Jürgen")),
    ("/search?param.empty", dict(endpoint="/search", params=(("empty", ""),))),
])
def test_good_lines(text, expected):
    assert parse_line(text) == ReplayLine(**expected)


@pytest.mark.parametrize("text", ["", "   ", "\r\n", "# a comment", "  # indented comment", "\ufeff# BOM comment"])
def test_blank_lines_and_comments_are_skipped(text):
    assert parse_line(text) is None


@pytest.mark.parametrize("text, needle", [
    ("/search?foo=1", "unknown key 'foo'; expected one of kind, docs"),
    ("/search?docs=two", "docs='two' is not a whole number from 1 to 10000"),
    ("/search?docs=0", "docs='0' is not a whole number"),
    ("/search?docs=1.5", "docs='1.5'"),
    ("/search?docs=%D9%A3", "docs='٣'"),  # Arabic-Indic three: int() would take it
    ("/search?top_k=-1", "top_k='-1' is not a whole number from 1"),
    ("/search?seed=-5", "seed='-5'"),
    ("/search?weight=0", "weight='0'"),
    ("/search?kind=audio", "unknown kind 'audio'; expected kind=image or kind=text"),
    ("/search?shape=0,3", "shape='0,3' is not an image shape"),
    ("/search?shape=100000,100000", "is not an image shape"),
    ("/search?docs=1&docs=2", "the key docs appears twice"),
    ("/search?name=a:b", "name='a:b' is not allowed"),
    ("/search?user=", "user='' is not allowed"),
    ("/search?=3", "has no key"),
    ("search?docs=1", "is neither a path nor a URL"),
    ("search:1,index:1", "is neither a path nor a URL"),
    ("/search?docs=1 &seed=2", "whitespace at column 15"),
    ("/search\x00", "control or invisible character U+0000 at column 8"),
    ("/search?user=%FF", "the value of user has a %-escape that is not UTF-8"),
    ("/search\udcff", "bytes that are not UTF-8"),
])
def test_bad_lines_say_what_is_wrong_and_what_is_expected(text, needle):
    with pytest.raises(ReplayError) as err:
        parse_line(text, lineno=7, source="f.replay")
    assert str(err.value).startswith("f.replay:7: ") and needle in str(err.value) and "; expected " in str(err.value)
    assert (err.value.source, err.value.lineno) == ("f.replay", 7)
    assert isinstance(err.value, ConfigError)


def test_foreign_lines_pass_unknown_keys_on_as_parameters():
    text = "http://seldon-server/js/action/new?consumer_key=k&user=5&item=7&type=1&rlabs=1&jsonpCallback=j"
    line = parse_line(text, endpoint_map=SELDON_MAP)
    assert line.endpoint == "/index" and line.user == "5"
    assert line.params == (("consumer_key", "k"), ("item", 7), ("type", 1), ("rlabs", 1), ("jsonpCallback", "j"))
    with pytest.raises(ReplayError, match="unknown key 'consumer_key'"):
        parse_line(text)  # the same line, unmapped, is a native line
    with pytest.raises(ReplayError, match="docs='x'"):
        parse_line("/js/recommendations?docs=x", endpoint_map=SELDON_MAP)  # known keys are still checked


def test_endpoint_map_option():
    assert parse_endpoint_map("/js/recommendations=/search, /js/action/new=/index") == SELDON_MAP
    assert parse_endpoint_map("") == {}
    for bad in ("/a", "a=/b", "/a=b", "/a=/b,oops"):
        with pytest.raises(ConfigError, match="--endpoint-map: bad item"):
            parse_endpoint_map(bad)


@pytest.mark.parametrize("raw, value", [
    ("true", True), ("false", False), ("12", 12), ("-3", -3), ("0.25", 0.25), ("1e-05", 1e-05), ("abc", "abc"),
    ("True", "True"), ("1e999", "1e999"), ("nan", "nan"), ("1_000", "1_000"), ("", ""), ("1" * 30, "1" * 30), ("2e3", 2000.0), ("-.5", -0.5), ("1.", 1.0),
])
def test_parameter_values_are_matched_never_evaluated(raw, value):
    assert scalar(raw) == value and type(scalar(raw)) is type(value)


# -- files ---------------------------------------------------------------------------------

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


_printable = st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cn"))
_texts = st.text(_printable, min_size=1, max_size=20)
_values = st.one_of(st.booleans(), st.integers(-10**18 + 1, 10**18 - 1), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).filter(lambda s: scalar(s) == s))
replay_lines = st.builds(
    ReplayLine,
    endpoint=st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).map(lambda s: "/" + s),
    lineno=st.integers(1, 10**6), index=st.integers(0, 10**6),
    kind=st.none() | st.sampled_from(["image", "text"]), docs=st.none() | st.integers(1, 10_000),
    top_k=st.none() | st.integers(1, 10**6), seed=st.none() | st.integers(0, 2**63 - 1),
    user=st.none() | _texts, shape=st.none() | st.lists(st.integers(1, 64), min_size=1, max_size=4).map(tuple),
    weight=st.integers(1, 10**6), name=st.none() | _texts.filter(lambda s: not set(s) & set(":<>=")),
    params=st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10), _values,
                           max_size=3).map(lambda d: tuple(d.items())),
)


@settings(max_examples=300, deadline=None)
@given(replay_lines)
def test_formatted_lines_read_back_equal(line):
    text = format_line(line)
    assert "\n" not in text and " " not in text
    assert parse_line(text, lineno=line.lineno, index=line.index) == line


@given(st.integers(0, 60), st.integers(1, 7))
def test_worker_shares_partition_every_pass(n, workers):
    lines = [ReplayLine(endpoint="/a", index=i) for i in range(n)]
    shares = [list(worker_share(lines, worker_index=w, worker_count=workers)) for w in range(workers)]
    assert sorted((line.index for share in shares for line in share)) == list(range(n))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_worker_share_checks_its_worker():
    for index, count in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(ValueError):
            worker_share([], worker_index=index, worker_count=count)


# -- from a line to a request ----------------------------------------------------------------

def test_a_line_becomes_the_same_request_every_time():
    line = parse_line("/search?kind=image&docs=2&top_k=7&seed=812&shape=4,4,3&param.mode=x")
    a, b = to_request_spec(line), to_request_spec(line)
    assert a.endpoint == "/search" and len(a.docs) == 2 and a.docs[0].tensor.shape == (4, 4, 3)
    assert [d.id for d in a.docs] == [d.id for d in b.docs]
    assert np.array_equal(a.docs[1].tensor, b.docs[1].tensor)
    assert a.parameters == {"mode": "x", "top_k": 7} and a.expected_matches == 7


def test_what_a_line_leaves_out_comes_from_the_run():
    payload = PayloadConfig(kind="text", request_size=3, top_k=4, seed=5)
    search = to_request_spec(ReplayLine(endpoint="/search", lineno=10), payload=payload)
    assert len(search.docs) == 3 and search.docs[0].text and search.parameters == {"top_k": 4}
    assert search.expected_matches == 4
    index = to_request_spec(ReplayLine(endpoint="/index", lineno=10), payload=payload)
    assert index.parameters == {} and index.expected_matches is None
    assert index.docs[0].id == search.docs[0].id  # no seed: from the run's seed and the line number
    other = to_request_spec(ReplayLine(endpoint="/index", lineno=11), payload=payload)
    assert other.docs[0].id != index.docs[0].id


def test_seeded_lines_ignore_the_run_seed():
    line = ReplayLine(endpoint="/index", kind="text", docs=1, seed=3)
    ids = {to_request_spec(line, payload=PayloadConfig(seed=s)).docs[0].id for s in range(3)}
    assert len(ids) == 1


def test_stat_name():
    assert ReplayLine(endpoint="/search").stat_name == "/search"
    assert ReplayLine(endpoint="/search", name="hot").stat_name == "hot"


# -- the generator ------------------------------------------------------------------------------

def made(config):
    stream = io.StringIO()
    make(config, stream)
    return stream.getvalue()


def test_the_generator_is_deterministic_for_a_seed():
    config = MakeConfig(calls=500, seed=7, top_k=50)
    assert made(config) == made(config)
    assert made(config) != made(MakeConfig(calls=500, seed=8, top_k=50))
    head = made(config).splitlines()[:3]
    assert head[1] == ("# made by: loadgen replay make --calls 500 --users 10000 --mix search:1,index:1 "
                       "--kind image --docs 1 --top-k 50 --seed 7")
    assert head[2].startswith(("/search?kind=image&docs=1&top_k=50&seed=", "/index?kind=image&docs=1&seed="))


@pytest.mark.parametrize("config", [
    MakeConfig(calls=300, seed=1), MakeConfig(calls=300, kind="text", docs=3, paired=True, variant_fraction=0.5),
    MakeConfig(calls=300, shape=(8, 8, 3), mix=(("/a", 0), ("/search", 3), ("/index", 1))),
])
def test_the_written_file_reads_back_as_generated(config):
    assert lines_of(made(config)) == list(generate(config))


def test_mix_ratios():
    config = MakeConfig(calls=20_000, mix=(("/search", 3), ("/index", 1), ("/never", 0)), users=50)
    lines = list(generate(config))
    counts = Counter(line.endpoint for line in lines)
    assert set(counts) == {"/search", "/index"} and counts["/search"] / len(lines) == pytest.approx(0.75, abs=0.015)
    assert {line.user for line in lines} == {str(u) for u in range(1, 51)}
    assert all(line.top_k == 10 for line in lines if line.endpoint == "/search")
    assert all(line.top_k is None for line in lines if line.endpoint == "/index")


def test_paired_calls_alternate_with_a_variant():
    config = MakeConfig(calls=5000, paired=True, mix=(("/search", 1), ("/index", 1)))
    lines = list(generate(config))
    assert len(lines) == 10_000 == config.lines
    firsts, seconds = lines[0::2], lines[1::2]
    assert {line.endpoint for line in firsts} == {"/search"} and {line.endpoint for line in seconds} == {"/index"}
    assert all((a.user, a.seed) == (b.user, b.seed) for a, b in zip(firsts, seconds))
    variants = [line for line in seconds if line.name]
    assert {(line.name, line.params) for line in variants} == {("/index-variant", (("variant", 1),))}
    assert len(variants) / len(seconds) == pytest.approx(0.1, abs=0.015)
    assert not any(line.name for line in firsts)


@pytest.mark.parametrize("kwargs, option", [
    (dict(calls=0), "--calls"), (dict(users=0), "--users"), (dict(docs=0), "--docs"), (dict(top_k=0), "--top-k"),
    (dict(seed=-1), "--seed"), (dict(kind="audio"), "--kind"), (dict(kind="text", shape=(2, 2)), "--shape"),
    (dict(variant_fraction=1.5), "--variant-fraction"),
    (dict(paired=True, mix=(("/a", 1), ("/b", 1), ("/c", 1))), "--paired"),
    (dict(paired=True, mix=(("/a", 1), ("/b", 2))), "--paired"),
])
def test_generator_options_are_checked(kwargs, option):
    with pytest.raises(ConfigError, match=f"^{option}: "):
        MakeConfig(**kwargs)


def test_the_generator_streams_in_constant_memory():
    class Sink:  # counts what is written, keeps nothing
        size = 0

        def write(self, text):
            self.size += len(text)

    sink = Sink()
    tracemalloc.start()
    try:
        written = make(MakeConfig(calls=20_000, paired=True), sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 40,000 lines are ~2.4 MB of text; holding them would show up as a peak of that size.
    assert written == 40_000 and sink.size > 2_000_000 and peak < 256 * 1024


# -- the checker -------------------------------------------------------------------------------

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


# -- the shipped examples -----------------------------------------------------------------------

@pytest.mark.parametrize("name, endpoint_map", [
    ("image-mix.replay", None), ("text-paired.replay", None), ("seldon-recommendations.replay", SELDON_MAP),
])
def test_shipped_examples_check_clean(name, endpoint_map):
    with open_replay(SCENARIOS / name) as stream:
        report = check(stream, source=name, endpoint_map=endpoint_map)
    assert report.ok and report.requests >= 100, [str(e) for e in report.errors]


@pytest.mark.parametrize("name", ["image-mix.replay", "text-paired.replay"])
def test_generated_examples_are_what_their_command_makes(name, tmp_path):
    shipped = (SCENARIOS / name).read_text(encoding="utf-8")
    command = shipped.splitlines()[1].removeprefix("# made by: loadgen ")
    assert main([*shlex.split(command), "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / name).read_text(encoding="utf-8") == shipped
