"""The rendered start commands and user-data of a fleet's master and workers, and the small
pure helpers around them (worker counting, CIDRs, prices)."""
from __future__ import annotations

import pytest

from loadgen.cloud.ec2 import is_world, parse_cidr
from loadgen.cloud.pricing import cost_line, hourly_usd
from loadgen.cloud.userdata import (INSTALL_DIR, USER_DATA_LIMIT, LaunchSpec, locust_argv, render_user_data,
                                    systemd_quote, systemd_unquote, unit_command)
from loadgen.cloud.master_api import connected
from loadgen.errors import ConfigError

MASTER = LaunchSpec(role="master", locustfile="locustfiles/image.py", host="grpc://10.0.0.5:12345",
                    locust_args=("--top-k", "5", "--slo", "failures<1%"), fleet_id="lg-1a2b3c4d")
WORKER = LaunchSpec(role="worker", locustfile="locustfiles/image.py", master_ip="10.0.1.17", fleet_id="lg-1a2b3c4d")


def test_master_and_worker_commands():
    assert locust_argv(MASTER) == [
        "locust", "-f", "locustfiles/image.py", "--master", "--master-bind-host", "*", "--master-bind-port", "5557",
        "--web-port", "8089", "--results-dir", "results/fleet", "--host", "grpc://10.0.0.5:12345",
        "--top-k", "5", "--slo", "failures<1%"]
    assert locust_argv(WORKER) == ["locust", "-f", "locustfiles/image.py", "--worker", "--master-host", "10.0.1.17",
                                   "--master-port", "5557", "--processes", "-1"]
    loopback = LaunchSpec(role="worker", locustfile="x.py", master_ip="127.0.0.1", processes=1)
    assert "--processes" not in locust_argv(loopback)


@pytest.mark.parametrize("spec", [MASTER, WORKER])
def test_ami_user_data_runs_the_checkout_under_systemd(spec):
    script = render_user_data(spec)
    assert script.startswith("#!/bin/bash\n# jina-loadgen fleet lg-1a2b3c4d: Locust " + spec.role)
    assert "set -euo pipefail" in script and "systemctl enable --now loadgen.service" in script
    assert "StandardOutput=journal+console" in script and "docker" not in script
    workdir, command = unit_command(script)
    assert workdir == INSTALL_DIR and command == [f"{INSTALL_DIR}/.venv/bin/locust", *locust_argv(spec)[1:]]


def test_image_user_data_installs_docker_and_runs_the_image_on_the_host_network():
    script = render_user_data(LaunchSpec(role="master", locustfile="locustfiles/text.py", host="grpc://h:1",
                                         image="123.dkr.ecr.us-east-1.amazonaws.com/jina-loadgen:1"))
    assert "dnf install -y docker" in script and "docker pull 123.dkr.ecr.us-east-1.amazonaws.com/jina-loadgen:1" in script
    assert "install -d -o 1000 -g 1000 /var/lib/loadgen/results/fleet" in script
    _, command = unit_command(script)
    assert command[:6] == ["/usr/bin/docker", "run", "--rm", "--name", "loadgen", "--network"]
    image_at = command.index("123.dkr.ecr.us-east-1.amazonaws.com/jina-loadgen:1")
    assert command[image_at + 1:image_at + 3] == ["-f", "locustfiles/text.py"], "the image's entry point is locust"


def test_systemd_specifiers_are_escaped_and_round_trip():
    argv = ["locust", "--slo", "failures<1%", "--tag", "$HOME", "two words"]
    quoted = systemd_quote(argv)
    assert "%%" in quoted and "$$HOME" in quoted and systemd_unquote(quoted) == argv


def test_bad_specs_and_oversized_user_data():
    with pytest.raises(ConfigError, match="a worker needs the master's private IP"):
        LaunchSpec(role="worker", locustfile="x.py")
    with pytest.raises(ConfigError, match="neither master nor worker"):
        LaunchSpec(role="boss", locustfile="x.py")
    with pytest.raises(ConfigError, match="processes: 0"):
        LaunchSpec(role="worker", locustfile="x.py", master_ip="10.0.0.1", processes=0)
    huge = LaunchSpec(role="master", locustfile="x.py", locust_args=("--tag", "x" * USER_DATA_LIMIT))
    with pytest.raises(ConfigError, match="--locust-args: the master's user-data is .* bytes; EC2 allows 16384"):
        render_user_data(huge)


def test_workers_are_counted_per_host_or_per_process():
    stats = {"workers": [{"id": "ip-10-0-1-5_aa"}, {"id": "ip-10-0-1-5_bb"}, {"id": "ip-10-0-1-6_cc"}]}
    assert connected(stats, distinct_hosts=True) == 2 and connected(stats, distinct_hosts=False) == 3
    assert connected({"state": "ready"}, distinct_hosts=True) == 0


def test_cidrs_and_prices():
    assert parse_cidr("203.0.113.7") == "203.0.113.7/32" and parse_cidr("10.1.2.3/8") == "10.0.0.0/8"
    assert parse_cidr("2001:db8::1") == "2001:db8::1/128" and is_world("0.0.0.0/0") and not is_world("10.0.0.0/8")
    with pytest.raises(ConfigError, match="--allow-cidr: 'me' is not a CIDR block"):
        parse_cidr("me")
    assert hourly_usd("c6i.large", 3) == 0.255 and hourly_usd("x9.tiny", 1) is None
    assert "no price on file for x9.tiny" in cost_line("x9.tiny", 2) and "spot" in cost_line("c6i.large", 2, spot=True)
