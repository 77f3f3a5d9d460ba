"""Encode documents into Jina ``DataRequestProto`` bytes, once, before any timing.

:func:`encode` turns a :class:`RequestSpec` into an :class:`EncodedRequest` whose ``body``
is a complete serialized request *without* a request id. :meth:`EncodedRequest.payload`
appends a tiny serialized header fragment carrying a fresh ``request_id``: protobuf merges
a repeated embedded message field, so the fragment overrides ``header.request_id`` and keeps
``exec_endpoint`` -- a unique id per request without re-serializing megabytes of tensors.

``encode(spec, wire="json")`` builds the HTTP gateway's JSON body instead (docarray v2:
``{"data": [docs], "parameters": {...}}``); the gateway assigns request ids itself, so that
body is sent unchanged. Tensors travel as nested JSON lists, the form Jina's own HTTP client
sends (base64 strings or ``{buffer, shape, dtype}`` objects are not decoded by the gateway;
see docs/protocols.md for what was measured).
"""
from __future__ import annotations

import base64
import itertools
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from loadgen.documents import Document
from loadgen.wire import docarray_pb2 as da
from loadgen.wire import jina_pb2 as jp

# One process-wide counter plus a random per-process prefix: ids stay unique across the
# workers of a distributed run without coordination. `locust --processes N` forks its
# workers after this module was imported: each child draws a prefix of its own, or every
# worker would send the same ids (a Jina gateway with monitoring on keys in-flight requests
# by id and fails the duplicates).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def _new_id_prefix() -> None:
    global _ID_PREFIX
    _ID_PREFIX = os.urandom(8).hex()


os.register_at_fork(after_in_child=_new_id_prefix)


@dataclass(frozen=True)
class RequestSpec:
    """What to send: an endpoint, its documents and request parameters."""

    endpoint: str
    docs: Sequence[Document]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    target_executor: Optional[str] = None
    expected_matches: Optional[int] = None  # per doc; None = do not check matches
    match_field: Optional[str] = None  # a scalar field of matches whose values replies tally


@dataclass(frozen=True)
class EncodedRequest:
    """A serialized request ready to send; ``body`` lacks only the request id.

    :param endpoint: Jina endpoint, e.g. ``/search``.
    :param body: serialized ``DataRequestProto``.
    :param n_docs: documents in the request.
    :param expected_matches: matches required per returned doc, or None.
    :param wire: ``protobuf`` (gRPC, websocket) or ``json`` (HTTP).
    :param match_field: tally this scalar field of the reply's matches (or None).
    """

    endpoint: str
    body: bytes
    n_docs: int
    expected_matches: Optional[int] = None
    wire: str = "protobuf"
    match_field: Optional[str] = None

    def payload(self, request_id: Optional[str] = None) -> bytes:
        """The bytes to put on the wire: ``body`` plus a request-id header fragment carrying
        ``request_id`` (default: a fresh one); a JSON body is returned unchanged."""
        if self.wire == "json":
            return self.body
        return self.body + request_id_fragment(request_id or next_request_id())

    @property
    def size(self) -> int:
        """Bytes of ``body`` (the fragment adds about 40 bytes)."""
        return len(self.body)


def next_request_id() -> str:
    """A request id unique within this run (32 hex digits)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def request_id_fragment(request_id: str) -> bytes:
    """Serialized ``DataRequestProto{header{request_id}}`` to append to a pre-encoded body."""
    raw = request_id.encode()
    inner = b"\x0a" + _varint(len(raw)) + raw
    return b"\x0a" + _varint(len(inner)) + inner


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


WIRES = ("protobuf", "json")


def encode(spec: RequestSpec, *, wire: str = "protobuf") -> EncodedRequest:
    """Serialize ``spec`` into an :class:`EncodedRequest` (cost: proportional to payload).

    :param wire: ``protobuf`` (a ``DataRequestProto``) or ``json`` (see :func:`encode_json`).
    """
    if wire == "json":
        return encode_json(spec)
    if wire != "protobuf":
        raise ValueError(f"unknown wire format {wire!r}; use one of {', '.join(WIRES)}")
    msg = jp.DataRequestProto()
    msg.header.exec_endpoint = spec.endpoint
    if spec.target_executor:
        msg.header.target_executor = spec.target_executor
    if spec.parameters:
        msg.parameters.update(dict(spec.parameters))
    msg.data.docs.docs.extend(doc_proto(d) for d in spec.docs)
    return EncodedRequest(
        endpoint=spec.endpoint,
        body=msg.SerializeToString(),
        n_docs=len(spec.docs),
        expected_matches=spec.expected_matches, match_field=spec.match_field,
    )


#: Document attributes with their own wire form; ``Document.fields`` of these names are not sent.
OWN_FIELDS = frozenset({"id", "tensor", "text", "blob"})
_INT32 = range(-2**31, 2**31)


def doc_proto(doc: Document) -> da.DocProto:
    """docarray v2 ``DocProto`` of a document: ``id`` plus ``tensor``, ``text`` or ``blob``
    (a ``blob`` node of the encoded image bytes), and one node per entry of ``fields``."""
    proto = da.DocProto()
    for name, value in _extra_fields(doc):
        fill_value(proto.data[name], value)
    proto.data["id"].text = doc.id
    proto.data["id"].type = "id"
    if doc.tensor is not None:
        _fill_ndarray(proto.data["tensor"], doc.tensor)
    if doc.text is not None:
        proto.data["text"].text = doc.text
    if doc.blob is not None:
        proto.data["blob"].blob = doc.blob
    return proto


def _extra_fields(doc: Document) -> Iterable[tuple[str, Any]]:
    return ((k, v) for k, v in (doc.fields or {}).items() if k not in OWN_FIELDS)


def fill_value(node: da.NodeProto, value: Any) -> None:
    """Set ``node`` to docarray's untyped form of a field value: ``text``, ``integer``
    (int32; larger integers go as ``float``), ``float``, ``boolean``, ``list`` or ``dict``
    of such values; None leaves the node empty, which docarray reads as None.

    :raises TypeError: for any other type.
    """
    if value is None:
        return
    if isinstance(value, bool):
        node.boolean = value
    elif isinstance(value, int) and value in _INT32:
        node.integer = value
    elif isinstance(value, (int, float)):
        node.float = float(value)
    elif isinstance(value, str):
        node.text = value
    elif isinstance(value, Mapping):
        node.dict.SetInParent()  # an empty dict is still a dict, not None
        for key, item in value.items():
            fill_value(node.dict.data[str(key)], item)
    elif isinstance(value, (list, tuple)):
        node.list.SetInParent()
        for item in value:
            fill_value(node.list.data.add(), item)
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as a document field; use text, numbers, "
                        f"booleans, lists or dicts")


def _fill_ndarray(node: da.NodeProto, array: np.ndarray) -> None:
    dense = node.ndarray.dense
    dense.buffer = np.ascontiguousarray(array).tobytes()
    dense.shape.extend(array.shape)
    dense.dtype = array.dtype.str
    node.type = "ndarray"



def encode_json(spec: RequestSpec) -> EncodedRequest:
    """The HTTP gateway's JSON body of ``spec``: ``{"data": [...], "parameters": {...}}``, plus
    ``"header": {"targetExecutor": ...}`` when ``spec`` names one."""
    parts = ['{"data":[', ",".join(doc_json(d) for d in spec.docs), '],"parameters":', _dumps(dict(spec.parameters))]
    if spec.target_executor:
        parts.append(',"header":' + _dumps({"targetExecutor": spec.target_executor}))
    body = "".join(parts) + "}"
    return EncodedRequest(endpoint=spec.endpoint, body=body.encode(), n_docs=len(spec.docs),
                          expected_matches=spec.expected_matches, match_field=spec.match_field, wire="json")


def doc_json(doc: Document) -> str:
    """A document as docarray v2 JSON: ``id`` plus ``tensor`` (nested lists), ``text`` or
    ``blob`` (base64 text: JSON has no bytes, so the Executor decodes it), and ``fields``."""
    fields = [_dumps(name) + ":" + _dumps(value) for name, value in _extra_fields(doc)]
    fields.append('"id":' + _dumps(doc.id))
    if doc.tensor is not None:
        fields.append('"tensor":' + tensor_json(doc.tensor))
    if doc.text is not None:
        fields.append('"text":' + _dumps(doc.text))
    if doc.blob is not None:
        fields.append('"blob":' + _dumps(base64.b64encode(doc.blob).decode("ascii")))
    return "{" + ",".join(fields) + "}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def tensor_json(array: np.ndarray) -> str:
    """``array`` as nested JSON lists, the same text as ``json.dumps(array.tolist())``
    without spaces; 8- and 16-bit integers take a vectorized path (about 3x faster)."""
    if array.dtype.kind in "iu" and array.dtype.itemsize <= 2 and array.size and array.ndim:
        return _small_int_json(array)
    return _dumps(array.tolist())


def _small_int_json(array: np.ndarray) -> str:
    # Every value becomes a fixed-width, space-padded field from a lookup table; one numpy
    # pass per axis adds the commas and brackets; dropping the padding spaces leaves compact
    # JSON. Pools of 224x224x3 images would otherwise spend ~0.7 s per request in json.dumps.
    table, low = _number_table(array.dtype.str)
    text = table[array.astype(np.int64) - low]
    for _ in range(array.ndim):
        text = np.concatenate([text, np.full(text.shape[:-1] + (1,), ord(","), np.uint8)], axis=-1)
        text = text.reshape(text.shape[:-2] + (-1,))
        text[..., -1] = ord("]")
        text = np.concatenate([np.full(text.shape[:-1] + (1,), ord("["), np.uint8), text], axis=-1)
    return text[text != ord(" ")].tobytes().decode("ascii")


@lru_cache(maxsize=8)
def _number_table(dtype: str) -> tuple[np.ndarray, int]:
    """Right-aligned decimal text of every value of an integer ``dtype`` (one row each)."""
    info = np.iinfo(np.dtype(dtype))
    width = len(str(info.min)) if info.min < 0 else len(str(info.max))
    text = "".join(str(v).rjust(width) for v in range(info.min, info.max + 1))
    return np.frombuffer(text.encode("ascii"), np.uint8).reshape(-1, width), info.min
