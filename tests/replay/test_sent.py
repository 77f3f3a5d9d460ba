"""What a replay run sent: counted per endpoint and name, merged exactly across processes."""
from loadgen.config import PayloadConfig
from loadgen.replay import ReplayLine, SentTally, run_values, to_request_spec

RUN = PayloadConfig(kind="image", request_size=8, top_k=10)
LINES = [ReplayLine(endpoint="/search", kind="text", docs=2, top_k=3, name="short"),
         ReplayLine(endpoint="/search"),  # the run's kind, docs and top_k
         ReplayLine(endpoint="/index", kind="text", docs=1)]


def test_counts_are_the_values_each_request_carried():
    tally = SentTally()
    for line in LINES:
        tally.add(line, payload=RUN)
    assert tally.as_dict() == {
        "/index": {"/index": {"requests": 1, "kinds": {"text": 1}, "docs": {"1": 1}, "top_k": {}}},
        "/search": {"/search": {"requests": 1, "kinds": {"image": 1}, "docs": {"8": 1}, "top_k": {"10": 1}},
                    "short": {"requests": 1, "kinds": {"text": 1}, "docs": {"2": 1}, "top_k": {"3": 1}}}}
    # the same values the request itself is built from
    spec = to_request_spec(LINES[1], payload=RUN)
    assert len(spec.docs) == 8 and spec.parameters["top_k"] == 10
    assert run_values(tally) == {"kind": "image+text", "request_size": None, "top_k": None,
                                 "task_mix": {"/index": 1, "/search": 2}}


def test_worker_tallies_merge_to_the_whole():
    whole, parts = SentTally(), [SentTally(), SentTally()]
    for i, line in enumerate(LINES * 5):
        whole.add(line, payload=RUN)
        parts[i % 2].add(line, payload=RUN)
    merged = SentTally()
    for part in parts:
        merged.merge(SentTally.decode(part.encode()))  # as shipped in a worker report
    assert merged.as_dict() == whole.as_dict()
    assert SentTally.decode(None).as_dict() == {}


def test_one_value_for_every_request_is_the_runs_value():
    tally = SentTally()
    for _ in range(3):
        tally.add(ReplayLine(endpoint="/search", kind="text", docs=4, top_k=7), payload=RUN)
    assert run_values(tally) == {"kind": "text", "request_size": 4, "top_k": 7, "task_mix": {"/search": 3}}
