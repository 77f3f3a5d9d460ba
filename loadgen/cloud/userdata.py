"""The start command and EC2 user-data of a fleet's Locust master or worker.

One :class:`LaunchSpec` describes a role; :func:`locust_argv` is its Locust command line and
:func:`render_user_data` wraps it in a shell script that cloud-init runs at first boot. The
script installs a systemd unit (``loadgen.service``) whose output also goes to the serial
console, so ``loadgen fleet logs`` can read it with ``GetConsoleOutput`` -- no SSH needed.

Two ways to get the load generator onto the instance:

- ``image``: a stock Amazon Linux 2023 AMI; the script installs docker and runs the image
  built from ``docker/Dockerfile`` (entry point ``locust``) with host networking;
- no image: an AMI with the checkout at :data:`INSTALL_DIR` and its ``.venv`` (``--ami``);
  the unit runs ``INSTALL_DIR/.venv/bin/locust`` there. This is the same layout as a
  checkout after ``make setup``, which is what the local fleet test runs.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Sequence

from loadgen.errors import ConfigError

INSTALL_DIR = "/opt/jina-loadgen"
MASTER_PORT = 5557  # Locust's master bind port (one ZeroMQ port since Locust 2.0)
WEB_PORT = 8089
ROLES = ("master", "worker")
#: EC2 refuses user-data above 16 KiB (before base64).
USER_DATA_LIMIT = 16 * 1024
UNIT = "loadgen.service"


@dataclass(frozen=True, kw_only=True)
class LaunchSpec:
    """What one instance of a fleet runs.

    :param role: ``master`` or ``worker``.
    :param locustfile: path of the locustfile inside the checkout or image.
    :param host: the master's ``--host`` (the Flow's gateway URL); empty: the locustfile's
        embedded demo Flow, which needs ``.venv-flow`` on the master.
    :param master_ip: workers: the master's private IP address.
    :param master_port: the master's ZeroMQ port.
    :param web_port: the master's web UI port.
    :param bind_host: the master's bind address for both ports (``*``: all interfaces).
    :param processes: worker processes per worker instance (-1: one per core, 1: no fork).
    :param results_dir: the master's ``--results-dir``.
    :param locust_args: more master arguments, e.g. ``("--top-k", "5")``; workers receive
        the master's options from the master.
    :param image: container image to run; empty: run from :data:`INSTALL_DIR`.
    :param fleet_id: written into the script's header.
    """

    role: str
    locustfile: str
    host: str = ""
    master_ip: str = ""
    master_port: int = MASTER_PORT
    web_port: int = WEB_PORT
    bind_host: str = "*"
    processes: int = -1
    results_dir: str = "results/fleet"
    locust_args: tuple[str, ...] = ()
    image: str = ""
    fleet_id: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"role: {self.role!r} is neither master nor worker")
        if self.role == "worker" and not self.master_ip:
            raise ConfigError("a worker needs the master's private IP (master_ip)")
        if self.processes == 0 or self.processes < -1:
            raise ConfigError(f"processes: {self.processes}; use -1 (one per core) or a whole number >= 1")


def locust_argv(spec: LaunchSpec) -> list[str]:
    """The Locust command of ``spec`` (first item ``locust``).

    Example::

        >>> locust_argv(LaunchSpec(role="worker", locustfile="locustfiles/text.py", master_ip="10.0.0.5"))
        ['locust', '-f', 'locustfiles/text.py', '--worker', '--master-host', '10.0.0.5', '--master-port', '5557', '--processes', '-1']
    """
    argv = ["locust", "-f", spec.locustfile]
    if spec.role == "worker":
        argv += ["--worker", "--master-host", spec.master_ip, "--master-port", str(spec.master_port)]
        # --processes 1 would still fork one child under a supervising parent: leave it out
        return argv + (["--processes", str(spec.processes)] if spec.processes != 1 else [])
    argv += ["--master", "--master-bind-host", spec.bind_host, "--master-bind-port", str(spec.master_port),
             "--web-port", str(spec.web_port), "--results-dir", spec.results_dir]
    if spec.bind_host != "*":
        argv += ["--web-host", spec.bind_host]
    if spec.host:
        argv += ["--host", spec.host]
    return argv + list(spec.locust_args)


def exec_start(spec: LaunchSpec) -> tuple[str, list[str]]:
    """The working directory and command of the systemd unit."""
    argv = locust_argv(spec)
    if not spec.image:
        return INSTALL_DIR, [f"{INSTALL_DIR}/.venv/bin/locust", *argv[1:]]
    results = f"/var/lib/loadgen/{spec.results_dir.strip('/')}"  # created by _docker_install
    docker = ["/usr/bin/docker", "run", "--rm", "--name", "loadgen", "--network", "host",
              "-v", f"{results}:{INSTALL_DIR}/{spec.results_dir.strip('/')}", spec.image]
    return "/", docker + argv[1:]  # the image's entry point is `locust`


def systemd_quote(argv: Sequence[str]) -> str:
    """``argv`` as a systemd ``ExecStart=`` value: shell quoting, ``%`` and ``$`` doubled
    (systemd expands specifiers and variables in command lines)."""
    return shlex.join(argv).replace("%", "%%").replace("$", "$$")


def systemd_unquote(value: str) -> list[str]:
    """Inverse of :func:`systemd_quote` (used to run a rendered unit's command locally)."""
    return [arg.replace("%%", "%").replace("$$", "$") for arg in shlex.split(value)]


def render_user_data(spec: LaunchSpec) -> str:
    """The user-data shell script that starts ``spec`` at first boot.

    :raises ConfigError: when the script exceeds EC2's 16 KiB limit (``--locust-args``).
    """
    lines = [
        "#!/bin/bash",
        f"# jina-loadgen fleet {spec.fleet_id or '-'}: Locust {spec.role} (rendered by loadgen.cloud.userdata)",
        "set -euo pipefail",
        *(_docker_install(spec) if spec.image else []),
        f"cat > /etc/systemd/system/{UNIT} <<'UNIT'",
        *_unit(spec),
        "UNIT",
        "systemctl daemon-reload",
        f"systemctl enable --now {UNIT}",
        "",
    ]
    script = "\n".join(lines)
    if len(script.encode()) > USER_DATA_LIMIT:
        raise ConfigError(f"--locust-args: the {spec.role}'s user-data is {len(script.encode())} bytes; "
                          f"EC2 allows {USER_DATA_LIMIT}; shorten the arguments or use a --config file in the image")
    return script


def _unit(spec: LaunchSpec) -> list[str]:
    """The systemd unit that runs the role."""
    workdir, command = exec_start(spec)
    return [
        "[Unit]",
        f"Description=jina-loadgen Locust {spec.role}",
        "After=network-online.target" + (" docker.service" if spec.image else ""),
        "Wants=network-online.target",
        "[Service]",
        f"WorkingDirectory={workdir}",
        f"ExecStart={systemd_quote(command)}",
        # a worker that starts before its master retries; the console feeds `fleet logs`
        "Restart=on-failure",
        "RestartSec=5",
        "StandardOutput=journal+console",
        "StandardError=journal+console",
        "[Install]",
        "WantedBy=multi-user.target",
    ]


def _docker_install(spec: LaunchSpec) -> list[str]:
    results = shlex.quote(f"/var/lib/loadgen/{spec.results_dir.strip('/')}")
    return [
        "dnf install -y docker",
        "systemctl enable --now docker",
        # the image runs as uid 1000 (docker/Dockerfile): let it write the mounted results
        f"install -d -o 1000 -g 1000 {results}",
        # pull once here so that a wrong image name shows in the console log right away
        f"docker pull {shlex.quote(spec.image)}",
    ]


def unit_command(user_data: str) -> tuple[str, list[str]]:
    """The ``WorkingDirectory`` and ``ExecStart`` command of a rendered user-data script."""
    fields = dict(line.split("=", 1) for line in user_data.splitlines()
                  if line.startswith(("WorkingDirectory=", "ExecStart=")))
    return fields["WorkingDirectory"], systemd_unquote(fields["ExecStart"])
