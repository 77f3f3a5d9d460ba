"""From replay lines to requests: :func:`to_request_spec`, :func:`sent_values` and :func:`worker_share`.

A line becomes a :class:`~loadgen.encoding.RequestSpec` whose documents come from the
line's ``seed``, so two runs send identical requests; what a line leaves out comes from the
run's :class:`~loadgen.config.PayloadConfig`. :func:`worker_share` deals one pass of a file
out to the load-generating processes without any coordination.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

from loadgen.config import PayloadConfig
from loadgen.documents import image_documents, text_documents
from loadgen.encoding import RequestSpec
from loadgen.replay.format import MAX_SEED, SEARCH, ReplayLine


def to_request_spec(line: ReplayLine, *, payload: PayloadConfig = PayloadConfig()) -> RequestSpec:
    """The request of ``line``, the same in every run: its documents are drawn from the
    line's ``seed`` (or, without one, from ``payload.seed`` and the line number). What the
    line leaves out comes from ``payload`` (the run's ``--kind``, ``--request-size``,
    ``--top-k``, ``--image-shape``). ``top_k`` goes into the parameters; on ``/search`` it is
    also the number of matches each document must get back.

    Cost: the documents are generated here (tensors for images), so call it before any timed
    span, e.g. while filling a pool.
    """
    seed = line.seed if line.seed is not None else (payload.seed * 1_000_003 + line.lineno) % (MAX_SEED + 1)
    kind, count, top_k = sent_values(line, payload=payload)
    if kind == "image":
        docs = image_documents(count, seed=seed, shape=line.shape or payload.image_shape, dtype=payload.image_dtype)
    else:
        docs = text_documents(count, seed=seed)
    params = dict(line.params) if top_k is None else {**dict(line.params), "top_k": top_k}
    return RequestSpec(endpoint=line.endpoint, docs=list(docs), parameters=params,
                       expected_matches=top_k if line.endpoint == SEARCH else None)


def sent_values(line: ReplayLine, *, payload: PayloadConfig = PayloadConfig()) -> tuple[str, int, Optional[int]]:
    """``(kind, docs, top_k)`` of the request ``line`` becomes: the line's own values, else the
    run's (``payload``); ``top_k`` is None for a line without one outside ``/search``."""
    top_k = line.top_k if line.top_k is not None else payload.top_k if line.endpoint == SEARCH else None
    return line.kind or payload.kind, line.docs or payload.request_size, top_k


def worker_share(lines: Iterable[ReplayLine], *, worker_index: int, worker_count: int) -> Iterator[ReplayLine]:
    """The lines worker ``worker_index`` (0-based) of ``worker_count`` sends in one pass: those
    whose ``index`` modulo ``worker_count`` is ``worker_index``. The shares of all workers
    cover every line of the pass exactly once, and need no coordination.

    :raises ValueError: unless ``0 <= worker_index < worker_count``.
    """
    if not 0 <= worker_index < worker_count:
        raise ValueError(f"worker {worker_index} of {worker_count}: expected 0 <= index < count")
    # By request index, not line number: comments and blank lines would skew the shares.
    return (line for line in lines if line.index % worker_count == worker_index)
