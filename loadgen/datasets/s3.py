"""A local mirror of an S3 prefix for ``--dataset s3://BUCKET/PREFIX`` (docs/datasets.md).

Objects land in ``CACHE/s3/BUCKET/objects/KEY``; ``CACHE/s3/BUCKET/manifest.json`` records
each object's ETag and size. Every open lists the prefix (one request per 1000 keys) and
downloads only objects that are new or whose ETag or size changed, so a second run reads
from disk. A download goes to a temporary file (``GetObject`` with ``If-Match`` on the
listed ETag, so a concurrent overwrite cannot mix versions), its size is checked, and only
then is it renamed into place. A lock file serializes processes that mirror the same bucket
at once (Locust's ``--processes``): the second one finds the cache complete.

boto3 is imported only here and only when called; it honours ``AWS_ENDPOINT_URL`` (the
tests point it at a moto server on loopback) and its standard credential chain.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from loadgen.datasets.base import OPTION
from loadgen.errors import ConfigError

MANIFEST_VERSION = 1
_PERMISSION = {"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
               "ExpiredToken", "InvalidToken", "403"}


def mirror(url: str, cache_dir: Path, *, client: Any = None) -> tuple[list[tuple[str, Path]], dict[str, Any]]:
    """Bring ``cache_dir`` up to date with the objects under ``url``.

    :param url: ``s3://BUCKET/PREFIX``; the prefix may also name one object.
    :param client: a boto3 S3 client (default: a new one from boto3's configuration).
    :returns: ``(s3 URL of each object, local path)`` sorted by key, and a report
        ``{url, cache_dir, objects, downloaded, reused, bytes_downloaded}``.
    :raises ConfigError: naming ``--dataset``: bad URL, missing bucket, no objects, refused
        access, missing credentials, unreachable endpoint.
    """
    bucket, prefix = parse_url(url)
    s3 = client or _client(url)
    root = Path(cache_dir) / "s3" / bucket
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        objects = _list(s3, url, bucket, prefix)
        report = {"url": url, "cache_dir": str(root), "objects": len(objects), "downloaded": 0, "reused": 0,
                  "bytes_downloaded": 0}
        manifest = _read_manifest(root)
        try:
            for key, etag, size in objects:
                _sync(s3, url, bucket, key, etag, size, root, manifest, report)
        finally:
            _write_manifest(root, manifest)
    return [(f"s3://{bucket}/{key}", root / "objects" / key) for key, _, _ in objects], report


def parse_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://BUCKET[/PREFIX]`` (prefix without surrounding slashes).

    :raises ConfigError: when ``url`` is not of that form.
    """
    bucket, _, prefix = url[len("s3://"):].partition("/") if url.startswith("s3://") else ("", "", "")
    if not 3 <= len(bucket) <= 63 or not all(c.isalnum() or c in ".-_" for c in bucket):
        raise ConfigError(f"{OPTION}: {url!r} is not an S3 URL; use s3://BUCKET/PREFIX, e.g. s3://my-data/images")
    return bucket, prefix.strip("/")


def _sync(s3: Any, url: str, bucket: str, key: str, etag: str, size: int, root: Path, manifest: dict,
          report: dict) -> None:
    dest = root / "objects" / key
    if manifest.get(key) == [etag, size] and dest.is_file() and dest.stat().st_size == size:
        report["reused"] += 1
        return
    _download(s3, url, bucket, key, etag, size, dest)
    manifest[key] = [etag, size]
    report["downloaded"] += 1
    report["bytes_downloaded"] += size


def _list(s3: Any, url: str, bucket: str, prefix: str) -> list[tuple[str, str, int]]:
    """``(key, ETag, size)`` of the objects at or under ``prefix``, sorted by key."""
    found = []
    with s3_errors(url, "listing"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/") or not (not prefix or key == prefix or key.startswith(prefix + "/")):
                    continue  # folder markers; "data2/x" is not under "data"
                _check_key(url, key)
                found.append((key, item["ETag"], int(item["Size"])))
    if not found:
        raise ConfigError(f"{OPTION} {url}: no objects under this prefix; check it with `aws s3 ls {url}/`")
    return sorted(found)


def _check_key(url: str, key: str) -> None:
    parts = PurePosixPath(key).parts
    if key.startswith("/") or ".." in parts or "" in key.split("/"):
        raise ConfigError(f"{OPTION} {url}: refusing object key {key!r}: it would land outside the cache directory")


def _download(s3: Any, url: str, bucket: str, key: str, etag: str, size: int, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    try:
        with s3_errors(url, f"downloading s3://{bucket}/{key}"), os.fdopen(fd, "wb") as out:
            body = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"]
            shutil.copyfileobj(body, out, 1 << 20)
        if os.path.getsize(tmp) != size:
            raise ConfigError(f"{OPTION} {url}: s3://{bucket}/{key} arrived with {os.path.getsize(tmp)} of {size} "
                              f"bytes; run again")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


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


def _client(url: str) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError(f"{OPTION} {url}: reading S3 needs boto3: pip install 'jina-loadgen[aws]'") from None
    # boto3's default session keeps botocore's service models: a second client costs about
    # 20 ms instead of 300. S3 needs no configured region (botocore falls back to us-east-1);
    # standard mode retries throttling and 5xx with backoff.
    return boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))


@contextlib.contextmanager
def s3_errors(url: str, action: str) -> Iterator[None]:
    """Turn botocore errors raised while doing ``action`` into one-line ConfigErrors that
    name ``--dataset`` and the fix (access key ids scrubbed)."""
    from botocore import exceptions as bx

    from loadgen.cloud.aws import scrub

    try:
        yield
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise ConfigError(f"{OPTION} {url}: no AWS credentials found; configure them (`aws configure`, "
                          f"AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)") from None
    except bx.EndpointConnectionError as exc:
        raise ConfigError(f"{OPTION} {url}: {action}: cannot reach {exc.kwargs.get('endpoint_url', 'S3')}; "
                          f"check the network and AWS_ENDPOINT_URL if set") from None
    except bx.ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "Unknown")), scrub(str(error.get("Message", "")).strip())
        raise ConfigError(f"{OPTION} {url}: {action}: {code}: {message}; {_hint(code, url)}") from None


def _hint(code: str, url: str) -> str:
    if code in ("NoSuchBucket", "404"):
        return "fix the bucket name in the URL"
    if code in _PERMISSION:
        return "the credentials need s3:ListBucket on the bucket and s3:GetObject on the prefix"
    if code in ("PreconditionFailed", "412"):
        return "an object changed while it was downloaded; run again"
    return f"check the URL and your access (`aws s3 ls {url}/`)"
