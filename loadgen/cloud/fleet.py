"""``loadgen fleet up``: one Locust master and N workers on EC2, gone again on failure.

Steps, each one tagged ``loadgen:fleet=<id>`` at creation: look up the default VPC, the
instance type's architecture and (with ``--image``) the current Amazon Linux 2023 AMI;
create the key pair if asked for a new one; create a security group that opens the
master's ZeroMQ port (5557) only to the group itself and the web UI (8089) only to
``--allow-cidr``; launch the master, then the workers with the master's private IP in their
user-data (:mod:`loadgen.cloud.userdata`); wait until they run and, unless ``--no-wait``,
until the master's web API lists every worker. Any failure or Ctrl-C on the way deletes
what was created (:func:`loadgen.cloud.inventory.teardown`) before the error is raised.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from loadgen.cloud import webui
from loadgen.cloud.aws import Aws, aws_errors
from loadgen.errors import CloudError, ConfigError
from loadgen.cloud.inventory import FLEET_TAG, GONE, POLL_S, ROLE_TAG, Created, Instance, check_fleet_id, teardown
from loadgen.cloud.network import is_world, parse_cidr
from loadgen.cloud.pricing import cost_line
from loadgen.cloud.userdata import MASTER_PORT, WEB_PORT, LaunchSpec, render_user_data
from loadgen.config import TargetConfig

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
MAX_WORKERS = 200
_KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")


def new_fleet_id() -> str:
    """A fresh fleet id such as ``lg-1a2b3c4d``."""
    return f"lg-{secrets.token_hex(4)}"


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    """What ``fleet up`` launches.

    :param allow_cidr: the block that may open the web UI (and SSH with a key pair);
        required here, the CLI defaults it to the caller's address.
    :param workers: worker instances (each runs one Locust worker per core).
    :param instance_type: EC2 type of the master and the workers.
    :param locustfile: path inside the image or the AMI's checkout.
    :param host: the Flow's gateway URL for the master's ``--host``.
    :param ami: an AMI with the checkout and ``.venv`` at ``/opt/jina-loadgen``.
    :param image: a container image built from ``docker/Dockerfile`` (on Amazon Linux 2023).
    :param key_name: an EC2 key pair for SSH; created (and its ``.pem`` written to
        ``key_dir``) when the region has none of that name.
    :param spot: one-time spot instances instead of on-demand.
    :param wait: wait until every worker has connected to the master.
    :param worker_timeout_s: how long to wait for that.
    :param worker_processes: Locust worker processes per worker instance (-1: one per core).
    :param locust_args: more arguments for the master's ``locust`` command.
    :param fleet_id: the tag value of everything created (default: a new id).
    :param key_dir: where a created key pair's private key goes.
    """

    allow_cidr: str
    workers: int = 2
    instance_type: str = "c6i.large"
    locustfile: str = "locustfiles/image.py"
    host: str = ""
    ami: str = ""
    image: str = ""
    key_name: str = ""
    spot: bool = False
    wait: bool = True
    worker_timeout_s: float = 600.0
    worker_processes: int = -1
    locust_args: tuple[str, ...] = ()
    fleet_id: str = field(default_factory=new_fleet_id)
    key_dir: Path = field(default_factory=lambda: Path.home() / ".ssh")

    def __post_init__(self) -> None:
        parse_cidr(self.allow_cidr)
        check_fleet_id(self.fleet_id)
        if not isinstance(self.workers, int) or not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers: {self.workers!r}; give a whole number from 1 to {MAX_WORKERS}")
        if bool(self.ami) == bool(self.image):
            raise ConfigError("--image or --ami: give exactly one: --image REPO:TAG (built from docker/Dockerfile "
                              "and pushed, e.g. to ECR) or --ami ami-... (loadgen installed at /opt/jina-loadgen)")
        if self.host:
            TargetConfig.from_url(self.host)  # raises ConfigError naming --host
        elif self.image:
            raise ConfigError("--host: the load generator image has no demo Flow; give the gateway of the Flow "
                              "under test, e.g. --host grpc://10.0.0.5:12345")
        if not self.locustfile.endswith(".py"):
            raise ConfigError(f"--locustfile: {self.locustfile!r} is not a .py file; e.g. locustfiles/image.py")
        if self.key_name and not _KEY_NAME.fullmatch(self.key_name):
            raise ConfigError(f"--key-name: {self.key_name!r}; use letters, digits, '.', '_' and '-'")
        if not self.worker_timeout_s > 0:
            raise ConfigError(f"--worker-timeout: must be > 0 seconds, got {self.worker_timeout_s}")

    def spec(self, role: str, master_ip: str = "") -> LaunchSpec:
        """The :class:`LaunchSpec` of ``role`` in this fleet."""
        return LaunchSpec(role=role, locustfile=self.locustfile, host=self.host, master_ip=master_ip,
                          processes=self.worker_processes, results_dir=f"results/fleet-{self.fleet_id}",
                          locust_args=self.locust_args, image=self.image, fleet_id=self.fleet_id)


@dataclass(frozen=True)
class FleetUp:
    """A launched fleet."""

    fleet_id: str
    region: str
    master: Instance
    workers: list[Instance]
    security_group: str
    ui_url: str
    connected: Optional[int] = None  # workers seen by the master; None without waiting


WaitFor = Callable[..., int]


def fleet_up(config: FleetConfig, *, aws: Aws, out: Callable[[str], Any] = print,
             wait_for: Optional[WaitFor] = None) -> FleetUp:
    """Launch the fleet; on any failure (Ctrl-C included) delete what was created, then raise.

    :param wait_for: ``(ui_url, expected, *, timeout_s, out) -> int``; default
        :func:`loadgen.cloud.webui.wait_for_workers`.
    :raises ConfigError: bad input found by AWS (instance type, no default VPC).
    :raises CloudError: quotas, permissions, instances that die, workers that never connect.
    """
    created = Created()
    dry = " (dry run: every call is printed, nothing is created)" if aws.dry_run else ""
    out(f"fleet {config.fleet_id}: 1 master + {config.workers} worker(s), {config.instance_type}, {aws.region}{dry}")
    try:
        return _launch(config, aws, created, out, wait_for or webui.wait_for_workers)
    except BaseException as exc:
        if not aws.dry_run:
            _rollback(config, aws, created, out, exc)
        raise


def _launch(config: FleetConfig, aws: Aws, created: Created, out: Callable, wait_for: WaitFor) -> FleetUp:
    vpc = _default_vpc(aws)
    ami = config.ami or _al2023_ami(aws, _architecture(aws, config.instance_type))
    key = _key_pair(aws, config, created, out) if config.key_name else ""
    group = _security_group(aws, config, vpc, created, out, ssh=bool(key))
    master = _run(aws, config, config.spec("master"), 1, ami=ami, group=group, key=key, created=created)[0]
    out(f"launched master {master.id}")
    spec = config.spec("worker", master_ip=master.private_ip)
    workers = _run(aws, config, spec, config.workers, ami=ami, group=group, key=key, created=created)
    out(f"launched {len(workers)} worker(s): {', '.join(w.id for w in workers)}")
    if aws.dry_run:
        out(f"[dry-run] then: wait until the instances run and {config.workers} worker(s) connect to the master")
        out(cost_line(config.instance_type, 1 + config.workers, spot=config.spot))
        return FleetUp(config.fleet_id, aws.region, master, workers, group, f"http://<master public ip>:{WEB_PORT}")
    master, *workers = _wait_running(aws, [master.id, *(w.id for w in workers)], timeout_s=config.worker_timeout_s)
    ui_url = f"http://{master.public_ip}:{WEB_PORT}"
    out(f"instances running; web UI will be at {ui_url} (open to {parse_cidr(config.allow_cidr)})")
    connected = None
    if config.wait:
        out(f"waiting up to {config.worker_timeout_s:g} s for {config.workers} worker(s) to connect ...")
        connected = wait_for(ui_url, config.workers, timeout_s=config.worker_timeout_s, out=out)
    up = FleetUp(config.fleet_id, aws.region, master, workers, group, ui_url, connected)
    out(summary(up, config))
    return up


def summary(up: FleetUp, config: FleetConfig) -> str:
    """What ``fleet up`` prints at the end: URL, instances, cost, how to stop it."""
    return "\n".join([
        f"fleet {up.fleet_id} is up in {up.region}",
        f"  web UI   {up.ui_url}",
        f"  master   {up.master.id} (private {up.master.private_ip})",
        f"  workers  {', '.join(w.id for w in up.workers)}",
        f"  {cost_line(config.instance_type, 1 + len(up.workers), spot=config.spot)}",
        f"  stop it  loadgen fleet down --fleet-id {up.fleet_id} --region {up.region}",
    ])


def _tags(resource: str, config: FleetConfig, role: str = "") -> dict:
    name = f"loadgen-{config.fleet_id}" + (f"-{role}" if role else "")
    tags = [{"Key": FLEET_TAG, "Value": config.fleet_id}, {"Key": "Name", "Value": name}]
    if role:
        tags.append({"Key": ROLE_TAG, "Value": role})
    return {"ResourceType": resource, "Tags": tags}


def _default_vpc(aws: Aws) -> str:
    with aws_errors("looking up the default VPC"):
        vpcs = aws.client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise ConfigError(f"--region: {aws.region} has no default VPC; create one (`aws ec2 create-default-vpc`) "
                          f"or pick another region")
    return vpcs[0]["VpcId"]


def _architecture(aws: Aws, instance_type: str) -> str:
    with aws_errors(f"looking up instance type {instance_type}"):
        types = aws.client("ec2").describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
    if not types:
        raise ConfigError(f"--instance-type: {instance_type!r} is not offered in {aws.region}; use e.g. c6i.large")
    archs = types[0]["ProcessorInfo"]["SupportedArchitectures"]
    return "arm64" if "arm64" in archs and "x86_64" not in archs else "x86_64"


def _al2023_ami(aws: Aws, arch: str) -> str:
    with aws_errors("looking up the Amazon Linux 2023 AMI"):
        return aws.client("ssm").get_parameter(Name=AL2023_PARAMETER.format(arch=arch))["Parameter"]["Value"]


def _key_pair(aws: Aws, config: FleetConfig, created: Created, out: Callable) -> str:
    """Use the key pair ``--key-name`` if the region has it, else create it (tagged) and
    write its private key to ``key_dir/<name>.pem`` (mode 0600; never printed)."""
    ec2, name = aws.client("ec2"), config.key_name
    with aws_errors(f"looking up key pair {name}"):
        if ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [name]}])["KeyPairs"]:
            out(f"using key pair {name}")
            return name
    pem = config.key_dir / f"{name}.pem"
    if pem.exists():
        raise ConfigError(f"--key-name: {pem} exists but {aws.region} has no key pair {name!r}; "
                          f"pick another name or import the key")
    with aws_errors(f"creating key pair {name}"):
        material = ec2.create_key_pair(KeyName=name, TagSpecifications=[_tags("key-pair", config)])["KeyMaterial"]
    created.key_pairs.append(name)
    if material:  # empty in a dry run
        _write_private(pem, material)
        created.key_files.append(pem)
        out(f"created key pair {name}; private key in {pem}")
    return name


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(text)


def ingress_rules(group: str, cidr: str, *, ssh: bool) -> list[dict]:
    """5557 from the group itself (workers to master), 8089 (and 22 with a key pair) from ``cidr``."""
    ranges = {"Ipv6Ranges": [{"CidrIpv6": cidr}]} if ":" in cidr else {"IpRanges": [{"CidrIp": cidr}]}
    rules = [
        {"IpProtocol": "tcp", "FromPort": MASTER_PORT, "ToPort": MASTER_PORT,
         "UserIdGroupPairs": [{"GroupId": group, "Description": "Locust workers to master"}]},
        {"IpProtocol": "tcp", "FromPort": WEB_PORT, "ToPort": WEB_PORT, **ranges},
    ]
    if ssh:
        rules.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, **ranges})
    return rules


def _security_group(aws: Aws, config: FleetConfig, vpc: str, created: Created, out: Callable, *, ssh: bool) -> str:
    ec2, cidr = aws.client("ec2"), parse_cidr(config.allow_cidr)
    with aws_errors("creating the security group"):
        group = ec2.create_security_group(
            GroupName=f"loadgen-{config.fleet_id}", VpcId=vpc, TagSpecifications=[_tags("security-group", config)],
            Description=f"jina-loadgen fleet {config.fleet_id}: Locust master/worker")["GroupId"]
    created.security_groups.append(group)
    with aws_errors("opening the security group's ports"):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ingress_rules(group, cidr, ssh=ssh))
    out(f"created security group {group}: {MASTER_PORT} within the fleet, {WEB_PORT}{' and 22' if ssh else ''} "
        f"from {cidr}")
    if is_world(cidr):
        out(f"warning: --allow-cidr {cidr} opens the Locust web UI (no login) to the whole internet")
    return group


def _run(aws: Aws, config: FleetConfig, spec: LaunchSpec, count: int, *, ami: str, group: str, key: str,
         created: Created) -> list[Instance]:
    params: dict[str, Any] = dict(
        ImageId=ami, InstanceType=config.instance_type, MinCount=count, MaxCount=count,  # all or nothing
        SecurityGroupIds=[group], UserData=render_user_data(spec), InstanceInitiatedShutdownBehavior="terminate",
        MetadataOptions={"HttpTokens": "required"},  # IMDSv2 only
        TagSpecifications=[_tags("instance", config, spec.role), _tags("volume", config, spec.role)],
    )
    if key:
        params["KeyName"] = key
    if config.spot:
        params["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": {
            "SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}}
    with aws_errors(f"launching the {spec.role}{'s' if count > 1 else ''}"):
        reply = aws.client("ec2").run_instances(**params)
    ids = [i["InstanceId"] for i in reply["Instances"]]
    created.instances.extend(ids)
    return [Instance(id=i["InstanceId"], role=spec.role, state=i["State"]["Name"], instance_type=config.instance_type,
                     private_ip=i.get("PrivateIpAddress", "")) for i in reply["Instances"]]


def _wait_running(aws: Aws, ids: list[str], *, timeout_s: float) -> list[Instance]:
    """The instances, in ``ids`` order, once all run. :raises CloudError: one died or timed out."""
    ec2, deadline = aws.client("ec2"), time.monotonic() + timeout_s
    while True:
        with aws_errors("waiting for the instances to run"):
            pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
            found = {i["InstanceId"]: i for p in pages for r in p["Reservations"] for i in r["Instances"]}
        dead = [i for i in found.values() if i["State"]["Name"] in (*GONE, "shutting-down", "stopped")]
        if dead:
            reason = dead[0].get("StateReason", {}).get("Message", dead[0]["State"]["Name"])
            raise CloudError(f"instance {dead[0]['InstanceId']} stopped while starting: {reason}")
        if len(found) == len(ids) and all(i["State"]["Name"] == "running" for i in found.values()):
            return [Instance.from_api(found[i]) for i in ids]
        if time.monotonic() > deadline:
            raise CloudError(f"the instances were not running after {timeout_s:g} s; see the EC2 console")
        time.sleep(POLL_S)


def _rollback(config: FleetConfig, aws: Aws, created: Created, out: Callable, exc: BaseException) -> None:
    what = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed ({exc})"
    out(f"fleet up {what}; rolling back fleet {config.fleet_id} ...")
    try:
        with _interrupts_deferred():
            out(teardown(aws, config.fleet_id, known=created, out=out).line())
    except Exception as problem:  # keep the original error; say what is left and how to delete it
        out(f"ROLLBACK INCOMPLETE ({problem}); delete the rest with: "
            f"loadgen fleet down --fleet-id {config.fleet_id} --region {aws.region}")


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ignore Ctrl-C while rolling back: a second Ctrl-C would leave resources behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

