"""``loadgen run`` with the S3 steps against a moto server over HTTP: an ``upload_to_s3`` /
``download_from_s3`` round trip, the one-line errors of a failed transfer (worded with the
step's keys), the progress lines, and ``--dry-run``. The scenario runs as a user runs it, in
a ``loadgen`` subprocess whose boto3 reaches moto through ``AWS_ENDPOINT_URL`` (the ``aws``
fixture of tests/cloud/conftest.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cloud.conftest import DUMMY_SECRET, REGION, aws, cli_env, moto_url, new_bucket  # noqa: F401 (fixtures)
from loadgen.cloud.s3 import SHA_KEY, sha256_file

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = Path(sys.executable).parent / "loadgen"
BUCKET = "loadgen-scenario"

ROUND_TRIP = """\
jobs:
  archive:
    steps:
      - method: upload_to_s3
        directory: {source}
        url: s3://{bucket}/runs/a
      - method: download_from_s3
        url: s3://{bucket}/runs/a
        local_directory: downloaded
      - method: upload_to_s3
        bucket: {bucket}
        key: runs/whole
        region: {region}
"""


def loadgen_run(*args, timeout=120, **env) -> subprocess.CompletedProcess:
    """``loadgen run ARGS`` with the ``aws`` fixture's environment (plus ``env``; None unsets)."""
    return subprocess.run([str(LOADGEN), "run", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=cli_env(**env))


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def s3(new_bucket):
    return new_bucket(BUCKET)


@pytest.fixture
def source(tmp_path) -> Path:
    """Known files, nested and binary, outside the results directory (an absolute path)."""
    src = tmp_path / "source"
    (src / "nested").mkdir(parents=True)
    (src / "summary.json").write_text(json.dumps({"total": {"requests": 3, "failures": 0}}))
    (src / "nested" / "flow.log").write_text("flow ready\n")
    (src / "blob.bin").write_bytes(bytes(range(256)) * 40)
    return src


def keys(s3, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_upload_then_download_round_trip(s3, source, tmp_path):
    """A job of S3 steps only (no Flow, no load step): the objects land in the bucket with
    their checksums, the download is byte for byte the source, and bucket:/key: and the
    default directory (the run's results directory) work too."""
    scenario = tmp_path / "archive.yml"
    scenario.write_text(ROUND_TRIP.format(source=source, bucket=BUCKET, region=REGION))
    results = tmp_path / "results"
    proc = loadgen_run(scenario, "--results-dir", results, "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""  # --quiet, and no warning from boto3 or moto
    originals = files_of(source)
    assert keys(s3, "runs/a/") == sorted(f"runs/a/{name}" for name in originals)
    for name, data in originals.items():
        obj = s3.get_object(Bucket=BUCKET, Key=f"runs/a/{name}")
        assert obj["Body"].read() == data
        assert obj["Metadata"][SHA_KEY] == sha256_file(source / name)
    assert files_of(results / "downloaded") == originals
    assert files_of(source) == originals, "the upload leaves the local copy alone"
    # step 3 uploaded the results directory as it was then: the plan and the download
    assert keys(s3, "runs/whole/") == sorted(["runs/whole/plan.txt"] +
                                             [f"runs/whole/downloaded/{name}" for name in originals])
    assert not list(results.rglob("*.partial")), "no temporary file left behind"
    assert DUMMY_SECRET not in proc.stdout + proc.stderr + "".join(
        p.read_text(errors="replace") for p in results.rglob("*") if p.is_file() and p.suffix != ".bin")


MISSING_BUCKET = """\
jobs:
  archive:
    steps:
      - method: download_from_s3
        url: s3://{bucket}/runs/a
        local_directory: first
      - method: upload_to_s3
        directory: {source}
        url: s3://no-such-bucket/runs/a
      - method: download_from_s3
        url: s3://{bucket}/runs/a
        local_directory: never
  next:
    steps:
      - method: download_from_s3
        url: s3://{bucket}/runs/a
        local_directory: next
"""


def test_missing_bucket_fails_the_step_with_one_line(s3, source, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="runs/a/kept.txt", Body=b"kept\n")
    scenario = tmp_path / "missing.yml"
    scenario.write_text(MISSING_BUCKET.format(source=source, bucket=BUCKET))
    results = tmp_path / "results"
    proc = loadgen_run(scenario, "--results-dir", results, "--quiet")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("loadgen: error:")]
    assert proc.stderr.splitlines() == errors and len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"loadgen: error: {scenario}:7: jobs.archive.steps[1] (upload_to_s3, point1_rep1): ")
    assert "'no-such-bucket' does not exist" in errors[0] and "aws s3 mb s3://no-such-bucket" in errors[0]
    assert (results / "first" / "kept.txt").read_bytes() == b"kept\n", "what the job did before is kept"
    assert not (results / "never").exists(), "the failed step stopped its job"
    assert (results / "next" / "kept.txt").read_bytes() == b"kept\n", "the next job still ran"
    assert (results / "plan.txt").is_file() and (results / "results.json").is_file()
    assert keys(s3, "") == ["runs/a/kept.txt"]


def test_dry_run_prints_both_steps_and_touches_nothing(s3, source, tmp_path):
    scenario = tmp_path / "archive.yml"
    scenario.write_text(ROUND_TRIP.format(source=source, bucket=BUCKET, region=REGION))
    results = tmp_path / "results"
    proc = loadgen_run(scenario, "--results-dir", results, "--dry-run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert f"    1. upload_to_s3 directory={source} url=s3://{BUCKET}/runs/a" in lines
    assert f"    2. download_from_s3 url=s3://{BUCKET}/runs/a local_directory=downloaded" in lines
    assert f"    3. upload_to_s3 url=s3://{BUCKET}/runs/whole bucket={BUCKET} key=runs/whole region={REGION}" in lines
    assert not results.exists() and keys(s3, "") == []


ONE_UPLOAD = """\
jobs:
  archive:
    steps:
      - method: upload_to_s3
        directory: {source}
        url: s3://{bucket}/runs/a
"""


def test_progress_prints_each_transfer_once(s3, source, tmp_path):
    scenario = tmp_path / "one.yml"
    scenario.write_text(ONE_UPLOAD.format(source=source, bucket=BUCKET))
    proc = loadgen_run(scenario, "--results-dir", tmp_path / "results")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = f"uploaded 3 file(s), 0.0 MiB, {source} -> s3://{BUCKET}/runs/a; SHA-256 verified"
    assert proc.stderr.splitlines()[-2:] == ["  step 1 upload_to_s3", f"  {summary}"]
    assert proc.stderr.count(summary) == 1


def test_a_missing_region_names_the_step_key(aws, source, tmp_path):
    scenario = tmp_path / "one.yml"
    scenario.write_text(ONE_UPLOAD.format(source=source, bucket=BUCKET))
    proc = loadgen_run(scenario, "--results-dir", tmp_path / "results", "--quiet", AWS_DEFAULT_REGION=None)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"loadgen: error: {scenario}:4: jobs.archive.steps[0] (upload_to_s3, point1_rep1): "
                                  f"region: no region given and none configured; give e.g. region: us-east-1")
    assert "--region" not in proc.stderr  # `loadgen s3`'s option, not a step key


CLASH = """\
jobs:
  archive:
    steps:
      - method: download_from_s3
        url: s3://{bucket}/a
        local_directory: d
      - method: download_from_s3
        url: s3://{bucket}/b
        local_directory: d
"""


def test_a_download_never_overwrites_a_different_file(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="a/same.txt", Body=b"first\n")
    s3.put_object(Bucket=BUCKET, Key="b/same.txt", Body=b"second\n")
    scenario = tmp_path / "clash.yml"
    scenario.write_text(CLASH.format(bucket=BUCKET))
    results = tmp_path / "results"
    proc = loadgen_run(scenario, "--results-dir", results, "--quiet")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    where = f"{scenario}:7: jobs.archive.steps[1] (download_from_s3, point1_rep1)"
    assert proc.stderr.startswith(f"loadgen: error: {where}: "
                                  f"{results / 'd' / 'same.txt'} exists and differs from the S3 object; move it away "
                                  f"or give another local_directory")
    assert (results / "d" / "same.txt").read_bytes() == b"first\n"
