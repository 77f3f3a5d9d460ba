"""What carries a fleet's tag: listing (``fleet status``), console logs (``fleet logs``)
and deletion (``fleet down`` and ``fleet up``'s rollback).

Every resource ``fleet up`` creates is tagged at creation (``TagSpecifications``), so the
tag is the fleet's inventory: nothing is kept in a local state file that could be lost.
Rollback also passes the ids it was handed (:class:`Created`), because a resource created a
moment ago may not show in a tag query yet (EC2 describe calls are eventually consistent).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from loadgen.cloud.aws import Aws, aws_errors, tag_filter
from loadgen.errors import CloudError, ConfigError
from loadgen.cloud.pricing import cost_line

FLEET_TAG = "loadgen:fleet"
ROLE_TAG = "loadgen:role"
GONE = ("terminated",)
POLL_S = 5.0  # between describe calls while waiting; tests lower it
_FLEET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


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
class Created:
    """Ids of what one ``fleet up`` created so far, in creation order (rollback's ledger)."""

    instances: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)
    key_files: list[Path] = field(default_factory=list)


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


@dataclass
class Teardown:
    """What ``fleet down`` (or a rollback) deleted."""

    fleet_id: str
    instances: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{len(self.instances)} instance(s)", f"{len(self.security_groups)} security group(s)",
                 f"{len(self.key_pairs)} key pair(s)"]
        return f"fleet {self.fleet_id}: deleted {', '.join(parts)}"


def check_fleet_id(fleet_id: str) -> str:
    """:raises ConfigError: naming ``--fleet-id`` when it cannot be a fleet id."""
    if not _FLEET_ID.fullmatch(fleet_id or ""):
        raise ConfigError(f"--fleet-id: {fleet_id!r} is not a fleet id; `loadgen fleet status` lists them "
                          f"(e.g. lg-1a2b3c4d)")
    return fleet_id


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


def teardown(aws: Aws, fleet_id: str, *, known: Optional[Created] = None, out: Callable[[str], Any] = print,
             timeout_s: float = 600.0) -> Teardown:
    """Delete everything tagged ``fleet_id`` plus the ``known`` ids: instances first (a
    security group in use cannot be deleted), then security groups, then key pairs.
    Idempotent: what is gone already is skipped.
    """
    known = known or Created()
    found = find_fleets(aws, fleet_id).get(fleet_id, FleetResources(fleet_id))
    done = Teardown(fleet_id)
    ids = sorted({i.id for i in found.live} | set(known.instances))
    if ids:
        out(f"terminating {len(ids)} instance(s): {', '.join(ids)}")
        done.instances = _terminate(aws, ids, timeout_s=timeout_s)
    for group in _unique(known.security_groups + found.security_groups):
        if _delete_group(aws, group, timeout_s=timeout_s):
            out(f"deleted security group {group}")
            done.security_groups.append(group)
    for name in _unique(known.key_pairs + found.key_pairs):
        with aws_errors(f"deleting key pair {name}"):
            aws.client("ec2").delete_key_pair(KeyName=name)
        out(f"deleted key pair {name}")
        done.key_pairs.append(name)
    for path in known.key_files:  # written by this very run: useless without the key pair
        path.unlink(missing_ok=True)
    return done


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _terminate(aws: Aws, ids: list[str], *, timeout_s: float) -> list[str]:
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


def _delete_group(aws: Aws, group: str, *, timeout_s: float) -> bool:
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


def fleet_down(aws: Aws, *, fleet_id: str = "", all_fleets: bool = False,
               out: Callable[[str], Any] = print) -> list[Teardown]:
    """``fleet down``: delete one fleet (``fleet_id``) or every fleet of the region.

    :raises ConfigError: neither or both of ``fleet_id`` and ``all_fleets``.
    :raises CloudError: ``fleet_id`` names no fleet in the region.
    """
    if bool(fleet_id) == all_fleets:
        raise ConfigError("fleet down: give --fleet-id ID (see `loadgen fleet status`) or --all")
    fleets = find_fleets(aws, check_fleet_id(fleet_id) if fleet_id else None)
    if fleet_id and fleet_id not in fleets:
        raise CloudError(f"fleet down: no fleet {fleet_id!r} in {aws.region} (nothing is tagged "
                         f"{FLEET_TAG}={fleet_id}); `loadgen fleet status --region REGION` lists the fleets")
    reports = []
    for fid, found in sorted(fleets.items()):
        if not (found.live or found.security_groups or found.key_pairs):
            out(f"fleet {fid} is already down: nothing left to delete")
            continue
        report = teardown(aws, fid, out=out)
        out(report.line())
        reports.append(report)
    if not fleets:
        out(f"no fleets in {aws.region}")
    return reports


def render_status(fleets: dict[str, FleetResources], *, region: str, web_port: int = 8089) -> str:
    """One block per fleet: master, workers, web UI, cost (terminated fleets say so)."""
    if not fleets:
        return f"no fleets in {region}"
    blocks = []
    for fid, found in sorted(fleets.items()):
        if not found.live:
            blocks.append(f"fleet {fid} ({region}): down (terminated instances only)")
            continue
        master, workers = found.master, [i for i in found.live if i.role == "worker"]
        running = sum(w.state == "running" for w in workers)
        lines = [f"fleet {fid} ({region})",
                 f"  master   {master.id} {master.state} {master.public_ip or '-'}" if master else "  master   none",
                 f"  workers  {running}/{len(workers)} running",
                 f"  web UI   http://{master.public_ip}:{web_port}" if master and master.public_ip else "  web UI   -",
                 f"  {cost_line(found.live[0].instance_type, len(found.live), spot=found.live[0].spot)}",
                 f"  stop it  loadgen fleet down --fleet-id {fid} --region {region}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def fleet_logs(aws: Aws, fleet_id: str, *, role: str = "all") -> list[tuple[Instance, str]]:
    """The console output (user-data and ``loadgen.service`` lines) of the fleet's live
    instances, master first.

    :raises CloudError: when the fleet has no live instance.
    """
    found = find_fleets(aws, check_fleet_id(fleet_id)).get(fleet_id)
    instances = [i for i in (found.live if found else []) if role in ("all", i.role)]
    if not instances:
        raise CloudError(f"fleet logs: fleet {fleet_id!r} has no running {'' if role == 'all' else role + ' '}"
                         f"instance in {aws.region}; `loadgen fleet status` lists the fleets")
    logs = []
    for instance in sorted(instances, key=lambda i: (i.role != "master", i.id)):
        text = _console(aws, instance.id)
        logs.append((instance, text or "(no console output yet; it appears a few minutes after boot)"))
    return logs


def _console(aws: Aws, instance_id: str) -> str:
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
