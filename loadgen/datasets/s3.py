"""A local mirror of an S3 prefix for ``--dataset s3://BUCKET/PREFIX`` (docs/datasets.md).

Objects land in ``CACHE/s3/BUCKET/objects/KEY``; ``CACHE/s3/BUCKET/manifest.json`` records
each object's ETag and size. Every open lists the prefix (one request per 1000 keys) and
downloads only objects that are new or whose ETag or size changed, so a second run reads
from disk. A download goes to a temporary file (``GetObject`` with ``If-Match`` on the
listed ETag, so a concurrent overwrite cannot mix versions), its size is checked, and only
then is it renamed into place. A lock file serializes processes that mirror the same bucket
at once (Locust's ``--processes``): the second one finds the cache complete.

Listing, the key check, the verified download and the wording of S3's errors are the S3
layer's (:mod:`loadgen.cloud.s3_objects`, which imports boto3 only when called); this
module owns the cache and what a dataset's errors say (``--dataset``, exit code 2).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from loadgen.cloud.s3_objects import (ChecksumMismatch, S3Object, S3Url, UnsafeKey, download_verified, list_objects,
                                      read_client, read_errors)
from loadgen.datasets.base import OPTION
from loadgen.errors import ConfigError

MANIFEST_VERSION = 1


def mirror(url: str, cache_dir: Path, *, client: Any = None) -> tuple[list[tuple[str, Path]], dict[str, Any]]:
    """Bring ``cache_dir`` up to date with the objects under ``url``.

    :param url: ``s3://BUCKET/PREFIX``; the prefix may also name one object.
    :param client: a boto3 S3 client (default: a new one from boto3's configuration).
    :returns: ``(s3 URL of each object, local path)`` sorted by key, and a report
        ``{url, cache_dir, objects, downloaded, reused, bytes_downloaded}``.
    :raises ConfigError: naming ``--dataset``: bad URL, missing bucket, no objects, refused
        access, missing credentials, unreachable endpoint.
    """
    where = S3Url.parse(url, option=OPTION, example="s3://my-data/images")
    s3 = client or read_client(f"{OPTION} {url}")
    root = Path(cache_dir) / "s3" / where.bucket
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        objects = _list(s3, url, where)
        report = {"url": url, "cache_dir": str(root), "objects": len(objects), "downloaded": 0, "reused": 0,
                  "bytes_downloaded": 0}
        manifest = _read_manifest(root)
        try:
            for obj in objects:
                _sync(s3, url, where.bucket, obj, root, manifest, report)
        finally:
            _write_manifest(root, manifest)
    return [(f"s3://{where.bucket}/{o.key}", root / "objects" / o.key) for o in objects], report


def _list(s3: Any, url: str, where: S3Url) -> list[S3Object]:
    """The objects at or under the prefix, sorted by key.

    :raises ConfigError: none, or a key that would land outside the cache directory.
    """
    try:
        with read_errors(url, "listing", option=OPTION):
            found = list_objects(s3, where, named_object=True)
    except UnsafeKey as exc:
        raise ConfigError(f"{OPTION} {url}: refusing object key {exc.key!r}: it would land outside the cache "
                          f"directory") from None
    if not found:
        raise ConfigError(f"{OPTION} {url}: no objects under this prefix; check it with `aws s3 ls {url}/`")
    return found


def _sync(s3: Any, url: str, bucket: str, obj: S3Object, root: Path, manifest: dict, report: dict) -> None:
    dest = root / "objects" / obj.key
    if manifest.get(obj.key) == [obj.etag, obj.size] and dest.is_file() and dest.stat().st_size == obj.size:
        report["reused"] += 1
        return
    try:
        with read_errors(url, f"downloading s3://{bucket}/{obj.key}", option=OPTION):
            download_verified(s3, bucket, obj.key, dest, size=obj.size, etag=obj.etag)
    except ChecksumMismatch as exc:
        raise ConfigError(f"{OPTION} {url}: s3://{bucket}/{obj.key} arrived with {exc.nbytes} of {obj.size} "
                          f"bytes; run again") from None
    manifest[obj.key] = [obj.etag, obj.size]
    report["downloaded"] += 1
    report["bytes_downloaded"] += obj.size


def _read_manifest(root: Path) -> dict[str, list]:
    try:
        data = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: everything is checked again
    return data.get("objects", {}) if data.get("version") == MANIFEST_VERSION else {}


def _write_manifest(root: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=root)
    with os.fdopen(fd, "w") as out:
        json.dump({"version": MANIFEST_VERSION, "objects": manifest}, out, sort_keys=True)
    os.replace(tmp, root / "manifest.json")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
