"""Encode documents into Jina ``DataRequestProto`` bytes, once, before any timing.

:func:`encode` turns a :class:`RequestSpec` into an :class:`EncodedRequest` whose ``body``
is a complete serialized request *without* a request id. :meth:`EncodedRequest.payload`
appends a tiny serialized header fragment carrying a fresh ``request_id``: protobuf merges
a repeated embedded message field, so the fragment overrides ``header.request_id`` and keeps
``exec_endpoint`` -- a unique id per request without re-serializing megabytes of tensors.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
from google.protobuf import struct_pb2

from loadgen.documents import Document
from loadgen.wire import docarray_pb2 as da
from loadgen.wire import jina_pb2 as jp

# One process-wide counter plus a random per-process prefix: ids stay unique across the
# workers of a distributed run without coordination.
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


@dataclass(frozen=True)
class RequestSpec:
    """What to send: an endpoint, its documents and request parameters."""

    endpoint: str
    docs: Sequence[Document]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    target_executor: Optional[str] = None
    expected_matches: Optional[int] = None  # per doc; None = do not check matches


@dataclass(frozen=True)
class EncodedRequest:
    """A serialized request ready to send; ``body`` lacks only the request id.

    :param endpoint: Jina endpoint, e.g. ``/search``.
    :param body: serialized ``DataRequestProto``.
    :param n_docs: documents in the request.
    :param expected_matches: matches required per returned doc, or None.
    """

    endpoint: str
    body: bytes
    n_docs: int
    expected_matches: Optional[int] = None

    def payload(self) -> bytes:
        """The bytes to put on the wire: ``body`` plus a fresh request-id header fragment."""
        return self.body + request_id_fragment(next_request_id())

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


def encode(spec: RequestSpec) -> EncodedRequest:
    """Serialize ``spec`` into an :class:`EncodedRequest` (cost: proportional to payload)."""
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
        expected_matches=spec.expected_matches,
    )


def doc_proto(doc: Document) -> da.DocProto:
    """docarray v2 ``DocProto`` of a document: ``id`` plus ``tensor`` or ``text``."""
    proto = da.DocProto()
    proto.data["id"].text = doc.id
    proto.data["id"].type = "id"
    if doc.tensor is not None:
        _fill_ndarray(proto.data["tensor"], doc.tensor)
    if doc.text is not None:
        proto.data["text"].text = doc.text
    return proto


def _fill_ndarray(node: da.NodeProto, array: np.ndarray) -> None:
    dense = node.ndarray.dense
    dense.buffer = np.ascontiguousarray(array).tobytes()
    dense.shape.extend(array.shape)
    dense.dtype = array.dtype.str
    node.type = "ndarray"


def struct_to_dict(struct: struct_pb2.Struct) -> dict:
    """A protobuf ``Struct`` as a plain dict (for parameters in replies)."""
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(struct)


def encode_all(specs: Iterable[RequestSpec]) -> list[EncodedRequest]:
    """Encode every spec; used to fill pools before the load starts."""
    return [encode(s) for s in specs]
