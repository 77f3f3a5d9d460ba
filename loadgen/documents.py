"""Seeded, reproducible document generators: random images and word-list sentences.

Each generator is a pure producer: the same arguments yield the same documents (ids
included), so two runs with one seed send identical payloads. A distributed run derives
each worker's seed with :func:`worker_seed` so that workers send different documents.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator, Mapping, Optional

import numpy as np

# Words per text document: lognormal with this median and spread, clipped. Short search
# queries and paragraph-sized documents both occur; the median sits near a long sentence.
TEXT_MEDIAN_WORDS = 18
TEXT_SIGMA = 0.6
TEXT_MIN_WORDS, TEXT_MAX_WORDS = 3, 200
# Word ranks follow Zipf's law (exponent slightly above 1), as in natural text.
ZIPF_EXPONENT = 1.1


@dataclass(frozen=True)
class Document:
    """One document: a 32-hex-digit ``id`` and an image ``tensor``, an encoded image ``blob``
    (PNG/JPEG bytes) or a ``text``; ``fields`` are further document fields (text, number,
    boolean, or lists and dicts of them), e.g. from a JSONL dataset (see docs/datasets.md)."""

    id: str
    tensor: Optional[np.ndarray] = None
    text: Optional[str] = None
    blob: Optional[bytes] = None
    fields: Optional[Mapping[str, Any]] = None


def worker_seed(seed: int, worker_index: int) -> int:
    """The seed a worker uses: distinct per worker, stable across runs."""
    return int(seed) * 1_000_003 + int(worker_index)


def image_documents(
    n: int, *, seed: int, shape: tuple[int, ...] = (224, 224, 3), dtype: str = "uint8"
) -> Iterator[Document]:
    """Yield ``n`` random images of ``shape``; integer dtypes span their full range, floats [0, 1).

    :param n: number of documents.
    :param seed: the stream's seed.
    :param shape: tensor shape, default 224x224x3 as in the original Jina benchmarks.
    :param dtype: numpy dtype name.
    """
    rng = np.random.default_rng(seed)
    kind = np.dtype(dtype)
    for _ in range(n):
        if np.issubdtype(kind, np.integer):
            info = np.iinfo(kind)
            tensor = rng.integers(info.min, info.max, size=shape, dtype=kind, endpoint=True)
        else:
            tensor = rng.random(size=shape).astype(kind)
        yield Document(id=_doc_id(rng), tensor=tensor)


def text_documents(n: int, *, seed: int) -> Iterator[Document]:
    """Yield ``n`` texts of Zipf-distributed words with a lognormal length distribution."""
    rng = np.random.default_rng(seed)
    words = word_list()
    for _ in range(n):
        length = int(np.clip(rng.lognormal(np.log(TEXT_MEDIAN_WORDS), TEXT_SIGMA), TEXT_MIN_WORDS, TEXT_MAX_WORDS))
        ranks = rng.zipf(ZIPF_EXPONENT, size=length * 2)
        ranks = ranks[ranks <= len(words)][:length]
        while len(ranks) < length:  # Zipf draws past the list end are rare; top up uniformly
            ranks = np.append(ranks, rng.integers(1, len(words) + 1))
        yield Document(id=_doc_id(rng), text=_sentence([words[r - 1] for r in ranks]))


def _sentence(words: list[str]) -> str:
    return " ".join(words).capitalize() + "."


def _doc_id(rng: np.random.Generator) -> str:
    return rng.bytes(16).hex()


@lru_cache(maxsize=1)
def word_list() -> tuple[str, ...]:
    """The shipped list of common English words, most frequent first."""
    text = resources.files("loadgen.data").joinpath("words.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
