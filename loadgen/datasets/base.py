"""The :class:`Dataset` contract, the random datasets, and dataset statistics."""
from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from loadgen.documents import Document, image_documents, text_documents, worker_seed
from loadgen.errors import ConfigError

#: The option every dataset error names.
OPTION = "--dataset"
#: Tensor shape of ``random-image`` when no ``image_shape`` is given.
RANDOM_IMAGE_SHAPE = (224, 224, 3)
_UNBOUNDED = 1 << 62


@dataclass(frozen=True)
class ImageOptions:
    """How images become documents.

    :param shape: resize (stretch) every image to this tensor shape, ``(H, W)``,
        ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``; None keeps each image's own size
        (``(H, W)`` for grayscale, else ``(H, W, 3)``).
    :param image_as: ``tensor`` (decoded uint8 pixels) or ``blob`` (the encoded file bytes,
        unchanged; ``shape`` is then ignored).
    :param strict: raise on the first unreadable image instead of skipping it.
    """

    shape: Optional[tuple[int, ...]] = None
    image_as: str = "tensor"
    strict: bool = False


class Dataset:
    """A finite, ordered collection of documents of one ``kind`` (``image`` or ``text``).

    :ivar spec: the ``--dataset`` value it was opened from.
    :ivar kind: ``image`` or ``text``: which demo Flow and which users fit it.
    :ivar finite: False for ``random-*``, whose :meth:`documents` never end.
    :ivar notes: lines for the user (files ignored, what the S3 cache did).
    """

    kind = "image"
    finite = True

    def __init__(self, spec: str):
        self.spec = spec
        self.notes: list[str] = []
        self.extra_stats: dict[str, Any] = {}
        self._stats: Optional[dict] = None

    def documents(self, *, worker_index: int = 0, workers: int = 1) -> Iterator[Document]:
        """One pass over this worker's share, lazily, in the same order every time.

        Worker ``k`` of ``n`` gets the items whose index ``i`` has ``i % n == k``: the
        shares are disjoint and together hold every item once. Call again for the next pass.

        :raises ValueError: unless ``0 <= worker_index < workers``.
        :raises ConfigError: (while iterating) a share that yields no document, a bad line.
        """
        if not (isinstance(workers, int) and isinstance(worker_index, int) and 0 <= worker_index < workers):
            raise ValueError(f"need 0 <= worker_index < workers, got worker {worker_index} of {workers}")
        return self._non_empty(self._share(worker_index, workers), worker_index, workers)

    def endless(self, *, worker_index: int = 0, workers: int = 1) -> Iterator[Document]:
        """Pass after pass over this worker's share (for pools refilled during a long run)."""
        while True:
            yield from self.documents(worker_index=worker_index, workers=workers)

    def stats(self) -> dict[str, Any]:
        """Figures for ``summary.json["dataset"]``, computed on the first call (one pass over
        the whole dataset: image headers and sizes, every text record) and then cached.

        Keys: ``spec``, ``kind``, ``count``, ``bytes`` and ``item_bytes`` (min/mean/max of
        the encoded items: file sizes, UTF-8 bytes of a line), ``duplicates`` (items equal
        to an earlier one); images add ``image_as``, ``tensor_shape``, ``source_shapes``,
        ``skipped`` and ``skipped_examples``; texts add ``text_chars``; S3 adds ``s3``.
        See docs/datasets.md.

        :raises ConfigError: as :meth:`documents` would for a bad item anywhere.
        """
        if self._stats is None:
            self._stats = {"spec": self.spec, "kind": self.kind, **self._compute_stats(), **self.extra_stats}
        return {**self._stats, **self._live_stats()}

    def doc_id(self, key: str) -> str:
        """The id of the item named ``key``: 32 hex digits, the same across runs, workers
        and passes (a pass re-sends the same ids)."""
        return hashlib.blake2b(f"{self.spec}\0{key}".encode(), digest_size=16).hexdigest()

    def _share(self, worker_index: int, workers: int) -> Iterator[Document]:
        raise NotImplementedError

    def _compute_stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def _live_stats(self) -> dict[str, Any]:
        """Figures that grow while documents are read (skipped images)."""
        return {}

    def _empty_share_hint(self) -> str:
        return "the dataset has fewer items than workers; use fewer workers or more data"

    def _non_empty(self, docs: Iterator[Document], worker_index: int, workers: int) -> Iterator[Document]:
        # A run must never start with an empty pool: say why this share is empty.
        empty = True
        for doc in docs:
            empty = False
            yield doc
        if empty:
            raise ConfigError(f"{OPTION} {self.spec}: no documents for worker {worker_index} of {workers}: "
                              f"{self._empty_share_hint()}")


class RandomDataset(Dataset):
    """``random-image`` / ``random-text``: the seeded generators, endless; worker ``k``
    draws from :func:`~loadgen.documents.worker_seed` ``(seed, k)``."""

    finite = False

    def __init__(self, spec: str, *, seed: int, options: ImageOptions):
        super().__init__(spec)
        self.kind = spec.partition("-")[2]
        self.seed = seed
        self.shape = options.shape or RANDOM_IMAGE_SHAPE
        if self.kind == "image" and options.image_as == "blob":
            raise ConfigError("--image-as blob: random-image sends tensors only; give a dataset of image files, "
                              "e.g. --dataset images:DIR or builtin:digits")

    def _share(self, worker_index: int, workers: int) -> Iterator[Document]:
        seed = worker_seed(self.seed, worker_index)
        if self.kind == "image":
            return image_documents(_UNBOUNDED, seed=seed, shape=self.shape)
        return text_documents(_UNBOUNDED, seed=seed)

    def _compute_stats(self) -> dict[str, Any]:
        extra = {"tensor_shape": list(self.shape)} if self.kind == "image" else {}
        return {"count": None, "seed": self.seed, **extra}


def size_stats(sizes: Sequence[int]) -> dict[str, Any]:
    """``bytes`` (total) and ``item_bytes`` (min/mean/max) of per-item sizes."""
    values = np.asarray(sizes, dtype=np.int64)
    return {"bytes": int(values.sum()),
            "item_bytes": {"min": int(values.min()), "mean": round(float(values.mean()), 1), "max": int(values.max())}}


def length_stats(lengths: array) -> dict[str, Any]:
    """min/p50/mean/p90/max of lengths (``array("q")``)."""
    values = np.frombuffer(lengths, dtype=np.int64)
    return {"min": int(values.min()), "p50": round(float(np.percentile(values, 50)), 1),
            "mean": round(float(values.mean()), 1), "p90": round(float(np.percentile(values, 90)), 1),
            "max": int(values.max())}


def top(counts: Counter, n: int) -> dict[str, int]:
    """The ``n`` most common entries, the rest summed under ``other``."""
    best = dict(counts.most_common(n))
    rest = sum(counts.values()) - sum(best.values())
    return {**best, "other": rest} if rest else best


def summary_line(stats: dict[str, Any]) -> str:
    """One line describing a dataset from its :meth:`Dataset.stats`, to print at start."""
    head = f"dataset {stats['spec']}: "
    if stats.get("function"):
        return head + f"{stats['kind']} documents from {stats['function']}({_kwargs_text(stats.get('kwargs'))})"
    if stats.get("count") is None:
        return head + f"random {stats['kind']}s, endless (seed {stats.get('seed', 0)})"
    sizes = stats["item_bytes"]
    parts = [f"{stats['count']:,} {stats['kind']}s, {human_bytes(stats['bytes'])} (each "
             f"{human_bytes(sizes['min'])}-{human_bytes(sizes['max'])}, mean {human_bytes(sizes['mean'])})"]
    parts.append(_image_part(stats) if stats["kind"] == "image" else _text_part(stats))
    parts.append(f"{stats['duplicates']} duplicates")
    if stats.get("skipped"):
        parts.append(f"{stats['skipped']} unreadable, skipped ({'; '.join(stats['skipped_examples'][:2])})")
    return head + "; ".join(parts)


def _kwargs_text(kwargs: Any) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in (kwargs or {}).items())


def _image_part(stats: dict[str, Any]) -> str:
    shapes = ", ".join(f"{shape} x{n}" for shape, n in list(stats["source_shapes"].items())[:3])
    if stats["image_as"] == "blob":
        return f"shapes {shapes}, sent as encoded blobs"
    sent = stats["tensor_shape"]
    return f"shapes {shapes}, sent as " + (f"{'x'.join(map(str, sent))} uint8 tensors" if sent else
                                           "uint8 tensors of their own size")


def _text_part(stats: dict[str, Any]) -> str:
    chars = stats["text_chars"]
    return f"{chars['min']}-{chars['max']} characters, median {chars['p50']:g}"


def human_bytes(n: float) -> str:
    """``n`` bytes as ``512 B``, ``1.5 KiB``, ``3.0 MiB`` or ``2.1 GiB``."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")
