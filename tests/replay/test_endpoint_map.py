"""--endpoint-map (loadgen.replay.endpoint_map): foreign logs such as Seldon's."""
import pytest

from loadgen.errors import ConfigError
from loadgen.replay import ReplayError, parse_endpoint_map, parse_line

SELDON_MAP = {"/js/recommendations": "/search", "/js/action/new": "/index"}


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
