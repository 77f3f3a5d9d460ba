"""The replay grammar (loadgen.replay.format): parsing and formatting one line."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.errors import ConfigError
from loadgen.replay import ReplayError, ReplayLine, format_line, parse_line, scalar


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


@pytest.mark.parametrize("raw, value", [
    ("true", True), ("false", False), ("12", 12), ("-3", -3), ("0.25", 0.25), ("1e-05", 1e-05), ("abc", "abc"),
    ("True", "True"), ("1e999", "1e999"), ("nan", "nan"), ("1_000", "1_000"), ("", ""), ("1" * 30, "1" * 30), ("2e3", 2000.0), ("-.5", -0.5), ("1.", 1.0),
])
def test_parameter_values_are_matched_never_evaluated(raw, value):
    assert scalar(raw) == value and type(scalar(raw)) is type(value)


# -- properties ------------------------------------------------------------------------------

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


def test_stat_name():
    assert ReplayLine(endpoint="/search").stat_name == "/search"
    assert ReplayLine(endpoint="/search", name="hot").stat_name == "hot"
