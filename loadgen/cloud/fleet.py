"""``loadgen fleet up|down|status|logs``: one Locust master and N workers on EC2, gone
again on failure; what carries a fleet's tag, listed, read and deleted.

``fleet up``, each step tagged ``loadgen:fleet=<id>`` at creation: look up the default VPC,
the instance type's architecture and (with ``--image``) the current Amazon Linux 2023 AMI;
create the key pair if asked for a new one; create a security group that opens the
master's ZeroMQ port (5557) only to the group itself and the web UI (8089) only to
``--allow-cidr``; launch the master, then the workers with the master's private IP in their
user-data (:mod:`loadgen.cloud.userdata`); wait until they run and, unless ``--no-wait``,
until the master's web API lists every worker (:mod:`loadgen.cloud.master_api`). Any
failure or Ctrl-C on the way deletes what was created (:func:`teardown`) before the error
is raised.

The tag is the fleet's inventory (:func:`loadgen.cloud.ec2.find_fleets`): nothing is kept in
a local state file that could be lost. Rollback also passes the ids it was handed
(:class:`Created`), because a resource created a moment ago may not show in a tag query yet
(EC2 describe calls are eventually consistent). The EC2 calls themselves are in
:mod:`loadgen.cloud.ec2`.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from loadgen.cloud import ec2, master_api
from loadgen.cloud.aws import Aws
from loadgen.cloud.ec2 import FLEET_TAG, FleetResources, Instance, is_world, parse_cidr
from loadgen.cloud.fleet_config import FleetConfig, check_fleet_id
from loadgen.cloud.pricing import cost_line
from loadgen.cloud.userdata import MASTER_PORT, WEB_PORT, LaunchSpec, render_user_data
from loadgen.errors import CloudError, ConfigError


@dataclass
class Created:
    """Ids of what one ``fleet up`` created so far, in creation order (rollback's ledger)."""

    instances: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    key_pairs: list[str] = field(default_factory=list)
    key_files: list[Path] = field(default_factory=list)


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
        :func:`loadgen.cloud.master_api.wait_for_workers`.
    :raises ConfigError: bad input found by AWS (instance type, no default VPC).
    :raises CloudError: quotas, permissions, instances that die, workers that never connect.
    """
    created = Created()
    dry = " (dry run: every call is printed, nothing is created)" if aws.dry_run else ""
    out(f"fleet {config.fleet_id}: 1 master + {config.workers} worker(s), {config.instance_type}, {aws.region}{dry}")
    try:
        return _launch(config, aws, created, out, wait_for or master_api.wait_for_workers)
    except BaseException as exc:
        if not aws.dry_run:
            _rollback(config, aws, created, out, exc)
        raise


def _launch(config: FleetConfig, aws: Aws, created: Created, out: Callable, wait_for: WaitFor) -> FleetUp:
    vpc = ec2.default_vpc(aws)
    ami = config.ami or ec2.al2023_ami(aws, ec2.architecture(aws, config.instance_type))
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
    master, *workers = ec2.wait_running(aws, [master.id, *(w.id for w in workers)], timeout_s=config.worker_timeout_s)
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


def _key_pair(aws: Aws, config: FleetConfig, created: Created, out: Callable) -> str:
    """Use the key pair ``--key-name`` if the region has it, else create it (tagged) and
    write its private key to ``key_dir/<name>.pem`` (mode 0600; never printed)."""
    name = config.key_name
    if ec2.has_key_pair(aws, name):
        out(f"using key pair {name}")
        return name
    pem = config.key_dir / f"{name}.pem"
    if pem.exists():
        raise ConfigError(f"--key-name: {pem} exists but {aws.region} has no key pair {name!r}; "
                          f"pick another name or import the key")
    material = ec2.create_key_pair(aws, name, config.fleet_id)
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


def _security_group(aws: Aws, config: FleetConfig, vpc: str, created: Created, out: Callable, *, ssh: bool) -> str:
    cidr = parse_cidr(config.allow_cidr)
    group = ec2.create_security_group(aws, config.fleet_id, vpc)
    created.security_groups.append(group)
    ec2.open_ports(aws, group, cidr, ssh=ssh)
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
        TagSpecifications=[ec2.tag_spec("instance", config.fleet_id, spec.role),
                           ec2.tag_spec("volume", config.fleet_id, spec.role)],
    )
    if key:
        params["KeyName"] = key
    if config.spot:
        params["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": {
            "SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}}
    instances = ec2.run_instances(aws, params, role=spec.role)
    created.instances.extend(i.id for i in instances)
    return instances


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


def teardown(aws: Aws, fleet_id: str, *, known: Optional[Created] = None, out: Callable[[str], Any] = print,
             timeout_s: float = 600.0) -> Teardown:
    """Delete everything tagged ``fleet_id`` plus the ``known`` ids: instances first (a
    security group in use cannot be deleted), then security groups, then key pairs.
    Idempotent: what is gone already is skipped.
    """
    known = known or Created()
    found = ec2.find_fleets(aws, fleet_id).get(fleet_id, FleetResources(fleet_id))
    done = Teardown(fleet_id)
    ids = sorted({i.id for i in found.live} | set(known.instances))
    if ids:
        out(f"terminating {len(ids)} instance(s): {', '.join(ids)}")
        done.instances = ec2.terminate(aws, ids, timeout_s=timeout_s)
    for group in _unique(known.security_groups + found.security_groups):
        if ec2.delete_security_group(aws, group, timeout_s=timeout_s):
            out(f"deleted security group {group}")
            done.security_groups.append(group)
    for name in _unique(known.key_pairs + found.key_pairs):
        ec2.delete_key_pair(aws, name)
        out(f"deleted key pair {name}")
        done.key_pairs.append(name)
    for path in known.key_files:  # written by this very run: useless without the key pair
        path.unlink(missing_ok=True)
    return done


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def fleet_down(aws: Aws, *, fleet_id: str = "", all_fleets: bool = False,
               out: Callable[[str], Any] = print) -> list[Teardown]:
    """``fleet down``: delete one fleet (``fleet_id``) or every fleet of the region.

    :raises ConfigError: neither or both of ``fleet_id`` and ``all_fleets``.
    :raises CloudError: ``fleet_id`` names no fleet in the region.
    """
    if bool(fleet_id) == all_fleets:
        raise ConfigError("fleet down: give --fleet-id ID (see `loadgen fleet status`) or --all")
    fleets = ec2.find_fleets(aws, check_fleet_id(fleet_id) if fleet_id else None)
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


def render_status(fleets: dict[str, FleetResources], *, region: str, web_port: int = WEB_PORT) -> str:
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
    found = ec2.find_fleets(aws, check_fleet_id(fleet_id)).get(fleet_id)
    instances = [i for i in (found.live if found else []) if role in ("all", i.role)]
    if not instances:
        raise CloudError(f"fleet logs: fleet {fleet_id!r} has no running {'' if role == 'all' else role + ' '}"
                         f"instance in {aws.region}; `loadgen fleet status` lists the fleets")
    logs = []
    for instance in sorted(instances, key=lambda i: (i.role != "master", i.id)):
        text = ec2.console_output(aws, instance.id)
        logs.append((instance, text or "(no console output yet; it appears a few minutes after boot)"))
    return logs
