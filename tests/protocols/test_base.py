"""TransportBase's one timing site builds the Result every request of every transport gets."""
import dataclasses

from loadgen.encoding import EncodedRequest
from loadgen.errors import ConnectError, ValidationError
from loadgen.protocols.base import TransportBase
from loadgen.replies import Reply
from loadgen.results import Result, Route

REQUEST = EncodedRequest(endpoint="/search", body=b"x" * 10, n_docs=3, expected_matches=2)
VERDICT = ValidationError("v")


class Fixed(TransportBase):
    protocol = "grpc"

    def __init__(self, outcome):
        self.outcome = outcome

    def _exchange(self, request, payload):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def _check(self, raw, request):
        return Reply(3, (Route("gateway", 1.0, 2.0),), VERDICT, (("a", 1),))


def test_a_reply_fills_every_field_of_the_result():
    result = Fixed(b"reply").send(REQUEST)
    want = Result(
        endpoint="/search", protocol="grpc", started_at=result.started_at, latency_s=result.latency_s,
        bytes_out=len(REQUEST.payload("0" * 32)), bytes_in=5, docs_sent=3, docs_returned=3,
        routes=(Route("gateway", 1.0, 2.0),), error=VERDICT, match_values=(("a", 1),))
    assert {f.name: getattr(result, f.name) for f in dataclasses.fields(Result)} == \
        {f.name: getattr(want, f.name) for f in dataclasses.fields(Result)}
    assert result.latency_s >= 0 and result.schedule_lag_s is None and result.late is False


def test_a_failure_keeps_its_error_and_no_reply_figures():
    failure = ConnectError("refused")
    result = Fixed(failure).send(REQUEST)
    assert (result.error, result.bytes_in, result.docs_returned, result.routes, result.match_values) == \
        (failure, 0, 0, (), ())
    assert (result.endpoint, result.protocol, result.docs_sent) == ("/search", "grpc", 3)
