"""What ``loadgen fleet up`` launches: :class:`FleetConfig`, checked when it is made, and
the fleet ids that tag everything a fleet creates (``lg-1a2b3c4d``)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from loadgen.cloud.ec2 import parse_cidr
from loadgen.cloud.userdata import LaunchSpec
from loadgen.config import TargetConfig
from loadgen.errors import ConfigError

MAX_WORKERS = 200
_KEY_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}")
_FLEET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


def new_fleet_id() -> str:
    """A fresh fleet id such as ``lg-1a2b3c4d``."""
    return f"lg-{secrets.token_hex(4)}"


def check_fleet_id(fleet_id: str) -> str:
    """:raises ConfigError: naming ``--fleet-id`` when it cannot be a fleet id."""
    if not _FLEET_ID.fullmatch(fleet_id or ""):
        raise ConfigError(f"--fleet-id: {fleet_id!r} is not a fleet id; `loadgen fleet status` lists them "
                          f"(e.g. lg-1a2b3c4d)")
    return fleet_id


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
