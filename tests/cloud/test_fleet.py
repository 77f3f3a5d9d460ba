"""``loadgen fleet`` against a moto server on loopback: resources, tags, ingress rules,
teardown, rollback after injected failures, and the one-line errors of bad input."""
from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from loadgen.cli import main
from loadgen.cloud import ec2 as ec2_module, fleet as fleet_module
from loadgen.cloud.aws import Aws
from loadgen.errors import CloudError
from loadgen.cloud.ec2 import FLEET_TAG
from loadgen.cloud.fleet import fleet_up
from loadgen.cloud.fleet_config import FleetConfig
from loadgen.cloud.master_api import wait_for_workers

from .conftest import DUMMY_KEY_ID, DUMMY_SECRET, REGION, cli_env

HOST = "grpc://10.0.0.5:12345"
CIDR = "203.0.113.7/32"
UP = ["fleet", "up", "--workers", "2", "--instance-type", "c6i.large", "--region", REGION, "--host", HOST,
      "--image", "registry.example/jina-loadgen:1", "--allow-cidr", CIDR]


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setattr(ec2_module, "POLL_S", 0.05)


def ec2():
    return boto3.client("ec2", region_name=REGION)


def tagged(fleet_id=None):
    """(live instances, security groups, key pairs) carrying the fleet tag."""
    filters = [{"Name": f"tag:{FLEET_TAG}", "Values": [fleet_id]}] if fleet_id else [
        {"Name": "tag-key", "Values": [FLEET_TAG]}]
    client = ec2()
    instances = [i for r in client.describe_instances(Filters=filters)["Reservations"] for i in r["Instances"]
                 if i["State"]["Name"] != "terminated"]
    groups = client.describe_security_groups(Filters=filters)["SecurityGroups"]
    pairs = client.describe_key_pairs(Filters=filters)["KeyPairs"]
    return instances, groups, pairs


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def fleet_id_of(out: str) -> str:
    return out.split()[1].rstrip(":")


def up(capsys, *extra):
    code = main([*UP, "--no-wait", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return fleet_id_of(out), out


def test_fleet_up_creates_exactly_the_expected_resources(aws, capsys):
    fleet_id, out = up(capsys, "--key-name", "lg-test-key")
    instances, groups, pairs = tagged(fleet_id)
    roles = sorted(tags(i)["loadgen:role"] for i in instances)
    assert roles == ["master", "worker", "worker"]
    assert {i["InstanceType"] for i in instances} == {"c6i.large"}
    assert all(tags(i)[FLEET_TAG] == fleet_id and tags(i)["Name"].startswith(f"loadgen-{fleet_id}") for i in instances)
    assert [tags(g)[FLEET_TAG] for g in groups] == [fleet_id] and [p["KeyName"] for p in pairs] == ["lg-test-key"]
    assert all(i["SecurityGroups"][0]["GroupId"] == groups[0]["GroupId"] and i["KeyName"] == "lg-test-key"
               for i in instances)
    rules = {(r["FromPort"], tuple(p["GroupId"] for p in r["UserIdGroupPairs"]),
              tuple(c["CidrIp"] for c in r["IpRanges"])) for r in groups[0]["IpPermissions"]}
    assert rules == {(5557, (groups[0]["GroupId"],), ()), (8089, (), (CIDR,)), (22, (), (CIDR,))}
    pem = Path(aws["HOME"]) / ".ssh" / "lg-test-key.pem"
    assert pem.read_text().startswith("-----BEGIN") and pem.stat().st_mode & 0o777 == 0o600
    assert f"loadgen fleet down --fleet-id {fleet_id} --region {REGION}" in out and "cost: about $0.26/hour" in out
    assert DUMMY_SECRET not in out and DUMMY_KEY_ID not in out


def test_worker_user_data_points_at_the_master(aws, capsys):
    fleet_id, _ = up(capsys)
    instances, _, _ = tagged(fleet_id)
    master = next(i for i in instances if tags(i)["loadgen:role"] == "master")
    client = ec2()
    for instance in instances:
        data = client.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="userData")
        script = base64.b64decode(data["UserData"]["Value"]).decode()
        assert script.startswith("#!/bin/bash") and "docker pull registry.example/jina-loadgen:1" in script
        if tags(instance)["loadgen:role"] == "worker":
            assert f"--worker --master-host {master['PrivateIpAddress']} --master-port 5557" in script
        else:
            assert "--master " in script and f"--host {HOST}" in script and "--web-port 8089" in script
        assert DUMMY_SECRET not in script and DUMMY_KEY_ID not in script


def test_waiting_polls_the_masters_public_address(aws):
    seen = {}

    def wait_for(url, expected, *, timeout_s, out):
        seen.update(url=url, expected=expected)
        return expected

    config = FleetConfig(allow_cidr=CIDR, workers=3, host=HOST, image="img:1", worker_timeout_s=30)
    result = fleet_up(config, aws=Aws(region=REGION), out=lambda line: None, wait_for=wait_for)
    assert seen == {"url": f"http://{result.master.public_ip}:8089", "expected": 3} and result.connected == 3
    assert result.master.public_ip and all(w.state == "running" for w in result.workers)


def test_status_logs_down_and_down_again(aws, capsys):
    fleet_id, _ = up(capsys, "--key-name", "lg-k2")
    assert main(["fleet", "status", "--region", REGION]) == 0
    status = capsys.readouterr().out
    assert f"fleet {fleet_id} ({REGION})" in status and "workers  2/2 running" in status
    assert main(["fleet", "logs", "--region", REGION]) == 0  # the region's only fleet
    logs = capsys.readouterr().out
    assert logs.count("===== worker") == 2 and logs.index("===== master") < logs.index("===== worker")
    assert main(["fleet", "down", "--fleet-id", fleet_id, "--region", REGION]) == 0
    down = capsys.readouterr().out
    assert f"fleet {fleet_id}: deleted 3 instance(s), 1 security group(s), 1 key pair(s)" in down
    assert tagged() == ([], [], [])
    assert main(["fleet", "down", "--fleet-id", fleet_id, "--region", REGION]) == 0, "idempotent"
    assert f"fleet {fleet_id} is already down" in capsys.readouterr().out


def test_down_all_deletes_every_fleet(aws, capsys):
    first, _ = up(capsys)
    second, _ = up(capsys, "--workers", "1")
    assert main(["fleet", "down", "--all", "--region", REGION]) == 0
    out = capsys.readouterr().out
    assert f"fleet {first}: deleted 3 instance(s)" in out and f"fleet {second}: deleted 2 instance(s)" in out
    assert tagged() == ([], [], [])
    assert main(["fleet", "down", "--all", "--region", REGION]) == 0


def test_down_of_an_unknown_fleet_says_so_and_exits_1(aws, capsys):
    assert main(["fleet", "down", "--fleet-id", "lg-00000000", "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no fleet 'lg-00000000' in us-east-1" in err


class _FailingEc2:
    """The real EC2 client, except that the ``fail_at``-th call of ``operation`` (counted
    over every client of the test) raises ``error``."""

    def __init__(self, client, operation, fail_at, error, calls):
        self.client, self.operation, self.fail_at, self.error, self.calls = client, operation, fail_at, error, calls

    def __getattr__(self, name):
        attribute = getattr(self.client, name)
        if name != self.operation:
            return attribute

        def call(**params):
            self.calls.append(name)
            if len(self.calls) == self.fail_at:
                raise self.error
            return attribute(**params)
        return call


def inject(monkeypatch, operation, fail_at, error):
    real, calls = Aws.client, []

    def client(self, service):
        made = real(self, service)
        return _FailingEc2(made, operation, fail_at, error, calls) if service == "ec2" else made

    monkeypatch.setattr(Aws, "client", client)


def quota_error():
    return ClientError({"Error": {"Code": "VcpuLimitExceeded", "Message": "You have requested more vCPU capacity"}},
                       "RunInstances")


def test_a_quota_error_half_way_rolls_back_everything(aws, capsys, monkeypatch):
    inject(monkeypatch, "run_instances", 2, quota_error())  # the master launches, the workers do not
    assert main([*UP, "--no-wait", "--key-name", "lg-rollback"]) == 1
    out, err = capsys.readouterr()
    assert "AWS quota reached (VcpuLimitExceeded" in err and "fewer --workers" in err and err.count("\n") == 1
    assert "rolling back" in out and "deleted 1 instance(s), 1 security group(s), 1 key pair(s)" in out
    assert tagged() == ([], [], [])
    assert not (Path(aws["HOME"]) / ".ssh" / "lg-rollback.pem").exists(), "the key file of the rolled back pair"


def interrupt(*args, **kwargs):
    """Stands in for the user's Ctrl-C while ``fleet up`` waits for its workers."""
    raise KeyboardInterrupt


def test_ctrl_c_while_waiting_rolls_back_and_exits_130(aws, capsys, monkeypatch):
    monkeypatch.setattr(fleet_module.master_api, "wait_for_workers", interrupt)
    assert main(UP) == 130
    out, err = capsys.readouterr()
    assert "fleet up interrupted; rolling back" in out and "was rolled back" in err
    assert tagged() == ([], [], [])


def test_a_worker_that_never_connects_times_out_and_rolls_back(aws, http_stub):
    master_api = http_stub({"workers": [{"id": "ip-10-0-0-7_3f2a"}], "state": "ready"})  # 1 of 2 connected
    lines = []

    def wait_for(url, expected, *, timeout_s, out):
        return wait_for_workers(master_api, expected, timeout_s=1.0, interval_s=0.1, out=out)

    config = FleetConfig(allow_cidr=CIDR, workers=2, host=HOST, image="img:1")
    with pytest.raises(CloudError, match="workers did not connect within 1 s: 1 of 2 workers connected"):
        fleet_up(config, aws=Aws(region=REGION), out=lines.append, wait_for=wait_for)
    assert any("rolling back" in line for line in lines) and tagged() == ([], [], [])


def test_a_failure_during_the_rollback_names_the_cleanup_command(aws, monkeypatch):
    inject(monkeypatch, "terminate_instances", 1, ClientError({"Error": {"Code": "InternalError", "Message": "x"}},
                                                              "TerminateInstances"))
    monkeypatch.setattr(fleet_module.master_api, "wait_for_workers", interrupt)
    lines = []
    config = FleetConfig(allow_cidr=CIDR, workers=1, host=HOST, image="img:1")
    with pytest.raises(KeyboardInterrupt):
        fleet_up(config, aws=Aws(region=REGION), out=lines.append)
    assert any("ROLLBACK INCOMPLETE" in line and f"loadgen fleet down --fleet-id {config.fleet_id}" in line
               for line in lines)
    fleet_module.fleet_down(Aws(region=REGION), fleet_id=config.fleet_id, out=lambda line: None)
    assert tagged() == ([], [], [])


def test_dry_run_prints_every_call_and_creates_nothing(aws, capsys, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)  # a dry run needs no credentials
    assert main([*UP, "--dry-run", "--key-name", "lg-dry"]) == 0
    out = capsys.readouterr().out
    calls = re.findall(r"^\[dry-run\] (\w+\.\w+)\(", out, flags=re.M)
    assert calls == ["ec2.describe_vpcs", "ec2.describe_instance_types", "ssm.get_parameter", "ec2.describe_key_pairs",
                     "ec2.create_key_pair", "ec2.create_security_group", "ec2.authorize_security_group_ingress",
                     "ec2.run_instances", "ec2.run_instances"]
    assert '"MinCount":2' in out and "bytes of user-data>" in out
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
    assert tagged() == ([], [], [])


def test_the_callers_address_is_the_default_allow_cidr(aws, capsys, monkeypatch, http_stub):
    monkeypatch.setenv("LOADGEN_CHECKIP_URL", http_stub(b"198.51.100.23\n", "text/plain"))
    fleet_id, _ = up(capsys, "--allow-cidr", "")
    _, groups, _ = tagged(fleet_id)
    web = next(r for r in groups[0]["IpPermissions"] if r["FromPort"] == 8089)
    assert [c["CidrIp"] for c in web["IpRanges"]] == ["198.51.100.23/32"]


@pytest.mark.parametrize("args, needle", [
    (["--allow-cidr", "10.0.0.300/8"], "--allow-cidr: '10.0.0.300/8' is not a CIDR block"),
    (["--allow-cidr", ""], "--allow-cidr: cannot tell your public address"),
    (["--region", "mars-north-1"], "--region: unknown AWS region 'mars-north-1'"),
    (["--workers", "0"], "--workers: 0; give a whole number from 1 to 200"),
    (["--image", ""], "--image or --ami: give exactly one"),
    (["--host", "ftp://x:1"], "--host: unsupported scheme 'ftp'"),
    (["--instance-type", "c6i.gigantic"], "--instance-type: The following supplied instance types do not exist"),
    (["--locustfile", "locustfiles/nope.py"], "--locustfile: no locustfiles/nope.py in this checkout"),
    (["--fleet-id-typo"], None),
])
def test_bad_input_is_one_line_and_exit_2_and_creates_nothing(aws, capsys, args, needle):
    if needle is None:
        with pytest.raises(SystemExit) as stop:  # argparse's own usage error
            main([*UP, *args])
        assert stop.value.code == 2
        return
    assert main([*UP, "--no-wait", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err
    assert tagged() == ([], [], [])


def test_no_credentials_is_a_one_line_usage_error(aws, tmp_path):
    env = cli_env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    proc = subprocess.run([sys.executable, "-m", "loadgen", *UP], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("loadgen: error: no AWS credentials found")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_refused_permissions_name_the_iam_policy(aws, capsys, monkeypatch):
    denied = ClientError({"Error": {"Code": "UnauthorizedOperation",
                                    "Message": f"You are not authorized ({DUMMY_KEY_ID})"}}, "CreateSecurityGroup")
    inject(monkeypatch, "create_security_group", 1, denied)
    assert main([*UP, "--no-wait"]) == 1
    err = capsys.readouterr().err
    assert "AWS refused it (UnauthorizedOperation" in err and "docs/distributed.md" in err
    assert DUMMY_KEY_ID not in err and "<access key id>" in err
