"""NumpyIndexer: brute-force cosine search over the embeddings indexed so far.

``/index`` stores each document's embedding and answers with the ids only (no tensors back
over the wire). ``/search`` answers each query with exactly ``top_k`` matches (fewer only
when fewer documents are indexed), sorted by descending cosine similarity, each naming the
shard that answered it (``shard``); it drops the query's tensor and embedding from the reply
so that responses stay small.
"""
from typing import List

import numpy as np
from jina import Executor, requests

from .schema import LoadDoc, MatchDoc
from docarray import DocList


class NumpyIndexer(Executor):
    """In-memory vector index; ``raise_on`` makes it fail on docs whose text contains it."""

    def __init__(self, default_top_k: int = 10, raise_on: str = '', **kwargs):
        super().__init__(**kwargs)
        self._default_top_k = int(default_top_k)
        self._raise_on = raise_on
        self._ids: List[str] = []
        self._chunks: List[np.ndarray] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._shard = int(getattr(self.runtime_args, 'shard_id', 0) or 0)

    @requests(on='/index')
    def index(self, docs: DocList[LoadDoc], **kwargs) -> DocList[LoadDoc]:
        self._check(docs)
        if not docs:  # e.g. loadgen's endpoint check over websocket: nothing to store
            return docs
        vectors = np.stack([np.asarray(d.embedding, dtype=np.float32) for d in docs])
        self._chunks.append(vectors)
        self._ids.extend(d.id for d in docs)
        return DocList[LoadDoc]([LoadDoc(id=d.id) for d in docs])

    @requests(on='/search')
    def search(self, docs: DocList[LoadDoc], parameters: dict, **kwargs) -> DocList[LoadDoc]:
        self._check(docs)
        top_k = int((parameters or {}).get('top_k', self._default_top_k))
        if not docs:
            return docs
        matrix = self._index_matrix()
        queries = np.stack([np.asarray(d.embedding, dtype=np.float32) for d in docs])
        scores = queries @ matrix.T if len(matrix) else np.zeros((len(docs), 0))
        return DocList[LoadDoc]([self._answer(d, row, top_k) for d, row in zip(docs, scores)])

    def _answer(self, doc: LoadDoc, row: np.ndarray, top_k: int) -> LoadDoc:
        k = min(top_k, row.shape[0])
        best = np.argpartition(-row, k - 1)[:k] if k else np.zeros(0, dtype=int)
        best = best[np.argsort(-row[best])]
        matches = DocList[MatchDoc]([MatchDoc(id=self._ids[i], score=float(row[i]), shard=self._shard)
                                     for i in best])
        return LoadDoc(id=doc.id, matches=matches)

    def _index_matrix(self) -> np.ndarray:
        if self._chunks:
            # Concatenate lazily: indexing appends cheaply, the next search pays once.
            parts = [self._matrix] if self._matrix.size else []
            self._matrix = np.concatenate(parts + self._chunks)
            self._chunks = []
        return self._matrix

    def _check(self, docs: DocList[LoadDoc]) -> None:
        if not self._raise_on:
            return
        for d in docs:
            if d.text and self._raise_on in d.text:
                raise ValueError(f'document {d.id} contains the marker {self._raise_on!r}')
