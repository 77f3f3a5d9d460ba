"""Pools of pre-encoded requests, one per endpoint, bounded in memory.

Pools are filled before the load starts; a user only takes the next request from a pool,
so no encoding ever happens inside a timed span. A pool over a dataset larger than itself
(:class:`RefillingPool`) encodes its next chunk ahead, on an injected executor: under
Locust, native threads, so that decoding images never blocks the gevent hub that times
every other user's request (docs/datasets.md, "Refills").
"""
from __future__ import annotations

import functools
import itertools
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

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
    """A pool over a dataset larger than the pool, double-buffered: while one chunk of
    ``len(pool)`` requests is sent, ``executor`` encodes the next ``len(pool)`` from
    ``specs``, so a long run sends the whole dataset and a user takes its next request
    without waiting when the data keeps up.

    When the next chunk is not ready as a user needs it, the user waits for it in
    :meth:`next` -- before its request's timed span -- and ``on_wait(seconds)`` reports the
    wait (:class:`loadgen.metrics.DataWaits`). A failed refill (e.g. a broken image with
    ``strict``) raises from :meth:`next`.

    :param executor: ``submit(fn) -> future`` (``done()``, ``result()``), as
        :class:`concurrent.futures.Executor`; the Locust adapter passes native threads whose
        results gevent awaits cooperatively. Default :class:`InlineExecutor`: each refill
        runs in the caller when the pool runs dry (and counts as a wait).
    :param clock: seconds, for the waits (``time.perf_counter``).
    """

    def __init__(self, endpoint: str, requests: Sequence[EncodedRequest], specs: Iterator[RequestSpec], wire: str,
                 *, executor: Any = None, on_wait: Callable[[float], Any] = lambda seconds: None,
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__(endpoint, requests)
        self._specs, self._wire, self._position = specs, wire, 0
        self._executor = executor if executor is not None else InlineExecutor()
        self._on_wait, self._clock = on_wait, clock
        self._chunk_size = len(self.requests)
        self._pending = self._executor.submit(self._encode_chunk)

    def next(self) -> EncodedRequest:
        while self._position >= len(self.requests):
            self._take_next_chunk()
        request = self.requests[self._position]
        self._position += 1
        return request

    def _take_next_chunk(self) -> None:
        pending = self._pending
        if not pending.done():
            self._wait_for(pending)
            return  # the caller looks again: a user that waited too may have taken the chunk
        self.requests, self._position = pending.result(), 0
        self._pending = self._executor.submit(self._encode_chunk)

    def _wait_for(self, pending: Any) -> None:
        started = self._clock()
        try:
            pending.result()  # cooperative under gevent; an error is raised again when the chunk is taken
        except Exception:  # noqa: BLE001
            pass
        finally:
            self._on_wait(self._clock() - started)

    def _encode_chunk(self) -> tuple[EncodedRequest, ...]:
        # Runs on the executor (a native thread under Locust): the only reader of ``specs``
        # while it runs, as a pool submits its next chunk only after taking the last one.
        return tuple(encode(next(self._specs), wire=self._wire) for _ in range(self._chunk_size))


class InlineExecutor:
    """An executor without threads: a task runs in whoever first asks for its result."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> "Deferred":
        return Deferred(functools.partial(fn, *args))


class Deferred:
    """The future of :class:`InlineExecutor`: not done until its result is asked for."""

    def __init__(self, fn: Callable[[], Any]):
        self._fn: Optional[Callable[[], Any]] = fn
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def done(self) -> bool:
        return self._fn is None

    def result(self) -> Any:
        if self._fn is not None:
            fn, self._fn = self._fn, None
            try:
                self._value = fn()
            except Exception as exc:  # noqa: BLE001 - kept, raised to every caller
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._value


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
                documents: Optional[Callable[[str], Iterator[Document]]] = None,
                executor: Any = None, on_wait: Callable[[float], Any] = lambda seconds: None) -> PoolSet:
    """Build one pool per endpoint within ``payload.pool_mb`` (split evenly by endpoint).

    A pool holds ``payload.pool_size`` requests, or fewer when they would not fit; then a
    note says so. ``wire`` is the target's body format (``TargetConfig.wire``): ``protobuf``
    for gRPC and websocket, ``json`` for HTTP. :raises ConfigError: when not even one
    request of an endpoint fits.

    :param between: called after each encoded request; Locust passes ``gevent.sleep(0)``
        so that a worker's heartbeats keep flowing while large pools are built.
    :param documents: ``endpoint -> documents`` from a dataset (``--dataset``); then each
        pool is a :class:`RefillingPool` that goes on through the data, holding two chunks
        (the one being sent and the next, encoded ahead) within the cap. Default: the
        seeded random generators of ``payload.kind``.
    :param executor: where refills run (see :class:`RefillingPool`).
    :param on_wait: called with the seconds a user waited for a refill.
    """
    budget = payload.pool_mb * MIB / max(1, len(endpoints))
    pools, notes = {}, []
    for endpoint in endpoints:
        specs = request_specs(payload, endpoint, seed=endpoint_seed(seed, endpoint),
                              documents=documents(endpoint) if documents else None)
        first = encode(next(specs), wire=wire)
        count, note = _pool_count(payload, endpoint, first.size, budget, chunks=2 if documents else 1)
        notes += [note] if note else []
        rest = []
        for _ in range(count - 1):
            between()
            rest.append(encode(next(specs), wire=wire))
        pools[endpoint] = (RefillingPool(endpoint, [first, *rest], specs, wire, executor=executor, on_wait=on_wait)
                           if documents else RequestPool(endpoint, [first, *rest]))
    return PoolSet(pools=pools, notes=tuple(notes))


def _pool_count(payload: PayloadConfig, endpoint: str, size: int, budget: float, *,
                chunks: int) -> tuple[int, Optional[str]]:
    """Requests per chunk of ``endpoint``'s pool when ``chunks`` chunks of requests of
    ``size`` bytes must fit ``budget`` bytes, and the note when that is under --pool-size."""
    fits = int(budget // (max(1, size) * chunks))
    if fits < 1:
        held = " twice (a dataset pool also encodes its next chunk ahead)" if chunks > 1 else ""
        raise ConfigError(
            f"--pool-mb: one {endpoint} request is {size / MIB:.1f} MiB but the cap leaves "
            f"{budget / MIB:.1f} MiB per endpoint to hold it{held}; raise --pool-mb or lower "
            f"--request-size/--image-shape"
        )
    count = min(payload.pool_size, fits)
    if count == payload.pool_size:
        return count, None
    ahead = " (and as many encoded ahead)" if chunks > 1 else ""
    return count, (f"{endpoint}: pool holds {count} of --pool-size {payload.pool_size} requests{ahead} "
                   f"to stay within --pool-mb {payload.pool_mb:g}")


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
