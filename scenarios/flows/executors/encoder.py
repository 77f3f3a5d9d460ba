"""RandomProjectionEncoder: a cheap, deterministic stand-in for a neural encoder.

Images are block-mean-pooled to at most ``pool_side`` x ``pool_side`` pixels per channel and
projected to ``dim`` with a seeded Gaussian matrix; texts are feature-hashed word counts
projected the same way. The cost grows with the request size like a real encoder's, without
model weights (the machines that run this have no network access to a model hub).
"""
import zlib
from typing import Dict

import numpy as np
from jina import Executor, requests

from .schema import LoadDoc
from docarray import DocList

_TEXT_BUCKETS = 1024


class RandomProjectionEncoder(Executor):
    """Sets ``embedding`` (float32, ``dim`` values, L2-normalised) on every document."""

    def __init__(self, dim: int = 128, pool_side: int = 32, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self._dim = int(dim)
        self._pool_side = int(pool_side)
        self._seed = int(seed)
        self._projections: Dict[int, np.ndarray] = {}

    @requests(on=['/index', '/search'])
    def encode(self, docs: DocList[LoadDoc], **kwargs) -> DocList[LoadDoc]:
        for doc in docs:
            features = self._features(doc)
            if features is None:
                raise ValueError(f'document {doc.id} has neither tensor nor text')
            vector = features @ self._projection(features.shape[0])
            doc.embedding = vector / (np.linalg.norm(vector) or 1.0)
        return docs

    def _features(self, doc: LoadDoc):
        if doc.tensor is not None:
            return self._pool(np.asarray(doc.tensor, dtype=np.float32))
        if doc.text is not None:
            counts = np.zeros(_TEXT_BUCKETS, dtype=np.float32)
            for word in doc.text.lower().split():
                counts[zlib.crc32(word.encode()) % _TEXT_BUCKETS] += 1.0
            return counts
        return None

    def _pool(self, image: np.ndarray) -> np.ndarray:
        if image.ndim < 2:
            return image.ravel()
        if image.ndim == 2:
            image = image[:, :, None]
        h, w = image.shape[:2]
        sh, sw = max(1, h // self._pool_side), max(1, w // self._pool_side)
        h2, w2 = (h // sh) * sh, (w // sw) * sw
        pooled = image[:h2, :w2].reshape(h2 // sh, sh, w2 // sw, sw, -1).mean(axis=(1, 3))
        return pooled.ravel()

    def _projection(self, n_in: int) -> np.ndarray:
        if n_in not in self._projections:
            rng = np.random.default_rng(self._seed + n_in)
            self._projections[n_in] = rng.standard_normal((n_in, self._dim), dtype=np.float32)
        return self._projections[n_in]
