"""``python:MODULE:FUNCTION`` (loadgen.datasets.python): documents from a user's function,
each worker's share, tensors, and one clear error for every way the function can go wrong."""
from __future__ import annotations

import re

import pytest

from loadgen.datasets import open_dataset, summary_line
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConfigError


PLUGIN = '''
import numpy as np

def texts(*, worker_index, workers, count=6):
    for i in range(worker_index, count, workers):
        yield {"id": i, "text": f"t{i}", "lang": "en"} if i % 2 else f"plain {i}"

def images(*, worker_index, workers):
    return [np.full((2, 2, 3), i, dtype=np.uint8) for i in range(worker_index, 4, workers)]

def mixed(*, worker_index, workers):
    return ["a text", b"\\x89PNG..."]

def broken(*, worker_index, workers):
    yield "fine"
    raise RuntimeError("disk on fire")

def empty(*, worker_index, workers):
    return []

def two_fields(*, worker_index, workers):
    return [{"text": "x", "blob": b"y"}]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "lg_test_plugin.py").write_text(PLUGIN)
    monkeypatch.chdir(tmp_path)  # modules import from the directory the run starts in
    yield "python:lg_test_plugin:"


def test_a_function_dataset_yields_each_workers_share(plugin):
    dataset = open_dataset(plugin + "texts", kwargs={"count": 6})
    assert dataset.kind == "text" and not dataset.finite
    first = list(dataset.documents(worker_index=0, workers=2))
    second = list(dataset.documents(worker_index=1, workers=2))
    assert [d.text for d in first] == ["plain 0", "plain 2", "plain 4"]
    assert [(d.id, d.text, d.fields) for d in second] == [("1", "t1", {"lang": "en"}), ("3", "t3", {"lang": "en"}),
                                                          ("5", "t5", {"lang": "en"})]
    assert len({d.id for d in first}) == 3  # ids made up for items without one: distinct and stable
    assert [d.id for d in dataset.documents(worker_index=0, workers=2)] == [d.id for d in first]
    stats = dataset.stats()
    assert stats["function"] == "lg_test_plugin:texts" and stats["kwargs"] == {"count": 6}
    assert summary_line(stats) == f"dataset {plugin}texts: text documents from lg_test_plugin:texts(count=6)"


def test_a_function_dataset_of_tensors_encodes(plugin):
    dataset = open_dataset(plugin + "images")
    docs = list(dataset.documents())
    assert dataset.kind == "image" and [int(d.tensor[0, 0, 0]) for d in docs] == [0, 1, 2, 3]
    request = encode(RequestSpec(endpoint="/index", docs=docs[:2]))
    assert request.n_docs == 2


@pytest.mark.parametrize("name, kwargs, needle", [
    ("mixed", {}, "item 1 is an image document, the first was text; yield documents of one kind"),
    ("broken", {}, "the generator raised RuntimeError: disk on fire at item 1"),
    ("empty", {}, "the function returned no documents for worker 0 of 1"),
    ("two_fields", {}, "item 0 has text, blob of text/tensor/blob; give exactly one"),
    ("texts", {"colour": "red"}, "failed: TypeError: texts() got an unexpected keyword argument 'colour'"),
    ("nothing_here", {}, "lg_test_plugin has no function 'nothing_here'"),
])
def test_a_bad_function_dataset_is_one_clear_error(plugin, name, kwargs, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        dataset = open_dataset(plugin + name, kwargs=kwargs)
        list(dataset.documents())


def test_a_module_that_does_not_import_names_the_cause(tmp_path, monkeypatch):
    (tmp_path / "lg_bad_plugin.py").write_text("import no_such_dependency_here\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"--dataset 'lg_bad_plugin:f': cannot import lg_bad_plugin: "
                                          r"ModuleNotFoundError: No module named 'no_such_dependency_here'"):
        open_dataset("python:lg_bad_plugin:f")
    with pytest.raises(ConfigError, match=r"expected MODULE:FUNCTION"):
        open_dataset("python:not a spec")
