"""``--dataset s3://BUCKET/PREFIX`` (loadgen.datasets.s3) against the moto server of
tests/cloud/conftest.py: the local mirror, its reuse across opens, ETag-change invalidation,
and the one-line errors."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cloud.conftest import aws, moto_url, new_bucket  # noqa: F401 (fixtures)
from loadgen.datasets import open_dataset
from loadgen.datasets.s3 import mirror
from loadgen.errors import ConfigError


BUCKET = "loadgen-datasets"


def _png(value: int, size: int = 6) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def bucket(new_bucket):  # noqa: F811 (the fixture imported above)
    """An empty bucket; returns a client."""
    return new_bucket(BUCKET)


@pytest.fixture
def s3(bucket):
    """Three PNGs and a README under imgs/, a folder marker, a look-alike prefix, one JSONL object."""
    client = bucket
    for i in range(3):
        client.put_object(Bucket=BUCKET, Key=f"imgs/{i}.png", Body=_png(40 * i))
    client.put_object(Bucket=BUCKET, Key="imgs/README.md", Body=b"three grey squares")
    client.put_object(Bucket=BUCKET, Key="imgs/", Body=b"")  # a console "folder" marker
    client.put_object(Bucket=BUCKET, Key="imgs2/other.png", Body=_png(1))  # not under imgs/
    client.put_object(Bucket=BUCKET, Key="corpus.jsonl",
                      Body="\n".join(json.dumps({"text": f"doc {i}", "n": i}) for i in range(5)).encode())
    return client


def test_an_image_prefix_is_mirrored_then_read_from_the_cache(s3, tmp_path):
    dataset = open_dataset(f"s3://{BUCKET}/imgs", cache_dir=tmp_path)
    stats = dataset.stats()
    assert stats["count"] == 3 and stats["s3"]["downloaded"] == 4 and stats["s3"]["reused"] == 0
    assert [d.tensor[0, 0, 0] for d in dataset.documents()] == [0, 40, 80]
    assert any("README.md" in note for note in dataset.notes)
    cached = tmp_path / "s3" / BUCKET / "objects" / "imgs" / "1.png"
    assert cached.read_bytes() == _png(40)
    before = cached.stat().st_mtime_ns

    again = open_dataset(f"s3://{BUCKET}/imgs/", cache_dir=tmp_path)
    assert again.stats()["s3"] | {"url": ""} == {"url": "", "cache_dir": str(tmp_path / "s3" / BUCKET),
                                                   "objects": 4, "downloaded": 0, "reused": 4, "bytes_downloaded": 0}
    assert cached.stat().st_mtime_ns == before, "a reused object is not written again"
    assert [d.id for d in again.documents()] != [], "ids come from the spec and the object"


def test_a_changed_object_or_a_damaged_copy_is_downloaded_again(s3, tmp_path):
    open_dataset(f"s3://{BUCKET}/imgs", cache_dir=tmp_path)
    s3.put_object(Bucket=BUCKET, Key="imgs/1.png", Body=_png(200, size=9))  # a new ETag
    cached = tmp_path / "s3" / BUCKET / "objects" / "imgs" / "2.png"
    cached.write_bytes(b"half")  # the size no longer matches the manifest
    dataset = open_dataset(f"s3://{BUCKET}/imgs", cache_dir=tmp_path)
    report = dataset.stats()["s3"]
    assert (report["downloaded"], report["reused"]) == (2, 2) and cached.read_bytes() == _png(80)
    assert report["bytes_downloaded"] == len(_png(200, 9)) + len(_png(80))
    assert [d.tensor.shape for d in dataset.documents()] == [(6, 6, 3), (9, 9, 3), (6, 6, 3)]


def test_one_jsonl_object_is_a_text_dataset(s3, tmp_path):
    dataset = open_dataset(f"s3://{BUCKET}/corpus.jsonl", cache_dir=tmp_path)
    docs = list(dataset.documents(worker_index=1, workers=2))
    assert dataset.kind == "text" and [(d.text, d.fields) for d in docs] == [("doc 1", {"n": 1}), ("doc 3", {"n": 3})]


def test_a_bad_line_in_an_s3_object_is_named_by_its_url(bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="bad/x.jsonl", Body=b'{"text": "ok"}\n[1]\n')
    with pytest.raises(ConfigError, match=rf"s3://{BUCKET}/bad/x.jsonl:2: the line is a JSON array"):
        open_dataset(f"s3://{BUCKET}/bad", cache_dir=tmp_path).stats()


@pytest.mark.parametrize("url, message", [
    ("s3://no-such-bucket/x", "listing: NoSuchBucket: .*; fix the bucket name in the URL"),
    (f"s3://{BUCKET}/nothing/here", "no objects under this prefix; check it with `aws s3 ls"),
    (f"s3://{BUCKET}/im", "no objects under this prefix"),  # "imgs/..." is not under "im/"
])
def test_s3_errors_are_one_line_config_errors(bucket, tmp_path, url, message):
    bucket.put_object(Bucket=BUCKET, Key="imgs/0.png", Body=_png(0))
    with pytest.raises(ConfigError, match=rf"^--dataset {url}: {message}"):
        open_dataset(url, cache_dir=tmp_path)


def test_mixed_kinds_are_refused(bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="mixed/a.png", Body=_png(1))
    bucket.put_object(Bucket=BUCKET, Key="mixed/b.txt", Body=b"text")
    with pytest.raises(ConfigError, match="the data mixes image and text files; point it at files of one kind"):
        open_dataset(f"s3://{BUCKET}/mixed", cache_dir=tmp_path)


def test_keys_that_would_escape_the_cache_are_refused(bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="esc/../../evil.png", Body=_png(1))
    with pytest.raises(ConfigError, match="refusing object key 'esc/../../evil.png'"):
        mirror(f"s3://{BUCKET}/esc", tmp_path)
    assert not (tmp_path / "evil.png").exists() and not Path(tmp_path.parent / "evil.png").exists()
