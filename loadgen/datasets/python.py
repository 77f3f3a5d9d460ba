"""``python:MODULE:FUNCTION`` -- documents from a function of the user's (executes user code).

``FUNCTION(worker_index=k, workers=n, **kwargs)`` returns an iterable of documents for
worker ``k`` of ``n`` (the function decides how to split; a function that ignores the two
sends the same documents from every worker). Each item is one of:

- a ``str``: a text document;
- a numpy array: an image ``tensor``; ``bytes``: an encoded image ``blob``;
- a ``dict`` with exactly one of ``text``/``tensor``/``blob``, an optional ``id`` (string or
  integer) and further document fields (JSON values), as in a ``jsonl:`` dataset.

All documents of a dataset are of one kind (text, or image tensors/blobs), taken from the
first item. Opening calls the function once and reads its first item, so an import error, a
missing function or a bad first item stops the run before any load. When the iterable ends
the function is called again for the next pass; a generator may also never end.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

import numpy as np

from loadgen.datasets.base import OPTION, Dataset
from loadgen.documents import Document
from loadgen.errors import ConfigError
from loadgen.plugins import load_function

_OWN = ("text", "tensor", "blob")


class FunctionDataset(Dataset):
    """The documents a user's function yields (see the module docstring)."""

    finite = False  # the function may never end: statistics do not iterate it

    def __init__(self, spec: str, function_spec: str, kwargs: Mapping[str, Any]):
        super().__init__(spec)
        self.function_spec = function_spec
        self.function: Callable[..., Any] = load_function(function_spec, option=OPTION)
        self.kwargs = dict(kwargs)
        first = next(iter(self._call(0, 1)), None)
        if first is None:
            raise ConfigError(f"{OPTION} {spec}: the function returned no documents for worker 0 of 1; "
                              f"make it return (or yield) at least one")
        self.kind = "text" if self._document(first, 0).text is not None else "image"

    def _call(self, worker_index: int, workers: int) -> Iterator[Any]:
        try:
            items = self.function(worker_index=worker_index, workers=workers, **self.kwargs)
            return iter(items)
        except Exception as exc:  # noqa: BLE001 - user code: one line naming it, no traceback
            raise ConfigError(f"{OPTION} {self.spec}: calling {self.function_spec}(worker_index={worker_index}, "
                              f"workers={workers}, **{self.kwargs}) failed: {type(exc).__name__}: {exc}") from None

    def _share(self, worker_index: int, workers: int) -> Iterator[Document]:
        items = self._call(worker_index, workers)
        index = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"{OPTION} {self.spec}: the generator raised {type(exc).__name__}: {exc} "
                                  f"at item {index}") from None
            doc = self._document(item, index, worker_index)
            if (doc.text is not None) != (self.kind == "text"):
                raise ConfigError(f"{OPTION} {self.spec}: item {index} is a{' text' if doc.text is not None else 'n image'}"
                                  f" document, the first was {self.kind}; yield documents of one kind")
            yield doc
            index += 1

    def _document(self, item: Any, index: int, worker_index: int = 0) -> Document:
        default_id = self.doc_id(f"{worker_index}:{index}")
        if isinstance(item, str):
            return Document(id=default_id, text=item)
        if isinstance(item, np.ndarray):
            return Document(id=default_id, tensor=item)
        if isinstance(item, (bytes, bytearray)):
            return Document(id=default_id, blob=bytes(item))
        if isinstance(item, Mapping):
            return self._from_mapping(item, index, default_id)
        raise ConfigError(f"{OPTION} {self.spec}: item {index} is a {type(item).__name__}; yield a str (text), "
                          f"a numpy array (tensor), bytes (blob) or a dict like {{'text': ...}}")

    def _from_mapping(self, item: Mapping[str, Any], index: int, default_id: str) -> Document:
        own = [key for key in _OWN if item.get(key) is not None]
        if len(own) != 1:
            raise ConfigError(f"{OPTION} {self.spec}: item {index} has {', '.join(own) or 'none'} of text/tensor/"
                              f"blob; give exactly one")
        doc_id = item.get("id")
        if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int))):
            raise ConfigError(f"{OPTION} {self.spec}: item {index}: \"id\" must be a string or an integer, "
                              f"got {doc_id!r}")
        fields = {k: v for k, v in item.items() if k not in (*_OWN, "id") and v is not None}
        value = item[own[0]]
        if own[0] == "tensor":
            value = np.asarray(value)
        return Document(id=default_id if doc_id is None else str(doc_id), fields=fields or None, **{own[0]: value})

    def _compute_stats(self) -> dict[str, Any]:
        return {"count": None, "function": self.function_spec, "kwargs": self.kwargs}
