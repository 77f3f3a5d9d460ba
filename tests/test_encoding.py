import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loadgen.documents import image_documents, text_documents
from loadgen.encoding import RequestSpec, encode, next_request_id, request_id_fragment, tensor_json
from loadgen.wire import jina_pb2 as jp


def _parse(raw: bytes) -> jp.DataRequestProto:
    msg = jp.DataRequestProto()
    msg.ParseFromString(raw)
    return msg


def test_image_request_round_trips_through_the_wire_messages():
    docs = list(image_documents(3, seed=1, shape=(4, 5, 3)))
    req = encode(RequestSpec(endpoint="/index", docs=docs, parameters={"top_k": 7}))
    msg = _parse(req.payload())
    assert msg.header.exec_endpoint == "/index" and msg.parameters["top_k"] == 7
    assert len(msg.data.docs.docs) == 3 and req.n_docs == 3
    for doc, proto in zip(docs, msg.data.docs.docs):
        dense = proto.data["tensor"].ndarray.dense
        assert proto.data["id"].text == doc.id and proto.data["id"].type == "id"
        assert list(dense.shape) == [4, 5, 3] and dense.dtype == "|u1"
        assert np.array_equal(np.frombuffer(dense.buffer, dtype=np.uint8).reshape(4, 5, 3), doc.tensor)


def test_text_request_and_target_executor():
    docs = list(text_documents(2, seed=1))
    msg = _parse(encode(RequestSpec(endpoint="/search", docs=docs, target_executor="indexer")).payload())
    assert [d.data["text"].text for d in msg.data.docs.docs] == [d.text for d in docs]
    assert msg.header.target_executor == "indexer"


def test_each_payload_gets_a_unique_request_id_and_keeps_the_header():
    req = encode(RequestSpec(endpoint="/search", docs=list(text_documents(1, seed=0))))
    ids = [_parse(req.payload()).header.request_id for _ in range(1000)]
    assert len(set(ids)) == 1000 and all(len(i) == 32 for i in ids)
    assert _parse(req.payload()).header.exec_endpoint == "/search"


@given(st.text(alphabet="0123456789abcdef-", min_size=0, max_size=300))
def test_fragment_equals_protobuf_serialization(request_id):
    expected = jp.DataRequestProto(header=jp.HeaderProto(request_id=request_id)).SerializeToString()
    if request_id:
        assert request_id_fragment(request_id) == expected
    assert _parse(request_id_fragment(request_id)).header.request_id == request_id


def test_request_ids_are_monotonic_strings():
    a, b = next_request_id(), next_request_id()
    assert a != b and a[:16] == b[:16]


def test_json_body_is_what_the_http_gateway_validates():
    docs = [*image_documents(2, seed=1, shape=(4, 5, 3)), *text_documents(1, seed=2)]
    req = encode(RequestSpec(endpoint="/search", docs=docs, parameters={"top_k": 7}, target_executor="indexer",
                             expected_matches=7), wire="json")
    assert (req.wire, req.n_docs, req.expected_matches) == ("json", 3, 7)
    assert req.payload() == req.body, "the gateway assigns request ids; the body goes out unchanged"
    body = json.loads(req.body)
    assert body["parameters"] == {"top_k": 7} and body["header"] == {"targetExecutor": "indexer"}
    assert [d["id"] for d in body["data"]] == [d.id for d in docs]
    assert np.array_equal(np.array(body["data"][0]["tensor"], dtype=np.uint8), docs[0].tensor)
    assert body["data"][2] == {"id": docs[2].id, "text": docs[2].text}


@given(hnp.arrays(st.sampled_from(["uint8", "int8", "int16", "uint16", "int32", "float32"]),
                  hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
def test_tensor_json_equals_json_dumps_of_nested_lists(array):
    assert tensor_json(array) == json.dumps(array.tolist(), separators=(",", ":"))


def test_unknown_wire_format_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown wire format 'xml'"):
        encode(RequestSpec(endpoint="/index", docs=[]), wire="xml")
