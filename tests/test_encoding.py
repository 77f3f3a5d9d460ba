import base64
import json
import os
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loadgen.documents import Document, image_documents, text_documents
from loadgen.encoding import (RequestSpec, doc_json, doc_proto, encode, next_request_id, request_id_fragment,
                              tensor_json)
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


def test_a_forked_worker_draws_its_own_id_prefix():
    """`locust --processes N` forks workers after import: their ids must not collide."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, next_request_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child_id) == 32 and child_id[:16] != next_request_id()[:16]


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


# --- the wire form of blob and field documents (datasets send them) ------------------------


FIELDS = {"lang": "en", "n": 3, "big": 2**40, "score": 0.25, "ok": False, "gone": None, "tags": ["a", 1],
          "meta": {"k": "v", "empty": {}}, "none_list": [], "text": "ignored", "id": "ignored"}


def test_blob_and_fields_become_docarray_nodes():
    proto = doc_proto(Document(id="d" * 32, blob=b"\x89PNG...", fields=FIELDS))
    data = proto.data
    assert data["blob"].blob == b"\x89PNG..." and data["id"].text == "d" * 32 and "text" not in data
    assert data["lang"].text == "en" and data["n"].integer == 3 and data["big"].float == 2.0**40
    assert data["score"].float == 0.25 and data["ok"].WhichOneof("content") == "boolean" and not data["ok"].boolean
    assert data["gone"].WhichOneof("content") is None, "None is an empty node, which docarray reads as None"
    assert [n.text or n.integer for n in data["tags"].list.data] == ["a", 1]
    assert data["meta"].dict.data["k"].text == "v" and data["meta"].dict.data["empty"].WhichOneof("content") == "dict"
    assert data["none_list"].WhichOneof("content") == "list"
    request = jp.DataRequestProto()
    request.ParseFromString(encode(RequestSpec(endpoint="/index", docs=[Document(id="e" * 32, blob=b"xy")])).payload())
    assert request.data.docs.docs[0].data["blob"].blob == b"xy"


def test_blob_and_fields_in_the_http_json_body():
    doc = json.loads(doc_json(Document(id="d" * 32, text="t", blob=b"\0\xff", fields=FIELDS)))
    assert doc["id"] == "d" * 32 and doc["text"] == "t" and base64.b64decode(doc["blob"]) == b"\0\xff"
    assert doc["meta"] == {"k": "v", "empty": {}} and doc["big"] == 2**40 and doc["gone"] is None
    with pytest.raises(TypeError, match="cannot send a bytes as a document field"):
        doc_proto(Document(id="x", fields={"raw": b"x"}))


_DOCARRAY_READS = """
import json
import sys
from typing import Any, Dict, List, Optional
from docarray import BaseDoc
from docarray.proto import DocProto

class Doc(BaseDoc):
    text: Optional[str] = None
    blob: Optional[bytes] = None
    label: Optional[int] = None
    score: Optional[float] = None
    tags: Optional[Dict[str, Any]] = None
    items: Optional[List[Any]] = None
    ok: Optional[bool] = None

proto = DocProto()
proto.ParseFromString(sys.stdin.buffer.read())
doc = Doc.from_protobuf(proto).dict()
print(json.dumps({**doc, "blob": doc["blob"].hex()}))
"""


@pytest.mark.integration
def test_real_docarray_reads_blob_and_fields():
    from loadgen.flowctl import FlowConfig, flow_python

    fields = {"label": 3, "score": 0.5, "tags": {"a": "b", "n": None}, "items": [1, "x"], "ok": True, "other": "x"}
    raw = doc_proto(Document(id="d" * 32, text="hi", blob=b"\x89PNG", fields=fields)).SerializeToString()
    out = subprocess.run([str(flow_python(FlowConfig())), "-c", _DOCARRAY_READS], input=raw, capture_output=True,
                         check=True, timeout=120).stdout
    doc = json.loads(out.splitlines()[-1])
    assert doc["id"] == "d" * 32 and doc["text"] == "hi" and bytes.fromhex(doc["blob"]) == b"\x89PNG"
    assert {k: doc[k] for k in ("label", "score", "tags", "items", "ok")} == {k: fields[k] for k in
                                                                             ("label", "score", "tags", "items", "ok")}
