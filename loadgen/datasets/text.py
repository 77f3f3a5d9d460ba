"""Text datasets: lines of text files (``text:``), JSON objects (``jsonl:``), and Python's
own reference text (``builtin:pydoc``); all streamed, one record at a time."""
from __future__ import annotations

import contextlib
import hashlib
import json
import re
from array import array
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from loadgen.datasets.base import OPTION, Dataset, length_stats, size_stats
from loadgen.documents import Document
from loadgen.errors import ConfigError

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
_BOM = b"\xef\xbb\xbf"

#: A source of text records: ``() -> iterator of (where, text)``, blank records left out;
#: ``where`` (``FILE:LINE``) names the record in messages.
Records = Callable[[], Iterator[tuple[str, str]]]


class TextDataset(Dataset):
    """Texts, one per record: plain lines, or JSON objects with a ``text`` field (``jsonl``).

    Opening reads up to the first record and checks it, so that a wrong file fails at once;
    a bad record further on raises :class:`ConfigError` naming ``FILE:LINE`` when it is read
    (by :meth:`stats`, which reads everything, or by :meth:`documents` in the share that
    holds it).
    """

    kind = "text"

    def __init__(self, spec: str, records: Records, *, jsonl: bool = False):
        super().__init__(spec)
        self.records = records
        self.jsonl = jsonl
        with contextlib.closing(records()) as stream:  # closes the file behind the generator
            first = next(stream, None)
        if first is None:
            raise ConfigError(f"{OPTION} {spec}: no documents (the input is empty or only blank lines); "
                              f"give a file with one document per line")
        self.document(0, *first)

    def document(self, index: int, where: str, record: str) -> Document:
        """The document of record ``index`` (counting non-blank records from 0)."""
        if not self.jsonl:
            return Document(id=self.doc_id(str(index)), text=record)
        text, doc_id, fields = parse_jsonl(record, where=where, spec=self.spec)
        return Document(id=doc_id or self.doc_id(str(index)), text=text, fields=fields or None)

    def _share(self, worker_index: int, workers: int) -> Iterator[Document]:
        with contextlib.closing(self.records()) as stream:
            for index, (where, record) in enumerate(stream):
                if index % workers == worker_index:
                    yield self.document(index, where, record)

    def _compute_stats(self) -> dict[str, Any]:
        # array("q"): 8 bytes per record, so a file of millions of lines stays cheap to describe
        sizes, chars, digests = array("q"), array("q"), array("q")
        with contextlib.closing(self.records()) as stream:
            for index, (where, record) in enumerate(stream):
                raw = record.encode("utf-8")
                sizes.append(len(raw))
                chars.append(len(self.document(index, where, record).text))
                digests.append(int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little", signed=True))
        unique = len(np.unique(np.frombuffer(digests, dtype=np.int64)))
        return {"count": len(sizes), **size_stats(sizes), "duplicates": len(digests) - unique,
                "text_chars": length_stats(chars)}


def parse_jsonl(record: str, *, where: str, spec: str) -> tuple[str, Optional[str], dict[str, Any]]:
    """``(text, id or None, other fields)`` of one JSONL line. ``id``, when present, is a
    string or an integer; fields whose value is null are left out.

    :raises ConfigError: naming ``where`` (``FILE:LINE``) unless the line is a JSON object
        with a string ``text``.
    """
    try:
        obj = json.loads(record)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{OPTION} {spec}: {where}: not JSON ({exc.msg} at column {exc.colno}); "
                          f"each line must be one JSON object like {{\"text\": \"...\"}}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        what = "has no string \"text\" field" if isinstance(obj, dict) else f"is a JSON {_json_type(obj)}"
        raise ConfigError(f"{OPTION} {spec}: {where}: the line {what}; each line must be an object like "
                          f"{{\"text\": \"...\", \"lang\": \"en\"}}")
    doc_id = obj.get("id")
    if doc_id is not None and (isinstance(doc_id, bool) or not isinstance(doc_id, (str, int))):
        raise ConfigError(f"{OPTION} {spec}: {where}: \"id\" must be a string or an integer, got {doc_id!r}")
    fields = {k: v for k, v in obj.items() if k not in ("text", "id") and v is not None}
    return obj["text"], None if doc_id is None else str(doc_id), fields


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def file_records(files: Sequence[tuple[str, Path]], *, spec: str) -> Records:
    """Records of text files read line by line: UTF-8, a leading BOM dropped, LF or CRLF
    endings, surrounding whitespace stripped, blank lines skipped.

    :param files: ``(name for messages, path)`` pairs, read in this order.
    """
    def records() -> Iterator[tuple[str, str]]:
        for name, path in files:
            yield from _lines(name, path, spec)

    return records


def _lines(name: str, path: Path, spec: str) -> Iterator[tuple[str, str]]:
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, 1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{OPTION} {spec}: {name}:{number}: not UTF-8 (byte {raw[exc.start]:#04x} at "
                                  f"column {exc.start + 1}); convert the file, e.g. iconv -f latin1 -t utf-8") from None
            if line:
                yield f"{name}:{number}", line


def pydoc_records() -> Iterator[tuple[str, str]]:
    """The paragraphs of ``pydoc_data.topics`` (the text of ``help('TOPIC')``), by topic.

    :raises ConfigError: when this Python lacks ``pydoc_data``.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise ConfigError(f"{OPTION} builtin:pydoc: this Python lacks pydoc_data (on Debian it is in "
                          f"libpython3.X-stdlib); use another dataset") from None
    for topic in sorted(topics):
        for number, paragraph in enumerate(re.split(r"\n\s*\n", topics[topic]), 1):
            if paragraph.strip():
                yield f"pydoc topic {topic!r} paragraph {number}", paragraph.strip()
