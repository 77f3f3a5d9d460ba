"""Security of ``loadgen fleet`` and of S3 datasets, against the moto server of conftest.py.

The security group, read back with ``describe_security_groups``: the master's ZeroMQ port
only from the group itself, the web UI (and SSH with a key pair) only from ``--allow-cidr``,
nothing else, and the world only when asked for (with a warning). Credentials -- in
``--host``, ``--locust-args`` and the AWS variables -- stay out of what ``fleet up`` prints
and of everything a Locust run with an ``s3://`` dataset prints and writes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from loadgen.cli import main
from loadgen.cloud import ec2 as ec2_module
from loadgen.cloud.ec2 import FLEET_TAG
from loadgen.ports import free_port

from .conftest import DUMMY_KEY_ID, DUMMY_SECRET, REGION, cli_env

ROOT = Path(__file__).resolve().parents[2]
CIDR = "203.0.113.7/32"
HOST_PASSWORD, TOKEN = "fleet-host-pw-4c3b2a", "fleet-bearer-token-1f0e9d"
UP = ["fleet", "up", "--workers", "1", "--region", REGION, "--image", "registry.example/jina-loadgen:1",
      "--host", f"grpc://tester:{HOST_PASSWORD}@10.0.0.5:12345", "--no-wait",
      "--locust-args", f"--header 'Authorization: Bearer {TOKEN}'"]
SECRETS = (HOST_PASSWORD, TOKEN, DUMMY_SECRET, DUMMY_KEY_ID)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(ec2_module, "POLL_S", 0.05)


def _rules(fleet_id: str) -> tuple[str, list[dict]]:
    """The fleet's security group id and its ingress rules."""
    ec2 = boto3.client("ec2", region_name=REGION)
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": f"tag:{FLEET_TAG}", "Values": [fleet_id]}])["SecurityGroups"]
    return group["GroupId"], group["IpPermissions"]


def _flat(rules: list[dict]) -> set[tuple]:
    """Each rule as ``(protocol, from, to, groups, IPv4 blocks, IPv6 blocks)``."""
    return {(r["IpProtocol"], r["FromPort"], r["ToPort"], tuple(p["GroupId"] for p in r.get("UserIdGroupPairs", [])),
             tuple(c["CidrIp"] for c in r.get("IpRanges", [])), tuple(c["CidrIpv6"] for c in r.get("Ipv6Ranges", [])))
            for r in rules}


def _up(capsys, *extra) -> tuple[str, str]:
    assert main([*UP, *extra]) == 0
    out = capsys.readouterr().out
    return out.split()[1].rstrip(":"), out


@pytest.mark.parametrize("cidr, key, ranges", [
    (CIDR, False, ((CIDR,), ())),
    ("2001:db8::7", True, ((), ("2001:db8::7/128",))),
], ids=["ipv4-no-key", "ipv6-key-pair"])
def test_the_security_group_opens_exactly_the_documented_ports(aws, capsys, cidr, key, ranges):
    fleet_id, out = _up(capsys, "--allow-cidr", cidr, *(["--key-name", "lg-sec"] if key else []))
    group, rules = _rules(fleet_id)
    expected = {("tcp", 5557, 5557, (group,), (), ()), ("tcp", 8089, 8089, (), *ranges)}
    if key:
        expected.add(("tcp", 22, 22, (), *ranges))
    assert _flat(rules) == expected  # no 5558, nothing else, SSH only with a key pair
    assert "whole internet" not in out


def test_the_world_is_opened_only_when_asked_and_with_a_warning(aws, capsys):
    fleet_id, out = _up(capsys, "--allow-cidr", "0.0.0.0/0")
    group, rules = _rules(fleet_id)
    assert _flat(rules) == {("tcp", 5557, 5557, (group,), (), ()), ("tcp", 8089, 8089, (), ("0.0.0.0/0",), ())}
    assert "warning: --allow-cidr 0.0.0.0/0 opens the Locust web UI (no login) to the whole internet" in out


def test_fleet_up_prints_no_credential(aws, capsys):
    _, out = _up(capsys, "--allow-cidr", CIDR)
    assert main([*UP, "--allow-cidr", CIDR, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "[dry-run] ec2.run_instances(" in dry
    assert [s for s in SECRETS if s in out + dry] == []
    assert main([*UP, "--host", f"grpc://tester:{HOST_PASSWORD}@10.0.0.5:99999", "--allow-cidr", CIDR]) == 2
    err = capsys.readouterr().err
    assert "--host: bad port in 'grpc://tester:***@10.0.0.5:99999'" in err and HOST_PASSWORD not in err


def test_a_run_with_an_s3_dataset_writes_no_aws_credential(aws, tmp_path):
    """The dataset is read with the environment's credentials (boto3), then every request
    meets a closed port; nothing the run prints or writes holds a credential."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="sec-data")
    s3.put_object(Bucket="sec-data", Key="texts/a.jsonl",
                  Body="\n".join(json.dumps({"text": f"doc {i}"}) for i in range(4)).encode())
    results = tmp_path / "results"
    argv = [str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/text.py", "--headless", "-u", "1",
            "-r", "1", "-t", "2s", "--host", f"grpc://tester:{HOST_PASSWORD}@127.0.0.1:{free_port()}",
            "--skip-host-check", "--timeout", "1", "--dataset", "s3://sec-data/texts",
            "--dataset-cache", str(tmp_path / "cache"), "--results-dir", str(results),
            "--csv", str(results / "locust"), "--logfile", str(results / "locust.log")]
    proc = subprocess.run(argv, cwd=ROOT, env=cli_env(PYTHONUNBUFFERED="1"), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr[-2000:]  # every request failed: connect
    summary = json.loads((results / "summary.json").read_text())
    assert summary["dataset"]["count"] == 4 and set(summary["failures"]) == {"connect"}
    written = {str(p): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}
    assert {"summary.json", "report.html", "locust.log"} <= {Path(p).name for p in written}
    everything = proc.stdout.encode() + proc.stderr.encode() + b"".join(written.values())
    assert [s for s in SECRETS if s.encode() in everything] == []
