"""``text:FILE``, ``jsonl:FILE`` and ``builtin:pydoc`` (loadgen.datasets.text): BOMs, CRLF and
blank lines, JSONL ids and fields, bad lines named by file and line, text statistics, and
reading only the start of a large file."""
from __future__ import annotations

import itertools
import tracemalloc

import pytest

from loadgen.datasets import open_dataset, summary_line
from loadgen.errors import ConfigError

from .conftest import doc_ids, write_file


def test_text_lines_with_bom_crlf_and_blank_lines(tmp_path):
    path = write_file(tmp_path / "t.txt", b"\xef\xbb\xbffirst line\r\n\r\n   \r\n  second  \r\nthird\n\n")
    dataset = open_dataset(f"text:{path}")
    docs = list(dataset.documents())
    assert [d.text for d in docs] == ["first line", "second", "third"] and dataset.kind == "text"
    assert len(set(doc_ids(docs))) == 3 and all(len(i) == 32 for i in doc_ids(docs))


def test_a_non_utf8_line_is_named_by_file_and_line(tmp_path):
    path = write_file(tmp_path / "latin.txt", "ok\n\ncaf\xe9\n".encode("latin-1"))
    dataset = open_dataset(f"text:{path}")  # the first line is fine
    with pytest.raises(ConfigError, match=rf"--dataset text:.*: {path}:3: not UTF-8 \(byte 0xe9 at column 4\)"):
        dataset.stats()


def test_jsonl_text_id_and_fields(tmp_path):
    lines = ['{"text": "hello", "lang": "en", "score": 0.5, "tags": ["a"], "meta": {"n": 1}, "gone": null}',
             "", '{"id": 7, "text": "world", "ok": true}', '{"id": "doc-x", "text": ""}']
    path = write_file(tmp_path / "d.jsonl", "\r\n".join(lines) + "\r\n")
    docs = list(open_dataset(f"jsonl:{path}").documents())
    assert [d.text for d in docs] == ["hello", "world", ""]
    assert docs[0].fields == {"lang": "en", "score": 0.5, "tags": ["a"], "meta": {"n": 1}}
    assert docs[1].id == "7" and docs[1].fields == {"ok": True}
    assert docs[2].id == "doc-x" and docs[2].fields is None and len(docs[0].id) == 32


@pytest.mark.parametrize("line, message", [
    ("{not json", r"not JSON \(Expecting property name enclosed in double quotes at column 2\)"),
    ('["text"]', "the line is a JSON array"),
    ('{"title": "no text"}', 'the line has no string "text" field'),
    ('{"text": 5}', 'the line has no string "text" field'),
    ('{"text": "x", "id": [1]}', '"id" must be a string or an integer'),
])
def test_a_bad_jsonl_line_is_named_by_file_and_line(tmp_path, line, message):
    path = write_file(tmp_path / "d.jsonl", '{"text": "fine"}\n\n' + line + "\n")
    with pytest.raises(ConfigError, match=rf"^--dataset jsonl:.*: {path}:3: {message}"):
        open_dataset(f"jsonl:{path}").stats()
    first = write_file(tmp_path / "first.jsonl", line + "\n")
    with pytest.raises(ConfigError, match=rf"{first}:1: "):
        open_dataset(f"jsonl:{first}")  # a wrong first line fails when the dataset is opened


def test_text_stats(tmp_path):
    path = write_file(tmp_path / "t.txt", "aa\nbbbb\naa\n\nccc ccc\n")
    stats = open_dataset(f"text:{path}").stats()
    assert stats == {"spec": f"text:{path}", "kind": "text", "count": 4, "bytes": 15,
                     "item_bytes": {"min": 2, "mean": 3.8, "max": 7}, "duplicates": 1,
                     "text_chars": {"min": 2, "p50": 3.0, "mean": 3.8, "p90": 6.1, "max": 7}}
    assert summary_line(stats).startswith(f"dataset text:{path}: 4 texts, 15 B (each 2 B-7 B, mean 4 B); 2-7 char")


def test_taking_a_few_lines_reads_only_the_start_of_a_large_file(tmp_path):
    path = write_file(tmp_path / "big.txt", "".join(f"line number {i} of many\n" for i in range(200_000)))
    tracemalloc.start()
    try:
        docs = list(itertools.islice(open_dataset(f"text:{path}").documents(worker_index=2, workers=3), 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d.text for d in docs] == ["line number 2 of many", "line number 5 of many", "line number 8 of many"]
    assert peak < 500_000, f"peak {peak} B for a {path.stat().st_size} B file"


def test_builtin_pydoc():
    dataset = open_dataset("builtin:pydoc")
    stats = dataset.stats()
    assert dataset.kind == "text" and stats["count"] > 1000 and stats["duplicates"] > 0
    assert stats["text_chars"]["max"] > 1000 > stats["text_chars"]["p50"]
    assert all(d.text.strip() == d.text and d.text for d in itertools.islice(dataset.documents(), 50))
