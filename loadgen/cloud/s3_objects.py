"""The S3 layer under both users of S3: results sync (:mod:`loadgen.cloud.s3`) and the
``--dataset s3://`` mirror (:mod:`loadgen.datasets.s3`).

It owns what the two must agree on: ``s3://BUCKET/PREFIX`` URLs (:class:`S3Url`), which
objects a prefix holds (:func:`list_objects`: folder markers skipped, ``data2/x`` not under
``data``), which keys may become local paths (:func:`check_key`), a download that is
renamed into place only once verified (:func:`download_verified`), and the one-line errors
of reading S3 given as input (:func:`read_errors`). Run-time errors (exit code 1) go
through :func:`loadgen.cloud.aws.aws_errors`, shared with EC2.

boto3 and botocore are imported inside the functions that need them; both honour
``AWS_ENDPOINT_URL`` (the tests point it at a moto server on loopback) and boto3's standard
credential chain.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Optional

from loadgen.cloud.aws import PERMISSION_CODES, error_parts
from loadgen.errors import CloudError, ConfigError

MiB = 2**20


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/prefix`` split into its bucket and key prefix (no surrounding slashes)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str, *, option: str = "", example: str = "s3://my-bucket/runs/2026-11-22") -> "S3Url":
        """:param option: the option the URL was given with, named first in the error.
        :raises ConfigError: when ``text`` is not ``s3://BUCKET[/PREFIX]``.
        """
        rest = text[5:] if text.startswith("s3://") else None
        bucket, _, prefix = (rest or "").partition("/")
        # "_" only in legacy (us-east-1) bucket names, which botocore still accepts
        if rest is None or not 3 <= len(bucket) <= 63 or not all(c.isalnum() or c in ".-_" for c in bucket):
            named = f"{option}: " if option else ""
            raise ConfigError(f"{named}{text!r} is not an S3 URL; use s3://BUCKET/PREFIX, e.g. {example}")
        return cls(bucket, prefix.strip("/"))

    def key(self, relative: str) -> str:
        """The key of ``relative`` (a path below the prefix)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def relative(self, key: str) -> str:
        """``key`` below the prefix (the inverse of :meth:`key`)."""
        return key[len(self.prefix) + 1:] if self.prefix else key

    def holds(self, key: str) -> bool:
        """True for the key named by the prefix and every key under ``PREFIX/``."""
        return not self.prefix or key == self.prefix or key.startswith(self.prefix + "/")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class S3Object:
    """One listed object: its key, size in bytes and ETag (quoted, as S3 sends it)."""

    key: str
    size: int
    etag: str


class UnsafeKey(CloudError):
    """An object key that would not land inside the local directory (``..``, a leading
    ``/``, an empty segment that would fold two keys into one file)."""

    def __init__(self, bucket: str, key: str):
        super().__init__(f"refusing s3://{bucket}/{key}: it would land outside the directory")
        self.bucket, self.key = bucket, key


class ChecksumMismatch(Exception):
    """A transferred file's digest or size differs from the source's (worth another try).

    :ivar nbytes: bytes that arrived (downloads), else None.
    """

    def __init__(self, message: str, *, nbytes: Optional[int] = None):
        super().__init__(message)
        self.nbytes = nbytes


def check_key(bucket: str, key: str) -> None:
    """:raises UnsafeKey: when ``key`` cannot become a path below a local directory."""
    if key.startswith("/") or ".." in PurePosixPath(key).parts or "" in key.split("/"):
        raise UnsafeKey(bucket, key)


def list_objects(s3: Any, url: S3Url, *, named_object: bool = False) -> list[S3Object]:
    """The objects under ``url``'s prefix, sorted by key; folder markers (keys ending in
    ``/``, made by the console) skipped. botocore errors pass through: callers translate
    them for their audience.

    :param named_object: also the object whose key is the prefix itself (a dataset may
        name one object); off, the prefix is a directory (``PREFIX/...`` only).
    :raises UnsafeKey: a key that :func:`check_key` refuses; raised before anything is
        downloaded.
    """
    listed = url.prefix if named_object or not url.prefix else f"{url.prefix}/"
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=url.bucket, Prefix=listed):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/") or not url.holds(key):
                continue  # folder markers; "data2/x" is not under "data"
            check_key(url.bucket, key)
            found.append(S3Object(key, int(item["Size"]), item.get("ETag", "")))
    return sorted(found, key=lambda o: o.key)


def download_verified(s3: Any, bucket: str, key: str, dest: Path, *, size: int, sha256: Optional[str] = None,
                      etag: Optional[str] = None) -> None:
    """Download ``s3://bucket/key`` to ``dest`` through a temporary file beside it, renamed
    into place only when its size in bytes (and its SHA-256, when given) match: a corrupt
    or half transfer never leaves a file that looks complete.

    :param etag: ``GetObject`` carries ``If-Match`` on it, so a concurrent overwrite fails
        (``PreconditionFailed``) instead of mixing versions.
    :raises ChecksumMismatch: the bytes differ; botocore errors as they are.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy(s3, bucket, key, etag, out, hashed=sha256 is not None)
        nbytes = os.path.getsize(tmp)
        if nbytes != size or (sha256 is not None and digest != sha256):
            raise ChecksumMismatch(f"s3://{bucket}/{key}: the downloaded bytes do not match the object's checksum",
                                   nbytes=nbytes)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _copy(s3: Any, bucket: str, key: str, etag: Optional[str], out: Any, *, hashed: bool) -> Optional[str]:
    """Stream the object into ``out`` in 1 MiB blocks; its hex SHA-256 when ``hashed``."""
    body = s3.get_object(Bucket=bucket, Key=key, **({"IfMatch": etag} if etag else {}))["Body"]
    digest = hashlib.sha256() if hashed else None
    for block in iter(lambda: body.read(MiB), b""):
        out.write(block)
        if digest is not None:
            digest.update(block)
    return digest.hexdigest() if digest is not None else None


def read_client(context: str) -> Any:
    """An S3 client of boto3's default session, for reading (no region needed).

    :param context: what the error names first, e.g. ``--dataset s3://bucket/data``.
    :raises ConfigError: boto3 is not installed.
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise ConfigError(f"{context}: reading S3 needs boto3: pip install 'jina-loadgen[aws]'") from None
    # boto3's default session keeps botocore's service models: a second client costs about
    # 20 ms instead of 300. S3 needs no configured region (botocore falls back to us-east-1);
    # standard mode retries throttling and 5xx with backoff.
    return boto3.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))


@contextlib.contextmanager
def read_errors(url: str, action: str, *, option: str) -> Iterator[None]:
    """Turn botocore errors raised while doing ``action`` on ``url`` (given with ``option``,
    e.g. ``--dataset``) into one-line ConfigErrors that name the option and the fix
    (access key ids scrubbed)."""
    from botocore import exceptions as bx

    try:
        yield
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise ConfigError(f"{option} {url}: no AWS credentials found; configure them (`aws configure`, "
                          f"AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)") from None
    except bx.EndpointConnectionError as exc:
        raise ConfigError(f"{option} {url}: {action}: cannot reach {exc.kwargs.get('endpoint_url', 'S3')}; "
                          f"check the network and AWS_ENDPOINT_URL if set") from None
    except bx.ClientError as exc:
        code, message = error_parts(exc)
        raise ConfigError(f"{option} {url}: {action}: {code}: {message}; {_hint(code, url)}") from None


def _hint(code: str, url: str) -> str:
    if code in ("NoSuchBucket", "404"):
        return "fix the bucket name in the URL"
    if code in PERMISSION_CODES:
        return "the credentials need s3:ListBucket on the bucket and s3:GetObject on the prefix"
    if code in ("PreconditionFailed", "412"):
        return "an object changed while it was downloaded; run again"
    return f"check the URL and your access (`aws s3 ls {url}/`)"
