"""Pools of pre-encoded requests, one per endpoint, bounded in memory.

Pools are filled before the load starts; a user only takes the next request from a pool,
so no encoding ever happens inside a timed span.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence

from loadgen.config import PayloadConfig
from loadgen.documents import Document, image_documents, text_documents
from loadgen.encoding import EncodedRequest, RequestSpec, encode
from loadgen.errors import ConfigError

MIB = 1024 * 1024


class RequestPool:
    """Cycles through a fixed list of pre-encoded requests of one endpoint (not thread-safe
    across OS threads; greenlets of one process may share it)."""

    def __init__(self, endpoint: str, requests: Sequence[EncodedRequest]):
        if not requests:
            raise ValueError(f"empty pool for {endpoint}")
        self.endpoint = endpoint
        self.requests = tuple(requests)
        self._cycle = itertools.cycle(self.requests)

    def next(self) -> EncodedRequest:
        """The next request, round-robin."""
        return next(self._cycle)

    @property
    def nbytes(self) -> int:
        """Bytes held by the pool's request bodies."""
        return sum(r.size for r in self.requests)

    def __len__(self) -> int:
        return len(self.requests)


class RefillingPool(RequestPool):
    """A pool over a dataset larger than the pool: after each full round it encodes the next
    ``len(pool)`` requests from ``specs``, so a long run sends the whole dataset. The encoding
    happens in :meth:`next`, i.e. before the request's timed span, never inside it."""

    def __init__(self, endpoint: str, requests: Sequence[EncodedRequest], specs: Iterator[RequestSpec], wire: str):
        super().__init__(endpoint, requests)
        self._specs, self._wire, self._position = specs, wire, 0

    def next(self) -> EncodedRequest:
        if self._position == len(self.requests):
            self.requests = tuple(encode(next(self._specs), wire=self._wire) for _ in self.requests)
            self._position = 0
        request = self.requests[self._position]
        self._position += 1
        return request


@dataclass(frozen=True)
class PoolSet:
    """The pools of one process and any note for the user (e.g. a pool shrunk to fit)."""

    pools: dict[str, RequestPool]
    notes: tuple[str, ...] = ()

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.pools.values())


def build_pools(payload: PayloadConfig, endpoints: Sequence[str], *, seed: int, wire: str = "protobuf",
                between: Callable[[], None] = lambda: None,
                documents: Optional[Callable[[str], Iterator[Document]]] = None) -> PoolSet:
    """Build one pool per endpoint within ``payload.pool_mb`` (split evenly by endpoint).

    A pool holds ``payload.pool_size`` requests, or fewer when they would not fit; then a
    note says so. ``wire`` is the target's body format (``TargetConfig.wire``): ``protobuf``
    for gRPC and websocket, ``json`` for HTTP. :raises ConfigError: when not even one
    request of an endpoint fits.

    :param between: called after each encoded request; Locust passes ``gevent.sleep(0)``
        so that a worker's heartbeats keep flowing while large pools are built.
    :param documents: ``endpoint -> documents`` from a dataset (``--dataset``); then each
        pool is a :class:`RefillingPool` that goes on through the data. Default: the seeded
        random generators of ``payload.kind``.
    """
    budget = payload.pool_mb * MIB / max(1, len(endpoints))
    pools, notes = {}, []
    for endpoint in endpoints:
        specs = request_specs(payload, endpoint, seed=endpoint_seed(seed, endpoint),
                              documents=documents(endpoint) if documents else None)
        first = encode(next(specs), wire=wire)
        fits = int(budget // max(1, first.size))
        if fits < 1:
            raise ConfigError(
                f"--pool-mb: one {endpoint} request is {first.size / MIB:.1f} MiB but the cap leaves "
                f"{budget / MIB:.1f} MiB per endpoint; raise --pool-mb or lower --request-size/--image-shape"
            )
        count = min(payload.pool_size, fits)
        if count < payload.pool_size:
            notes.append(f"{endpoint}: pool holds {count} of --pool-size {payload.pool_size} requests "
                         f"to stay within --pool-mb {payload.pool_mb:g}")
        rest = []
        for _ in range(count - 1):
            between()
            rest.append(encode(next(specs), wire=wire))
        pools[endpoint] = (RefillingPool(endpoint, [first, *rest], specs, wire) if documents
                           else RequestPool(endpoint, [first, *rest]))
    return PoolSet(pools=pools, notes=tuple(notes))


def endpoint_seed(seed: int, endpoint: str) -> int:
    """Different endpoints draw different documents from one base seed."""
    return (seed * 7919 + zlib.crc32(endpoint.encode())) % 2**63


def request_specs(payload: PayloadConfig, endpoint: str, *, seed: int,
                  documents: Optional[Iterator[Document]] = None) -> Iterator[RequestSpec]:
    """An endless stream of request specs for ``endpoint``; ``/search`` asks for top_k."""
    docs = documents if documents is not None else _documents(payload, seed)
    is_search = endpoint == "/search"
    params = {"top_k": payload.top_k} if is_search else {}
    while True:
        batch = list(itertools.islice(docs, payload.request_size))
        yield RequestSpec(endpoint=endpoint, docs=batch, parameters=params,
                          expected_matches=payload.top_k if is_search else None,
                          match_field=payload.match_field if is_search else None)


def _documents(payload: PayloadConfig, seed: int) -> Iterator[Document]:
    # A generator of "many" docs; pools take only what they need.
    many = 1 << 40
    if payload.kind == "image":
        return image_documents(many, seed=seed, shape=payload.image_shape, dtype=payload.image_dtype)
    return text_documents(many, seed=seed)
