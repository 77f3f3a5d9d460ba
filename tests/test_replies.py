import json

import pytest

from loadgen.encoding import EncodedRequest, request_id_fragment
from loadgen.errors import GatewayStatusError, ProtocolError, ValidationError
from loadgen.replies import Reply, check_json_reply, check_reply, reply_request_id
from loadgen.wire import jina_pb2 as jp


def _request(n_docs=2, expected_matches=None):
    return EncodedRequest(endpoint="/search", body=b"", n_docs=n_docs, expected_matches=expected_matches)


def _reply(n_docs=2, matches=3, routes=(("gateway", True), ("encoder", True)), status=None) -> bytes:
    msg = jp.DataRequestProto()
    for i in range(n_docs):
        doc = msg.data.docs.docs.add()
        doc.data["id"].text = f"d{i}"
        for j in range(matches):
            match = doc.data["matches"].doc_array.docs.add()
            match.data["id"].text = f"m{j}"
    for name, answered in routes:
        route = msg.routes.add(executor=name)
        route.start_time.FromNanoseconds(1_000_000_000)
        if answered:
            route.end_time.FromNanoseconds(1_002_500_000)
    if status is not None:
        msg.header.status.CopyFrom(status)
    return msg.SerializeToString()


def test_a_good_reply_passes_and_yields_routes():
    reply = check_reply(_reply(), _request(expected_matches=3))
    assert reply.error is None and reply.docs_returned == 2
    assert [r.executor for r in reply.routes] == ["gateway", "encoder"]
    assert abs(reply.routes[0].duration_s - 0.0025) < 1e-9


def test_wrong_match_count_is_a_validation_failure():
    reply = check_reply(_reply(matches=3), _request(expected_matches=50))
    assert isinstance(reply.error, ValidationError) and reply.error.kind == "validation"
    assert str(reply.error) == "expected 50 matches, got 3"


def test_a_skipped_executor_is_a_validation_failure():
    reply = check_reply(_reply(routes=(("gateway", True), ("encoder", False))), _request())
    assert isinstance(reply.error, ValidationError) and "'encoder' did not answer" in str(reply.error)


def test_missing_docs_are_a_validation_failure():
    reply = check_reply(_reply(n_docs=1), _request(n_docs=2))
    assert isinstance(reply.error, ValidationError) and "expected 2 docs, got 1" in str(reply.error)


def test_error_status_names_the_executor_exception():
    status = jp.StatusProto(code=jp.StatusProto.ERROR, description="boom")
    status.exception.name = "ValueError"
    status.exception.args.append("document d1 contains the marker")
    status.exception.executor = "indexer"
    reply = check_reply(_reply(status=status), _request())
    assert isinstance(reply.error, GatewayStatusError) and reply.error.kind == "gateway_status"
    assert str(reply.error) == "ValueError in indexer: document d1 contains the marker"


def test_garbage_is_a_protocol_failure():
    reply = check_reply(b"\xff\xff\xff\xff", _request())
    assert isinstance(reply.error, ProtocolError) and reply.error.kind == "protocol"


def test_docs_bytes_replies_are_understood():
    inner = jp.DataRequestProto.FromString(_reply(n_docs=2, matches=1))
    msg = jp.DataRequestProto()
    msg.data.docs_bytes = inner.data.docs.SerializeToString()
    assert check_reply(msg.SerializeToString(), _request(expected_matches=1)).error is None


def _json(n_docs=2, matches=3) -> bytes:
    docs = [{"id": f"d{i}", "matches": [{"id": f"m{j}"} for j in range(matches)]} for i in range(n_docs)]
    return json.dumps({"data": docs, "parameters": {}, "header": {"requestId": "x"}}).encode()


def test_a_good_json_reply_passes_without_routes():
    reply = check_json_reply(_json(), _request(expected_matches=3))
    assert reply == Reply(docs_returned=2, routes=(), error=None)


@pytest.mark.parametrize("raw, status, kind, message", [
    (_json(matches=2), 200, "validation", "expected 3 matches, got 2"),
    (_json(n_docs=1), 200, "validation", "expected 2 docs, got 1"),
    (b'{"detail":"ValueError(\\"doc d1 has the marker \'m\'\\")"}', 500, "gateway_status",
     "ValueError (HTTP 500): doc d1 has the marker 'm'"),
    (b'{"detail":"Not Found"}', 404, "gateway_status", "HTTP 404: Not Found"),
    (b'{"detail":[{"loc":["body","data",0,"tensor"],"msg":"not a list","type":"x"}]}', 422, "gateway_status",
     "HTTP 422: body.data.0.tensor: not a list"),
    (b'{"header":{"status":{"code":1,"description":"deployment down"}}}', 503, "gateway_status",
     "HTTP 503: deployment down"),
    (b"<html><h1>502 Bad Gateway</h1></html>", 502, "protocol", "HTTP 502: undecodable reply (37 bytes)"),
    (b'{"docs": []}', 200, "protocol", "HTTP 200: a reply without a list of docs"),
])
def test_json_reply_failures_are_classified(raw, status, kind, message):
    error = check_json_reply(raw, _request(expected_matches=3), status=status).error
    assert error.kind == kind and str(error).startswith(message)


def test_reply_request_id_reads_only_the_header():
    msg = jp.DataRequestProto.FromString(_reply(n_docs=3))
    msg.header.request_id = "abc"
    raw = msg.SerializeToString()
    assert reply_request_id(raw) == "abc"
    assert reply_request_id(raw + request_id_fragment("later")) == "later", "merged like protobuf"
    assert reply_request_id(_reply()) == "" and reply_request_id(b"\xff\xff\xff") is None
    assert reply_request_id(raw[:-5]) is None, "truncated"


# -- --match-field: tallies of a scalar field of the matches ------------------------------------
def _sharded_reply() -> bytes:
    """Two docs of three matches; match j of doc i says shard (i + j) % 2, the last has none,
    and one carries a text/float/bool field as well."""
    msg = jp.DataRequestProto()
    for i in range(2):
        doc = msg.data.docs.docs.add()
        doc.data["id"].text = f"d{i}"
        for j in range(3):
            match = doc.data["matches"].doc_array.docs.add()
            match.data["id"].text = f"m{j}"
            match.data["score"].float = 0.5
            if j < 2:
                match.data["shard"].integer = (i + j) % 2
    msg.data.docs.docs[0].data["matches"].doc_array.docs[0].data["lang"].text = "en"
    return msg.SerializeToString()


def test_match_values_count_each_value_of_the_field():
    request = EncodedRequest(endpoint="/search", body=b"", n_docs=2, expected_matches=3, match_field="shard")
    reply = check_reply(_sharded_reply(), request)
    assert reply.error is None and reply.match_values == (("-", 2), ("0", 2), ("1", 2))
    assert check_reply(_sharded_reply(), _request(expected_matches=3)).match_values == ()  # off by default
    text = EncodedRequest(endpoint="/search", body=b"", n_docs=2, expected_matches=3, match_field="lang")
    assert check_reply(_sharded_reply(), text).match_values == (("-", 5), ("en", 1))


def test_json_match_values_count_each_value_of_the_field():
    docs = [{"id": "d0", "matches": [{"id": "a", "shard": 0}, {"id": "b", "shard": 1}, {"id": "c"}]}]
    raw = json.dumps({"data": docs}).encode()
    request = EncodedRequest(endpoint="/search", body=b"", n_docs=1, expected_matches=3, match_field="shard",
                             wire="json")
    assert check_json_reply(raw, request).match_values == (("-", 1), ("0", 1), ("1", 1))
