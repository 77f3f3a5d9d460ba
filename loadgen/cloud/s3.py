"""Results directories to and from S3: ``loadgen s3 upload DIR s3://bucket/prefix``,
``loadgen s3 download s3://bucket/prefix DIR`` and the scenario steps :func:`upload_to_s3`
and :func:`download_from_s3`.

Integrity end to end: each upload stores the file's SHA-256 as object metadata
(``x-amz-meta-loadgen-sha256``) and asks S3 to check a SHA-256 of every part
(``ChecksumAlgorithm``); after the upload a ``HeadObject`` confirms size and digest. A
download goes to a temporary file that is hashed while it is written and only then renamed
into place (:func:`loadgen.cloud.s3_objects.download_verified`), so a corrupt or half
transfer never leaves a file that looks complete. Large files go up in parts (boto3's
managed transfer, ``multipart_threshold_mb``). Transient failures are retried with
exponential backoff, twice over: by botocore per request (standard mode) and here per file
(a checksum mismatch or a dropped connection restarts the file). Listing, the URL and the
refusal of keys that would escape the directory are the S3 layer's
(:mod:`loadgen.cloud.s3_objects`), shared with ``--dataset s3://``.

Nothing is deleted: not the local copy after an upload, not remote objects. Credentials
come only from boto3's chain and are never printed or written into results.
"""
from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from loadgen.cloud.aws import PERMISSION_CODES, Aws, aws_errors, client_error, scrub
from loadgen.cloud.s3_objects import MiB, ChecksumMismatch, S3Url, download_verified, list_objects
from loadgen.errors import CloudError, ConfigError

SHA_KEY = "loadgen-sha256"
RETRYABLE_CODES = frozenset({"InternalError", "SlowDown", "RequestTimeout", "ServiceUnavailable", "500", "503"})


@dataclass(frozen=True, kw_only=True)
class TransferOptions:
    """How files move.

    :param multipart_threshold_mb: files at least this large go in parts.
    :param multipart_chunk_mb: part size (S3's minimum is 5 MiB).
    :param attempts: tries per file before giving up.
    :param backoff_s: first retry delay; doubled each time, with jitter.
    :param overwrite: downloads may replace a local file whose content differs.
    """

    multipart_threshold_mb: float = 8.0
    multipart_chunk_mb: float = 8.0
    attempts: int = 5
    backoff_s: float = 0.5
    overwrite: bool = False

    def boto_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=int(self.multipart_threshold_mb * MiB),
                              multipart_chunksize=int(self.multipart_chunk_mb * MiB), max_concurrency=4)


@dataclass
class TransferReport:
    """What one upload or download did."""

    verb: str
    source: str
    destination: str
    files: list[str] = field(default_factory=list)
    nbytes: int = 0
    skipped: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    retries: int = 0

    def line(self) -> str:
        extra = [f"{len(self.skipped)} unchanged, skipped"] if self.skipped else []
        extra += [f"{len(self.unverified)} without a loadgen checksum (size checked only)"] if self.unverified else []
        extra += [f"{self.retries} retried"] if self.retries else []
        return (f"{self.verb} {len(self.files)} file(s), {self.nbytes / MiB:.1f} MiB, {self.source} -> "
                f"{self.destination}; SHA-256 verified" + "".join(f"; {e}" for e in extra))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_dir(local: Path, url: S3Url, *, aws: Aws, options: TransferOptions = TransferOptions(),
               out: Callable[[str], Any] = print) -> TransferReport:
    """Upload every file under ``local`` to ``url`` (relative paths become key suffixes).

    :raises ConfigError: ``local`` is not a directory or holds no file.
    :raises CloudError: the bucket is missing or refuses, or a file failed every attempt.
    """
    local = Path(local)
    if not local.is_dir():
        raise ConfigError(f"{local}: no such directory; give a results directory, e.g. results/demo")
    files = sorted(p for p in local.rglob("*") if p.is_file())
    if not files:
        raise ConfigError(f"{local}: no files to upload")
    s3 = aws.client("s3")
    _check_bucket(s3, url)
    report = TransferReport("uploaded", str(local), str(url))
    for path in files:
        relative = path.relative_to(local).as_posix()
        digest, size = sha256_file(path), path.stat().st_size
        report.retries += _retry(lambda: _put(s3, path, url, relative, digest, size, options), options,
                                 what=f"uploading {relative}", out=out)
        report.files.append(relative)
        report.nbytes += size
    out(report.line())
    return report


def _put(s3: Any, path: Path, url: S3Url, relative: str, digest: str, size: int, options: TransferOptions) -> None:
    key = url.key(relative)
    s3.upload_file(str(path), url.bucket, key, Config=options.boto_config(),
                   ExtraArgs={"Metadata": {SHA_KEY: digest}, "ChecksumAlgorithm": "SHA256"})
    head = s3.head_object(Bucket=url.bucket, Key=key)
    if head["ContentLength"] != size or head.get("Metadata", {}).get(SHA_KEY) != digest:
        raise ChecksumMismatch(f"s3://{url.bucket}/{key} does not match {path} after the upload")


def download_dir(url: S3Url, local: Path, *, aws: Aws, options: TransferOptions = TransferOptions(),
                 out: Callable[[str], Any] = print) -> TransferReport:
    """Download every object under ``url`` into ``local``, verifying each file's SHA-256.

    :raises ConfigError: a local file differs and ``overwrite`` is off.
    :raises CloudError: the bucket or prefix is empty or missing, a key would land outside
        ``local``, or a file failed every attempt.
    """
    s3, local = aws.client("s3"), Path(local)
    _check_bucket(s3, url)
    with aws_errors(f"listing {url}"):
        objects = list_objects(s3, url)
    if not objects:
        raise CloudError(f"{url}: no objects under this prefix; check the URL (`aws s3 ls {url}/`)")
    report = TransferReport("downloaded", str(url), str(local))
    for obj in objects:
        key, relative = obj.key, url.relative(obj.key)
        dest = local / relative
        with aws_errors(f"reading s3://{url.bucket}/{key}"):
            head = s3.head_object(Bucket=url.bucket, Key=key)
        expected = head.get("Metadata", {}).get(SHA_KEY)
        if dest.exists() and _same(dest, expected, head["ContentLength"], report, relative, options):
            continue
        report.retries += _retry(lambda: download_verified(s3, url.bucket, key, dest, size=head["ContentLength"],
                                                           sha256=expected), options, what=f"downloading {key}", out=out)
        report.files.append(relative)
        report.nbytes += head["ContentLength"]
        if expected is None:
            report.unverified.append(relative)
    out(report.line())
    return report


def _same(dest: Path, expected: Optional[str], size: int, report: TransferReport, relative: str,
          options: TransferOptions) -> bool:
    """True (and counted as skipped) when ``dest`` already holds the object's content."""
    if expected is not None and dest.stat().st_size == size and sha256_file(dest) == expected:
        report.skipped.append(relative)
        return True
    if not options.overwrite:
        raise ConfigError(f"{dest} exists and differs from the S3 object; move it away or pass --overwrite")
    return False


def _check_bucket(s3: Any, url: S3Url) -> None:
    from botocore.exceptions import ClientError

    with aws_errors(f"opening bucket {url.bucket}"):
        try:
            s3.head_bucket(Bucket=url.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                raise CloudError(f"{url}: bucket {url.bucket!r} does not exist; create it (`aws s3 mb "
                                 f"s3://{url.bucket}`) or fix the URL") from None
            raise


def _retry(action: Callable[[], None], options: TransferOptions, *, what: str, out: Callable[[str], Any]) -> int:
    """Run ``action`` up to ``options.attempts`` times; returns how many retries it took.

    :raises CloudError: the last failure, as one line (ConfigError for missing credentials).
    """
    for attempt in range(options.attempts):
        try:
            action()
            return attempt
        except Exception as exc:
            reason = _transient(exc)
            if reason is None:
                raise _fatal(what, exc) from None
            if attempt + 1 == options.attempts:
                raise CloudError(f"{what}: gave up after {options.attempts} attempts: {reason}") from None
            delay = options.backoff_s * 2**attempt * random.uniform(0.5, 1.0)  # jitter: no retry stampede
            out(f"  {what}: {reason}; retrying in {delay:.1f} s")
            time.sleep(delay)
    return 0


def _fatal(what: str, exc: Exception) -> Exception:
    """The one-line error of a failure that another try would not fix."""
    if isinstance(exc, OSError):
        return CloudError(f"{what}: {exc.strerror or exc} ({exc.filename or 'local file'})")
    try:
        with aws_errors(what):
            raise exc
    except (CloudError, ConfigError) as translated:
        return translated
    except Exception:
        return CloudError(f"{what}: {scrub(str(exc))}")


def _transient(exc: Exception) -> Optional[str]:
    """Why ``exc`` is worth another try, or None when it is not."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as bx

    if isinstance(exc, S3UploadFailedError):
        # wraps the ClientError of the failed part ("An error occurred (CODE) when calling
        # ..."); a refusal stays a refusal
        refused = any(f"({code})" in str(exc) for code in (*PERMISSION_CODES, "NoSuchBucket"))
        return None if refused else scrub(str(exc))
    # a dropped stream: ResponseStreamingError and ReadTimeoutError are HTTPClientErrors
    if isinstance(exc, (ChecksumMismatch, bx.ConnectionError, bx.HTTPClientError, bx.IncompleteReadError)):
        return str(exc)
    if isinstance(exc, bx.ClientError) and exc.response.get("Error", {}).get("Code") in RETRYABLE_CODES:
        return str(client_error("S3", exc))
    return None


def upload_to_s3(results_dir: str | Path, url: str, *, region: str = "", options: Optional[TransferOptions] = None,
                 out: Callable[[str], Any] = print) -> TransferReport:
    """Scenario step: upload a results directory (``summary.json``, ``timeseries.csv``,
    ``histograms.hlog``, ...) to ``url``.

    Example, at the end of a locustfile's run (``quit`` comes after loadgen wrote its files)::

        @events.quit.add_listener
        def _upload(**_):
            upload_to_s3("results/nightly", "s3://my-bucket/nightly")
    """
    return upload_dir(Path(results_dir), S3Url.parse(url), aws=Aws(region=region),
                      options=options or TransferOptions(), out=out)


def download_from_s3(url: str, local_dir: str | Path, *, region: str = "", options: Optional[TransferOptions] = None,
                     out: Callable[[str], Any] = print) -> TransferReport:
    """Scenario step: download saved runs, e.g. to merge them with ``loadgen report``."""
    return download_dir(S3Url.parse(url), Path(local_dir), aws=Aws(region=region),
                        options=options or TransferOptions(), out=out)
