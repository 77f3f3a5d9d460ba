"""--dataset sources (loadgen.datasets): image folders, text and JSONL files, the shipped data,
worker shares, statistics, laziness; and the wire form of blob and field documents.
S3 prefixes are tested against a moto server in tests/cloud/test_datasets_s3.py."""
from __future__ import annotations

import base64
import io
import itertools
import json
import re
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from loadgen.datasets import DEFAULT_CACHE_DIR, Dataset, decode_image, open_dataset, summary_line
from loadgen.datasets.images import ImageFiles
from loadgen.documents import Document
from loadgen.encoding import RequestSpec, doc_json, doc_proto, encode
from loadgen.errors import ConfigError
from loadgen.wire import jina_pb2 as jp

from conftest import SMALL_IMAGE, TOP_K

RNG = np.random.default_rng(42)


def _save(path: Path, array: np.ndarray, fmt: str, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path, format=fmt)


def _noise(h: int, w: int, c: int | None = 3) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w) if c is None else (h, w, c), dtype=np.uint8)


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """Mixed sizes and modes, nested folders, one corrupt and one truncated file, hidden
    files and a text file that are not images."""
    root = tmp_path / "photos"
    _save(root / "a.png", _noise(12, 20), "PNG")
    _save(root / "b.JPG", _noise(30, 16), "JPEG")
    _save(root / "gray.png", _noise(9, 7, None), "PNG")
    _save(root / "sub" / "rgba.png", _noise(10, 10, 4), "PNG")
    _save(root / "sub" / "palette.png", _noise(8, 8), "PNG", mode="P")
    _save(root / "sub" / "deeper" / "c.jpeg", _noise(40, 24), "JPEG")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    jpeg = io.BytesIO()
    Image.fromarray(_noise(64, 64)).save(jpeg, format="JPEG")
    (root / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 3])
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "._a.png").write_bytes(b"\0\5\26\7 AppleDouble")
    (root / "notes.txt").write_text("not an image\n")
    return root


GOOD = ["a.png", "b.JPG", "gray.png", "sub/deeper/c.jpeg", "sub/palette.png", "sub/rgba.png"]
BAD = ["sub/broken.png", "truncated.jpg"]


def _write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


ABC = "a\nb\nc\n"


def _ids(docs) -> list[str]:
    return [d.id for d in docs]


# --- image folders ------------------------------------------------------------------------


def test_image_folder_is_recursive_sorted_and_decoded_at_native_size(image_dir):
    dataset = open_dataset(f"images:{image_dir}")
    assert dataset.kind == "image" and dataset.finite
    assert isinstance(dataset, ImageFiles) and dataset.keys == sorted(GOOD + BAD)
    assert any("notes.txt" in note for note in dataset.notes)
    docs = {key: doc for key, doc in zip([k for k in dataset.keys if k not in BAD], dataset.documents())}
    assert docs["a.png"].tensor.shape == (12, 20, 3) and docs["gray.png"].tensor.shape == (9, 7)
    assert docs["sub/rgba.png"].tensor.shape == (10, 10, 3) and docs["sub/palette.png"].tensor.shape == (8, 8, 3)
    assert all(d.tensor.dtype == np.uint8 and d.blob is None and d.text is None for d in docs.values())
    png = np.asarray(Image.open(image_dir / "a.png"))
    assert np.array_equal(docs["a.png"].tensor, png), "PNG is lossless: the tensor is the file's pixels"
    assert _ids(open_dataset(f"images:{image_dir}").documents()) == _ids(docs.values()), "ids stable across opens"


@pytest.mark.parametrize("shape", [(16, 12, 3), (16, 12), (16, 12, 1), (16, 12, 4)])
def test_images_are_resized_to_image_shape(image_dir, shape):
    docs = list(open_dataset(f"images:{image_dir}", image_shape=shape).documents())
    assert len(docs) == len(GOOD) and all(d.tensor.shape == shape for d in docs)


def test_unreadable_images_are_skipped_counted_and_named(image_dir):
    dataset = open_dataset(f"images:{image_dir}", image_shape=(8, 8, 3))
    assert len(list(dataset.documents())) == len(GOOD)
    stats = dataset.stats()
    assert stats["skipped"] == 2 and stats["count"] == len(GOOD) + 1  # a truncated JPEG has a good header
    assert {e.split(":")[0] for e in stats["skipped_examples"]} == set(BAD)
    assert "2 unreadable, skipped (sub/broken.png" in summary_line(stats)


def test_strict_names_the_unreadable_image(image_dir):
    with pytest.raises(ConfigError, match=r"^--dataset images:.*: sub/broken.png is not a readable image"):
        list(open_dataset(f"images:{image_dir}", strict=True).documents())


def test_blob_sends_the_file_bytes_unchanged(image_dir):
    dataset = open_dataset(f"images:{image_dir}", image_as="blob", image_shape=(8, 8, 3))
    docs = list(dataset.documents())
    assert len(docs) == len(GOOD) + 1  # a truncated JPEG passes the header check; the Flow sees it as is
    assert docs[0].blob == (image_dir / "a.png").read_bytes() and docs[0].tensor is None
    assert dataset.skipped == {"sub/broken.png": dataset.skipped["sub/broken.png"]}
    assert dataset.stats()["tensor_shape"] is None and "sent as encoded blobs" in summary_line(dataset.stats())


def test_decode_image_shrinks_a_jpeg_through_its_draft_scale(monkeypatch):
    from PIL import JpegImagePlugin

    drafted = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        drafted.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    data = io.BytesIO()
    Image.fromarray(np.full((400, 600, 3), 200, np.uint8)).save(data, format="JPEG")
    tensor = decode_image(data.getvalue(), (50, 60, 3))
    assert tensor.shape == (50, 60, 3) and abs(int(tensor.mean()) - 200) <= 2
    assert drafted == [(75, 50)], "decoded at 1/8 scale, the smallest that covers 60x50"


# --- text and JSONL -----------------------------------------------------------------------


def test_text_lines_with_bom_crlf_and_blank_lines(tmp_path):
    path = _write(tmp_path / "t.txt", b"\xef\xbb\xbffirst line\r\n\r\n   \r\n  second  \r\nthird\n\n")
    dataset = open_dataset(f"text:{path}")
    docs = list(dataset.documents())
    assert [d.text for d in docs] == ["first line", "second", "third"] and dataset.kind == "text"
    assert len(set(_ids(docs))) == 3 and all(len(i) == 32 for i in _ids(docs))


def test_a_non_utf8_line_is_named_by_file_and_line(tmp_path):
    path = _write(tmp_path / "latin.txt", "ok\n\ncaf\xe9\n".encode("latin-1"))
    dataset = open_dataset(f"text:{path}")  # the first line is fine
    with pytest.raises(ConfigError, match=rf"--dataset text:.*: {path}:3: not UTF-8 \(byte 0xe9 at column 4\)"):
        dataset.stats()


def test_jsonl_text_id_and_fields(tmp_path):
    lines = ['{"text": "hello", "lang": "en", "score": 0.5, "tags": ["a"], "meta": {"n": 1}, "gone": null}',
             "", '{"id": 7, "text": "world", "ok": true}', '{"id": "doc-x", "text": ""}']
    path = _write(tmp_path / "d.jsonl", "\r\n".join(lines) + "\r\n")
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
    path = _write(tmp_path / "d.jsonl", '{"text": "fine"}\n\n' + line + "\n")
    with pytest.raises(ConfigError, match=rf"^--dataset jsonl:.*: {path}:3: {message}"):
        open_dataset(f"jsonl:{path}").stats()
    first = _write(tmp_path / "first.jsonl", line + "\n")
    with pytest.raises(ConfigError, match=rf"{first}:1: "):
        open_dataset(f"jsonl:{first}")  # a wrong first line fails when the dataset is opened


# --- specs and errors ---------------------------------------------------------------------


def _error_cases(tmp_path: Path) -> list[tuple[str, dict, str]]:
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "only_text").mkdir()
    _write(tmp_path / "only_text" / "readme.md", "hi")
    _write(tmp_path / "empty.txt", "")
    _write(tmp_path / "blank.txt", "\n  \r\n\n")
    all_bad = tmp_path / "all_bad"
    all_bad.mkdir()
    _write(all_bad / "x.png", b"junk")
    return [
        ("images:" + str(tmp_path / "missing"), {}, "is not a directory"),
        ("images:" + str(tmp_path / "empty_dir"), {}, "no PNG or JPEG file under"),
        ("images:" + str(tmp_path / "only_text"), {}, r"found 1 other files, e.g. readme.md"),
        ("text:" + str(tmp_path / "missing.txt"), {}, "does not exist"),
        ("text:" + str(tmp_path), {}, "is a directory"),
        ("text:" + str(tmp_path / "empty.txt"), {}, "no documents"),
        ("jsonl:" + str(tmp_path / "blank.txt"), {}, "no documents"),
        ("pictures:x", {}, "cannot read 'pictures:x'; use random-image"),
        ("images:", {}, "cannot read 'images:'"),
        ("builtin:mnist", {}, "no built-in dataset 'mnist'; use builtin:digits or builtin:pydoc"),
        ("random-image", {"image_as": "blob"}, "--image-as blob: random-image sends tensors only"),
        ("random-image", {"image_as": "png"}, "--image-as: unknown value 'png'"),
        ("builtin:digits", {"image_shape": (8, 8, 2)}, "--image-shape 8,8,2: images become HxW"),
        ("s3://x", {}, "is not an S3 URL"),
    ]


def test_bad_input_gives_one_line_naming_the_option(tmp_path):
    for spec, kwargs, message in _error_cases(tmp_path):
        with pytest.raises(ConfigError) as caught:
            open_dataset(spec, **kwargs)
        text = str(caught.value)
        assert message in text or re.search(message, text), (spec, text)
        assert "\n" not in text and text.startswith(("--dataset", "--image-as", "--image-shape")), text


def test_a_folder_of_only_unreadable_images_fails_with_an_example(tmp_path):
    _write(tmp_path / "x.png", b"junk")
    dataset = open_dataset(f"images:{tmp_path}")
    with pytest.raises(ConfigError, match=r"none of the 1 image files is readable, e.g. x.png"):
        dataset.stats()
    with pytest.raises(ConfigError, match=r"no documents for worker 0 of 1: every image of its share is unreadable"):
        list(dataset.documents())


# --- worker shares ------------------------------------------------------------------------


def _shares(dataset: Dataset, workers: int) -> list[list[str]]:
    return [_ids(dataset.documents(worker_index=k, workers=workers)) for k in range(workers)]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_worker_shares_are_disjoint_and_cover_everything_once(tmp_path, image_dir, workers):
    text = _write(tmp_path / "t.txt", "\n".join(f"line {i}" for i in range(10)) + "\n\n")
    # builtin:digits (1797 items) once only, and images as blobs (shares do not depend on how
    # an image is sent; blobs skip the decoding): the test budget is seconds
    specs = [f"images:{image_dir}", f"text:{text}"] + (["builtin:digits"] if workers == 2 else [])
    for spec in specs:
        dataset = open_dataset(spec, image_as="blob")
        everything = _ids(dataset.documents())
        shares = _shares(dataset, workers)
        assert sorted(itertools.chain(*shares)) == sorted(everything) and len(set(everything)) == len(everything)
        assert shares == _shares(dataset, workers), "the same order every pass"


def test_a_worker_without_items_is_told_why(tmp_path):
    dataset = open_dataset(f"text:{_write(tmp_path / 't.txt', ABC)}")
    assert _ids(dataset.documents(worker_index=2, workers=4))
    with pytest.raises(ConfigError, match=r"no documents for worker 3 of 4: the dataset has fewer items than workers"):
        list(dataset.documents(worker_index=3, workers=4))
    with pytest.raises(ValueError):
        dataset.documents(worker_index=4, workers=4)


def test_endless_repeats_the_share_pass_after_pass(tmp_path):
    dataset = open_dataset(f"text:{_write(tmp_path / 't.txt', ABC)}")
    texts = [d.text for d in itertools.islice(dataset.endless(worker_index=0, workers=2), 5)]
    assert texts == ["a", "c", "a", "c", "a"]


# --- statistics ---------------------------------------------------------------------------


def test_image_stats(image_dir):
    shutil.copy(image_dir / "a.png", image_dir / "sub" / "copy_of_a.png")
    dataset = open_dataset(f"images:{image_dir}", image_shape=(8, 8, 3))
    stats = dataset.stats()
    readable = [p for p in image_dir.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg")
                and not p.name.startswith(".") and p.name != "broken.png"]
    sizes = [p.stat().st_size for p in readable]
    assert stats["count"] == len(readable) == 8 and stats["bytes"] == sum(sizes)
    assert stats["item_bytes"] == {"min": min(sizes), "mean": round(sum(sizes) / len(sizes), 1), "max": max(sizes)}
    assert stats["duplicates"] == 1 and stats["tensor_shape"] == [8, 8, 3] and stats["image_as"] == "tensor"
    assert stats["source_shapes"]["12x20x3"] == 2 and stats["source_shapes"]["9x7"] == 1
    assert json.loads(json.dumps(stats)) == stats, "fits summary.json as is"


def test_text_stats(tmp_path):
    path = _write(tmp_path / "t.txt", "aa\nbbbb\naa\n\nccc ccc\n")
    stats = open_dataset(f"text:{path}").stats()
    assert stats == {"spec": f"text:{path}", "kind": "text", "count": 4, "bytes": 15,
                     "item_bytes": {"min": 2, "mean": 3.8, "max": 7}, "duplicates": 1,
                     "text_chars": {"min": 2, "p50": 3.0, "mean": 3.8, "p90": 6.1, "max": 7}}
    assert summary_line(stats).startswith(f"dataset text:{path}: 4 texts, 15 B (each 2 B-7 B, mean 4 B); 2-7 char")


# --- laziness -----------------------------------------------------------------------------


def test_taking_a_few_images_decodes_only_those(tmp_path, monkeypatch):
    for i in range(300):
        _save(tmp_path / f"{i // 100}" / f"{i:03d}.png", _noise(64, 64), "PNG")
    reads = []
    real_read = ImageFiles.read
    monkeypatch.setattr(ImageFiles, "read", lambda self, index: reads.append(index) or real_read(self, index))
    tracemalloc.start()
    try:
        dataset = open_dataset(f"images:{tmp_path}")
        docs = list(itertools.islice(dataset.documents(worker_index=1, workers=2), 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reads == [1, 3, 5] and [d.tensor.shape for d in docs] == [(64, 64, 3)] * 3
    assert peak < 1_000_000, f"peak {peak} B: decoding all 300 images would hold 3.7 MB of pixels"


def test_taking_a_few_lines_reads_only_the_start_of_a_large_file(tmp_path):
    path = _write(tmp_path / "big.txt", "".join(f"line number {i} of many\n" for i in range(200_000)))
    tracemalloc.start()
    try:
        docs = list(itertools.islice(open_dataset(f"text:{path}").documents(worker_index=2, workers=3), 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d.text for d in docs] == ["line number 2 of many", "line number 5 of many", "line number 8 of many"]
    assert peak < 500_000, f"peak {peak} B for a {path.stat().st_size} B file"


# --- shipped and random data --------------------------------------------------------------


def test_builtin_digits():
    dataset = open_dataset("builtin:digits")
    docs = list(dataset.documents())
    assert len(docs) == 1797 and {d.fields["label"] for d in docs} == set(range(10))
    assert docs[0].tensor.shape == (8, 8) and docs[0].tensor.dtype == np.uint8
    assert max(int(d.tensor.max()) for d in docs) == 255, "pixels 0..16 span 0..255"
    stats = dataset.stats()
    assert stats["count"] == 1797 and stats["source_shapes"] == {"8x8": 1797} and stats["skipped"] == 0
    blob = next(open_dataset("builtin:digits", image_as="blob").documents()).blob
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(blob))), docs[0].tensor)


def test_builtin_pydoc():
    dataset = open_dataset("builtin:pydoc")
    stats = dataset.stats()
    assert dataset.kind == "text" and stats["count"] > 1000 and stats["duplicates"] > 0
    assert stats["text_chars"]["max"] > 1000 > stats["text_chars"]["p50"]
    assert all(d.text.strip() == d.text and d.text for d in itertools.islice(dataset.documents(), 50))


def test_random_datasets_are_endless_and_differ_per_worker():
    image = open_dataset("random-image", image_shape=(4, 4, 3), seed=3)
    assert not image.finite and image.stats() == {"spec": "random-image", "kind": "image", "count": None, "seed": 3,
                                                  "tensor_shape": [4, 4, 3]}
    first = list(itertools.islice(image.documents(worker_index=0, workers=2), 50))
    other = list(itertools.islice(image.documents(worker_index=1, workers=2), 50))
    assert len(first) == 50 and first[0].tensor.shape == (4, 4, 3) and not set(_ids(first)) & set(_ids(other))
    text = open_dataset("random-text")
    assert text.kind == "text" and next(text.documents()).text
    assert summary_line(text.stats()) == "dataset random-text: random texts, endless (seed 0)"
    assert next(open_dataset("random-image").documents()).tensor.shape == (224, 224, 3)
    assert DEFAULT_CACHE_DIR.startswith("~")


# --- the wire form of blob and field documents --------------------------------------------


FIELDS = {"lang": "en", "n": 3, "big": 2**40, "score": 0.25, "ok": False, "gone": None, "tags": ["a", 1],
          "meta": {"k": "v", "empty": {}}, "none_list": [], "text": "ignored", "id": "ignored"}


def test_blob_and_fields_become_docarray_nodes():
    proto = doc_proto(Document(id="d" * 32, blob=b"\x89PNG...", fields=FIELDS))
    data = proto.data
    assert data["blob"].blob == b"\x89PNG..." and data["id"].text == "d" * 32 and "text" not in data
    assert data["lang"].text == "en" and data["n"].integer == 3 and data["big"].float == 2.0**40
    assert data["score"].float == 0.25 and data["ok"].WhichOneof("content") == "boolean" and not data["ok"].boolean
    assert data["gone"].WhichOneof("content") is None, "None is an empty node, which docarray reads as None"
    assert [n.text or n.integer for n in data["tags"].list.data] == ["a", 1]
    assert data["meta"].dict.data["k"].text == "v" and data["meta"].dict.data["empty"].WhichOneof("content") == "dict"
    assert data["none_list"].WhichOneof("content") == "list"
    request = jp.DataRequestProto()
    request.ParseFromString(encode(RequestSpec(endpoint="/index", docs=[Document(id="e" * 32, blob=b"xy")])).payload())
    assert request.data.docs.docs[0].data["blob"].blob == b"xy"


def test_blob_and_fields_in_the_http_json_body():
    doc = json.loads(doc_json(Document(id="d" * 32, text="t", blob=b"\0\xff", fields=FIELDS)))
    assert doc["id"] == "d" * 32 and doc["text"] == "t" and base64.b64decode(doc["blob"]) == b"\0\xff"
    assert doc["meta"] == {"k": "v", "empty": {}} and doc["big"] == 2**40 and doc["gone"] is None
    with pytest.raises(TypeError, match="cannot send a bytes as a document field"):
        doc_proto(Document(id="x", fields={"raw": b"x"}))


# --- against the demo Flow ----------------------------------------------------------------


_DOCARRAY_READS = """
import json
import sys
from typing import Any, Dict, List, Optional
from docarray import BaseDoc
from docarray.proto import DocProto

class Doc(BaseDoc):
    text: Optional[str] = None
    blob: Optional[bytes] = None
    label: Optional[int] = None
    score: Optional[float] = None
    tags: Optional[Dict[str, Any]] = None
    items: Optional[List[Any]] = None
    ok: Optional[bool] = None

proto = DocProto()
proto.ParseFromString(sys.stdin.buffer.read())
doc = Doc.from_protobuf(proto).dict()
print(json.dumps({**doc, "blob": doc["blob"].hex()}))
"""


@pytest.mark.integration
def test_real_docarray_reads_blob_and_fields():
    from loadgen.flowctl import FlowConfig, flow_python

    fields = {"label": 3, "score": 0.5, "tags": {"a": "b", "n": None}, "items": [1, "x"], "ok": True, "other": "x"}
    raw = doc_proto(Document(id="d" * 32, text="hi", blob=b"\x89PNG", fields=fields)).SerializeToString()
    out = subprocess.run([str(flow_python(FlowConfig())), "-c", _DOCARRAY_READS], input=raw, capture_output=True,
                         check=True, timeout=120).stdout
    doc = json.loads(out.splitlines()[-1])
    assert doc["id"] == "d" * 32 and doc["text"] == "hi" and bytes.fromhex(doc["blob"]) == b"\x89PNG"
    assert {k: doc[k] for k in ("label", "score", "tags", "items", "ok")} == {k: fields[k] for k in
                                                                             ("label", "score", "tags", "items", "ok")}


@pytest.mark.integration
def test_real_images_with_label_fields_are_indexed_and_searched(flow):
    from loadgen.protocols import open_transport

    dataset = open_dataset("builtin:digits", image_shape=SMALL_IMAGE)
    docs = list(itertools.islice(dataset.documents(worker_index=1, workers=2), 6))
    specs = [RequestSpec(endpoint="/index", docs=docs[:3]),
             RequestSpec(endpoint="/search", docs=docs[3:], parameters={"top_k": TOP_K}, expected_matches=TOP_K)]
    with open_transport(flow.target) as transport:
        results = [transport.send(encode(spec, wire=flow.target.wire)) for spec in specs]
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.docs_returned for r in results] == [3, 3]


# -- python:MODULE:FUNCTION -------------------------------------------------------------------
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
