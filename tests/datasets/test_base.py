"""The :class:`~loadgen.datasets.base.Dataset` contract (loadgen.datasets.base): worker shares
that are disjoint and cover everything once, a worker without items told why, endless passes,
and the random datasets."""
from __future__ import annotations

import itertools

import pytest

from loadgen.datasets import DEFAULT_CACHE_DIR, Dataset, open_dataset, summary_line
from loadgen.errors import ConfigError

from .conftest import ABC, doc_ids, write_file


def _shares(dataset: Dataset, workers: int) -> list[list[str]]:
    return [doc_ids(dataset.documents(worker_index=k, workers=workers)) for k in range(workers)]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_worker_shares_are_disjoint_and_cover_everything_once(tmp_path, image_dir, workers):
    text = write_file(tmp_path / "t.txt", "\n".join(f"line {i}" for i in range(10)) + "\n\n")
    # builtin:digits (1797 items) once only, and images as blobs (shares do not depend on how
    # an image is sent; blobs skip the decoding): the test budget is seconds
    specs = [f"images:{image_dir}", f"text:{text}"] + (["builtin:digits"] if workers == 2 else [])
    for spec in specs:
        dataset = open_dataset(spec, image_as="blob")
        everything = doc_ids(dataset.documents())
        shares = _shares(dataset, workers)
        assert sorted(itertools.chain(*shares)) == sorted(everything) and len(set(everything)) == len(everything)
        assert shares == _shares(dataset, workers), "the same order every pass"


def test_a_worker_without_items_is_told_why(tmp_path):
    dataset = open_dataset(f"text:{write_file(tmp_path / 't.txt', ABC)}")
    assert doc_ids(dataset.documents(worker_index=2, workers=4))
    with pytest.raises(ConfigError, match=r"no documents for worker 3 of 4: the dataset has fewer items than workers"):
        list(dataset.documents(worker_index=3, workers=4))
    with pytest.raises(ValueError):
        dataset.documents(worker_index=4, workers=4)


def test_endless_repeats_the_share_pass_after_pass(tmp_path):
    dataset = open_dataset(f"text:{write_file(tmp_path / 't.txt', ABC)}")
    texts = [d.text for d in itertools.islice(dataset.endless(worker_index=0, workers=2), 5)]
    assert texts == ["a", "c", "a", "c", "a"]


def test_random_datasets_are_endless_and_differ_per_worker():
    image = open_dataset("random-image", image_shape=(4, 4, 3), seed=3)
    assert not image.finite and image.stats() == {"spec": "random-image", "kind": "image", "count": None, "seed": 3,
                                                  "tensor_shape": [4, 4, 3]}
    first = list(itertools.islice(image.documents(worker_index=0, workers=2), 50))
    other = list(itertools.islice(image.documents(worker_index=1, workers=2), 50))
    assert len(first) == 50 and first[0].tensor.shape == (4, 4, 3) and not set(doc_ids(first)) & set(doc_ids(other))
    text = open_dataset("random-text")
    assert text.kind == "text" and next(text.documents()).text
    assert summary_line(text.stats()) == "dataset random-text: random texts, endless (seed 0)"
    assert next(open_dataset("random-image").documents()).tensor.shape == (224, 224, 3)
    assert DEFAULT_CACHE_DIR.startswith("~")
