"""``loadgen s3`` and the scenario steps against a moto server: a results directory
round trip with checksums, multipart, retries, corruption, and the one-line errors."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError

from loadgen.cli import main
from loadgen.cloud.aws import Aws
from loadgen.errors import CloudError, ConfigError
from loadgen.cloud.s3 import SHA_KEY, S3Url, TransferOptions, download_dir, download_from_s3, upload_dir, upload_to_s3

from .conftest import DUMMY_KEY_ID, DUMMY_SECRET, REGION

BUCKET = "loadgen-results"
FAST = TransferOptions(multipart_threshold_mb=5, multipart_chunk_mb=5, attempts=3, backoff_s=0.01)


@pytest.fixture
def s3(new_bucket):
    return new_bucket(BUCKET)


@pytest.fixture
def results(tmp_path):
    """A results directory as a run leaves it, plus a nested file and a 6 MiB one."""
    run = tmp_path / "run1"
    (run / "nested").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"total": {"requests": 10, "failures": 0}}))
    (run / "histograms.hlog").write_text("#[StartTime: 0]\n")
    (run / "nested" / "flow.log").write_text("ok\n")
    (run / "big.bin").write_bytes(os.urandom(6 * 2**20 + 123))  # > 5 MiB threshold: multipart
    return run


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_of_a_results_directory_with_checksums(s3, results, tmp_path, capsys):
    before = tree(results)
    report = upload_dir(results, S3Url.parse(f"s3://{BUCKET}/runs/a"), aws=Aws(region=REGION), options=FAST)
    assert sorted(report.files) == sorted(before) and report.retries == 0
    assert tree(results) == before, "the local copy is never deleted or changed"
    big = s3.head_object(Bucket=BUCKET, Key="runs/a/big.bin")
    assert big["Metadata"][SHA_KEY] == before["big.bin"] and big["ETag"].endswith('-2"'), "two parts"
    back = download_dir(S3Url.parse(f"s3://{BUCKET}/runs/a/"), tmp_path / "back", aws=Aws(region=REGION), options=FAST)
    assert tree(tmp_path / "back") == before and report.nbytes == back.nbytes and not back.unverified
    again = download_dir(S3Url.parse(f"s3://{BUCKET}/runs/a"), tmp_path / "back", aws=Aws(region=REGION))
    assert sorted(again.skipped) == sorted(before) and not again.files
    printed = capsys.readouterr().out
    assert "uploaded 4 file(s)" in printed and "SHA-256 verified" in printed
    for text in [printed, *(p.read_bytes().decode("latin-1") for p in (tmp_path / "back").rglob("*") if p.is_file())]:
        assert DUMMY_SECRET not in text and DUMMY_KEY_ID not in text


def test_cli_upload_and_download(s3, results, tmp_path, capsys):
    assert main(["s3", "upload", str(results), f"s3://{BUCKET}/cli", "--region", REGION]) == 0
    assert main(["s3", "download", f"s3://{BUCKET}/cli", str(tmp_path / "copy")]) == 0
    assert tree(tmp_path / "copy") == tree(results)
    (tmp_path / "copy" / "summary.json").write_text("{}")
    assert main(["s3", "download", f"s3://{BUCKET}/cli", str(tmp_path / "copy")]) == 2
    assert "summary.json exists and differs from the S3 object; move it away or pass --overwrite" in capsys.readouterr().err
    assert main(["s3", "download", f"s3://{BUCKET}/cli", str(tmp_path / "copy"), "--overwrite"]) == 0
    assert tree(tmp_path / "copy") == tree(results)


def test_scenario_steps(s3, results, tmp_path):
    upload_to_s3(results, f"s3://{BUCKET}/nightly", region=REGION, out=lambda line: None)
    report = download_from_s3(f"s3://{BUCKET}/nightly", tmp_path / "n", region=REGION, out=lambda line: None)
    assert len(report.files) == 4 and tree(tmp_path / "n") == tree(results)


def test_a_dropped_connection_is_retried(s3, results, monkeypatch):
    aws, failures = Aws(region=REGION), []
    client = aws.client("s3")
    real = client.upload_file

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(args[2])
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "upload_file", flaky)
    lines = []
    report = upload_dir(results, S3Url(BUCKET, "flaky"), aws=aws, options=FAST, out=lines.append)
    assert report.retries == 1 and len(report.files) == 4
    assert any("retrying in" in line for line in lines)


def test_a_corrupt_object_is_never_left_as_a_local_file(s3, results, tmp_path):
    upload_dir(results, S3Url(BUCKET, "c"), aws=Aws(region=REGION), options=FAST, out=lambda line: None)
    head = s3.head_object(Bucket=BUCKET, Key="c/summary.json")
    s3.put_object(Bucket=BUCKET, Key="c/summary.json", Body=b'{"total": "tampered"}', Metadata=head["Metadata"])
    with pytest.raises(CloudError, match="gave up after 3 attempts: .*do not match the object's checksum"):
        download_dir(S3Url(BUCKET, "c"), tmp_path / "d", aws=Aws(region=REGION), options=FAST, out=lambda line: None)
    assert not (tmp_path / "d" / "summary.json").exists()
    assert not [p for p in (tmp_path / "d").rglob("*.partial")], "no temporary file left behind"


def test_keys_that_would_escape_the_directory_are_refused(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="evil/../../outside.txt", Body=b"x")
    with pytest.raises(CloudError, match="would land outside the directory"):
        download_dir(S3Url(BUCKET, "evil"), tmp_path / "d", aws=Aws(region=REGION))


@pytest.mark.parametrize("argv, code, needle", [
    (["s3", "upload", "{results}", "s3://no-such-bucket-here/x"], 1, "bucket 'no-such-bucket-here' does not exist"),
    (["s3", "upload", "{results}", "https://bucket/x"], 2, "'https://bucket/x' is not an S3 URL"),
    (["s3", "upload", "{missing}", f"s3://{BUCKET}/x"], 2, "no such directory"),
    (["s3", "download", f"s3://{BUCKET}/nothing-here", "{missing}"], 1, "no objects under this prefix"),
    (["s3", "upload", "{results}", f"s3://{BUCKET}/x", "--region", "moon-1"], 2, "--region: unknown AWS region"),
])
def test_bad_input_is_one_line(s3, results, tmp_path, capsys, argv, code, needle):
    argv = [a.format(results=results, missing=tmp_path / "missing") for a in argv]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_url_parsing():
    assert S3Url.parse("s3://b-1.x/a/b/") == S3Url("b-1.x", "a/b") and S3Url.parse("s3://bkt").key("f") == "f"
    assert str(S3Url("bkt", "p")) == "s3://bkt/p" and S3Url("bkt", "p").key("x/y") == "p/x/y"
    for bad in ("s3://", "s3://a/x", "bucket/x", "s3://bad_bucket!/x"):
        with pytest.raises(ConfigError):
            S3Url.parse(bad)
