"""``images:DIR`` and ``builtin:digits`` (loadgen.datasets.images): recursive sorted folders,
native sizes and resizing, unreadable files skipped and counted, blobs, JPEG draft decoding,
image statistics, laziness, and the digits indexed and searched by the demo Flow."""
from __future__ import annotations

import io
import itertools
import json
import shutil
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from loadgen.datasets import decode_image, open_dataset, summary_line
from loadgen.datasets.images import ImageFiles
from loadgen.encoding import RequestSpec, encode
from loadgen.errors import ConfigError

from conftest import SMALL_IMAGE, TOP_K

from .conftest import BAD, GOOD, doc_ids, noise, save_image, write_file


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
    assert doc_ids(open_dataset(f"images:{image_dir}").documents()) == doc_ids(docs.values()), "ids stable across opens"


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


def test_a_folder_of_only_unreadable_images_fails_with_an_example(tmp_path):
    write_file(tmp_path / "x.png", b"junk")
    dataset = open_dataset(f"images:{tmp_path}")
    with pytest.raises(ConfigError, match=r"none of the 1 image files is readable, e.g. x.png"):
        dataset.stats()
    with pytest.raises(ConfigError, match=r"no documents for worker 0 of 1: every image of its share is unreadable"):
        list(dataset.documents())


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


def test_taking_a_few_images_decodes_only_those(tmp_path, monkeypatch):
    for i in range(300):
        save_image(tmp_path / f"{i // 100}" / f"{i:03d}.png", noise(64, 64), "PNG")
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
