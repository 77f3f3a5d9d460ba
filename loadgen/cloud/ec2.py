"""EC2 building blocks of a fleet: lookups, key pairs, the security group, launching,
finding by tag, terminating, console output; and who may reach the web UI.

Every call goes through :class:`loadgen.cloud.aws.Aws` (one region, or a dry-run
recorder) and :func:`loadgen.cloud.aws.aws_errors` (one-line errors). Nothing here
decides what a fleet is made of or what to undo: that is :mod:`loadgen.cloud.fleet`.

The fleet tag is the inventory: every resource is tagged ``loadgen:fleet=<id>`` at
creation (``TagSpecifications``), so :func:`find_fleets` finds it again; nothing is kept
in a local state file that could be lost.
"""
from __future__ import annotations

import ipaddress
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

from loadgen.cloud.aws import Aws, aws_errors
from loadgen.cloud.userdata import MASTER_PORT, WEB_PORT
from loadgen.errors import CloudError, ConfigError

FLEET_TAG = "loadgen:fleet"
ROLE_TAG = "loadgen:role"
GONE = ("terminated",)
POLL_S = 5.0  # seconds between describe calls while waiting; tests lower it
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
#: Answers with the caller's public IPv4 address as plain text.
CHECKIP_URL = "https://checkip.amazonaws.com"


@dataclass(frozen=True)
class Instance:
    """One EC2 instance of a fleet, as ``DescribeInstances`` shows it."""

    id: str
    role: str
    state: str
    instance_type: str
    private_ip: str = ""
    public_ip: str = ""
    spot: bool = False

    @classmethod
    def from_api(cls, data: dict) -> "Instance":
        tags = {t["Key"]: t["Value"] for t in data.get("Tags", [])}
        return cls(id=data["InstanceId"], role=tags.get(ROLE_TAG, "?"), state=data["State"]["Name"],
                   instance_type=data.get("InstanceType", "?"), private_ip=data.get("PrivateIpAddress", ""),
                   public_ip=data.get("PublicIpAddress", ""), spot=data.get("InstanceLifecycle") == "spot")


@dataclass
class FleetResources:
    """Everything tagged with one fleet id."""

    fleet_id: str
    instances: list[Instance] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)

    @property
    def live(self) -> list[Instance]:
        """Instances not terminated yet."""
        return [i for i in self.instances if i.state not in GONE]

    @property
    def master(self) -> Optional[Instance]:
        return next((i for i in self.live if i.role == "master"), None)

    @property
    def exists(self) -> bool:
        """True when anything at all carries the tag (terminated instances included)."""
        return bool(self.instances or self.security_groups or self.key_pairs)


# -- tags ----------------------------------------------------------------------------------


def tag_filter(key: str, value: Optional[str] = None) -> list[dict]:
    """An EC2 ``Filters`` list selecting resources tagged ``key`` (= ``value`` if given)."""
    if value is None:
        return [{"Name": "tag-key", "Values": [key]}]
    return [{"Name": f"tag:{key}", "Values": [value]}]


def tag_spec(resource: str, fleet_id: str, role: str = "") -> dict:
    """A ``TagSpecifications`` entry: the fleet tag, a ``Name`` and (for instances) the role."""
    name = f"loadgen-{fleet_id}" + (f"-{role}" if role else "")
    tags = [{"Key": FLEET_TAG, "Value": fleet_id}, {"Key": "Name", "Value": name}]
    if role:
        tags.append({"Key": ROLE_TAG, "Value": role})
    return {"ResourceType": resource, "Tags": tags}


# -- lookups -------------------------------------------------------------------------------


def default_vpc(aws: Aws) -> str:
    """The id of the region's default VPC. :raises ConfigError: the region has none."""
    with aws_errors("looking up the default VPC"):
        vpcs = aws.client("ec2").describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise ConfigError(f"--region: {aws.region} has no default VPC; create one (`aws ec2 create-default-vpc`) "
                          f"or pick another region")
    return vpcs[0]["VpcId"]


def architecture(aws: Aws, instance_type: str) -> str:
    """``arm64`` or ``x86_64``. :raises ConfigError: the type is not offered in the region."""
    with aws_errors(f"looking up instance type {instance_type}"):
        types = aws.client("ec2").describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
    if not types:
        raise ConfigError(f"--instance-type: {instance_type!r} is not offered in {aws.region}; use e.g. c6i.large")
    archs = types[0]["ProcessorInfo"]["SupportedArchitectures"]
    return "arm64" if "arm64" in archs and "x86_64" not in archs else "x86_64"


def al2023_ami(aws: Aws, arch: str) -> str:
    """The current Amazon Linux 2023 AMI of ``arch`` (from its public SSM parameter)."""
    with aws_errors("looking up the Amazon Linux 2023 AMI"):
        return aws.client("ssm").get_parameter(Name=AL2023_PARAMETER.format(arch=arch))["Parameter"]["Value"]


# -- key pairs -----------------------------------------------------------------------------


def has_key_pair(aws: Aws, name: str) -> bool:
    """True when the region has a key pair called ``name``."""
    with aws_errors(f"looking up key pair {name}"):
        return bool(aws.client("ec2").describe_key_pairs(Filters=[{"Name": "key-name", "Values": [name]}])["KeyPairs"])


def create_key_pair(aws: Aws, name: str, fleet_id: str) -> str:
    """Create (and tag) the key pair ``name``; returns its private key (empty in a dry run)."""
    with aws_errors(f"creating key pair {name}"):
        reply = aws.client("ec2").create_key_pair(KeyName=name, TagSpecifications=[tag_spec("key-pair", fleet_id)])
    return reply["KeyMaterial"]


def delete_key_pair(aws: Aws, name: str) -> None:
    """Delete the key pair ``name`` (EC2 answers success when it is gone already)."""
    with aws_errors(f"deleting key pair {name}"):
        aws.client("ec2").delete_key_pair(KeyName=name)


# -- the security group and who may reach the web UI ---------------------------------------


def parse_cidr(text: str) -> str:
    """``text`` as a normalised CIDR block; a bare address becomes ``/32`` (``/128``).

    :raises ConfigError: naming ``--allow-cidr`` when it is not an address or block.
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ConfigError(f"--allow-cidr: {text!r} is not a CIDR block; give your address as e.g. "
                          f"203.0.113.7/32") from None
    return str(network)


def caller_cidr(*, url: str = CHECKIP_URL, timeout_s: float = 5.0) -> str:
    """The caller's public address as a ``/32`` block, asked from ``url``.

    :raises ConfigError: when it cannot be told; the web UI is then never opened to the
        world by default, the user must say ``--allow-cidr``.
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            address = response.read(64).decode("ascii", "replace").strip()
        return str(ipaddress.ip_network(f"{ipaddress.ip_address(address)}"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--allow-cidr: cannot tell your public address ({url}: {exc}); give the block that may "
                          f"open the web UI, e.g. --allow-cidr 203.0.113.7/32") from None


def is_world(cidr: str) -> bool:
    """True for ``0.0.0.0/0`` or ``::/0`` (the Locust UI has no login by default)."""
    return ipaddress.ip_network(cidr).prefixlen == 0


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


def create_security_group(aws: Aws, fleet_id: str, vpc: str) -> str:
    """Create the fleet's (tagged, still closed) security group; returns its id."""
    with aws_errors("creating the security group"):
        return aws.client("ec2").create_security_group(
            GroupName=f"loadgen-{fleet_id}", VpcId=vpc, TagSpecifications=[tag_spec("security-group", fleet_id)],
            Description=f"jina-loadgen fleet {fleet_id}: Locust master/worker")["GroupId"]


def open_ports(aws: Aws, group: str, cidr: str, *, ssh: bool) -> None:
    """Authorize :func:`ingress_rules` on ``group``."""
    with aws_errors("opening the security group's ports"):
        rules = ingress_rules(group, cidr, ssh=ssh)
        aws.client("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=rules)


def delete_security_group(aws: Aws, group: str, *, timeout_s: float) -> bool:
    """Delete ``group``; retries while EC2 still sees it in use (network interfaces of
    terminated instances detach a little later). False when it was gone already."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            aws.client("ec2").delete_security_group(GroupId=group)
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "InvalidGroup.NotFound":
                return False
            if code != "DependencyViolation" or time.monotonic() > deadline:
                with aws_errors(f"deleting security group {group}"):
                    raise
        time.sleep(POLL_S)


# -- instances -----------------------------------------------------------------------------


def run_instances(aws: Aws, params: dict[str, Any], *, role: str) -> list[Instance]:
    """``RunInstances`` with ``params`` (``MinCount`` = ``MaxCount``: all or nothing)."""
    count = params["MinCount"]
    with aws_errors(f"launching the {role}{'s' if count > 1 else ''}"):
        reply = aws.client("ec2").run_instances(**params)
    return [Instance(id=i["InstanceId"], role=role, state=i["State"]["Name"], instance_type=params["InstanceType"],
                     private_ip=i.get("PrivateIpAddress", "")) for i in reply["Instances"]]


def wait_running(aws: Aws, ids: list[str], *, timeout_s: float) -> list[Instance]:
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


def terminate(aws: Aws, ids: list[str], *, timeout_s: float) -> list[str]:
    """Terminate ``ids`` and wait until they are gone. :raises CloudError: still there at the deadline."""
    ec2 = aws.client("ec2")
    with aws_errors("terminating the fleet's instances"):
        ec2.terminate_instances(InstanceIds=ids)
    deadline = time.monotonic() + timeout_s
    while True:
        with aws_errors("waiting for the instances to terminate"):
            pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
            states = {i["InstanceId"]: i["State"]["Name"] for p in pages for r in p["Reservations"]
                      for i in r["Instances"]}
        waiting = sorted(i for i, state in states.items() if state not in GONE)
        if not waiting:
            return ids
        if time.monotonic() > deadline:
            raise CloudError(f"instances still not terminated after {timeout_s:g} s: {', '.join(waiting)}; "
                             f"run `loadgen fleet down` again")
        time.sleep(POLL_S)


def find_fleets(aws: Aws, fleet_id: Optional[str] = None) -> dict[str, FleetResources]:
    """Resources carrying the fleet tag (of ``fleet_id`` only, if given), by fleet id."""
    ec2 = aws.client("ec2")
    filters = tag_filter(FLEET_TAG, fleet_id)
    fleets: dict[str, FleetResources] = {}

    def of(tags: list[dict]) -> FleetResources:
        fid = next(t["Value"] for t in tags if t["Key"] == FLEET_TAG)
        return fleets.setdefault(fid, FleetResources(fid))

    with aws_errors("listing the fleet's instances"):
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page["Reservations"]:
                for data in reservation["Instances"]:
                    of(data.get("Tags", [])).instances.append(Instance.from_api(data))
    with aws_errors("listing the fleet's security groups"):
        for group in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]:
            of(group.get("Tags", [])).security_groups.append(group["GroupId"])
    with aws_errors("listing the fleet's key pairs"):
        for pair in ec2.describe_key_pairs(Filters=filters)["KeyPairs"]:
            of(pair.get("Tags", [])).key_pairs.append(pair["KeyName"])
    return fleets


def console_output(aws: Aws, instance_id: str) -> str:
    """The instance's latest console output; older (non-Nitro) types only keep a buffer
    captured at boot, and refuse ``Latest``."""
    from botocore.exceptions import ClientError

    ec2 = aws.client("ec2")
    with aws_errors(f"reading the console of {instance_id}"):
        try:
            return ec2.get_console_output(InstanceId=instance_id, Latest=True).get("Output", "")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "UnsupportedOperation":
                raise
            return ec2.get_console_output(InstanceId=instance_id).get("Output", "")
