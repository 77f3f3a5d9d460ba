import numpy as np
import pytest

from loadgen.documents import (TEXT_MAX_WORDS, TEXT_MIN_WORDS, image_documents, text_documents, word_list,
                               worker_seed)


def test_images_are_reproducible_for_a_seed():
    a = list(image_documents(3, seed=7, shape=(8, 8, 3)))
    b = list(image_documents(3, seed=7, shape=(8, 8, 3)))
    assert [d.id for d in a] == [d.id for d in b]
    assert all(np.array_equal(x.tensor, y.tensor) for x, y in zip(a, b))


def test_images_differ_between_seeds():
    a = next(image_documents(1, seed=1, shape=(8, 8, 3)))
    b = next(image_documents(1, seed=2, shape=(8, 8, 3)))
    assert a.id != b.id and not np.array_equal(a.tensor, b.tensor)


@pytest.mark.parametrize("dtype", ["uint8", "float32", "int16"])
def test_image_shape_and_dtype(dtype):
    doc = next(image_documents(1, seed=0, shape=(5, 6, 2), dtype=dtype))
    assert doc.tensor.shape == (5, 6, 2) and doc.tensor.dtype == np.dtype(dtype)
    assert doc.text is None and len(doc.id) == 32


def test_default_image_is_224x224x3_uint8():
    doc = next(image_documents(1, seed=0))
    assert doc.tensor.shape == (224, 224, 3) and doc.tensor.dtype == np.uint8


def test_texts_are_reproducible_and_bounded():
    a = [d.text for d in text_documents(200, seed=3)]
    assert a == [d.text for d in text_documents(200, seed=3)]
    lengths = [len(t.split()) for t in a]
    assert min(lengths) >= TEXT_MIN_WORDS and max(lengths) <= TEXT_MAX_WORDS
    assert len(set(lengths)) > 10, "lengths should vary"
    vocabulary = set(word_list())
    assert all(w.strip(".").lower() in vocabulary for t in a for w in t.split())


def test_generators_are_lazy():
    # 10**12 documents would never fit in memory: only what is consumed is made.
    stream = image_documents(10**12, seed=0, shape=(2, 2, 1))
    assert next(stream).tensor.shape == (2, 2, 1)


def test_worker_seeds_are_distinct_and_stable():
    seeds = {worker_seed(5, i) for i in range(100)}
    assert len(seeds) == 100 and worker_seed(5, 3) == worker_seed(5, 3)
    assert worker_seed(5, 0) != worker_seed(6, 0)


def test_word_list_has_no_comments():
    words = word_list()
    assert len(words) > 500 and not any(w.startswith("#") for w in words)
