"""From lines to requests (loadgen.replay.requests): request specs and worker shares."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.config import PayloadConfig
from loadgen.replay import ReplayLine, parse_line, to_request_spec, worker_share


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
