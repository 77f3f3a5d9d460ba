"""argv of ``loadgen fleet`` and ``loadgen s3``: the edge where options and environment
variables are read; every command is one call into :mod:`loadgen.cloud`.

:func:`add_commands` hangs the two commands under ``loadgen``'s sub-parsers; handlers
return the exit code (0, 1 runtime, 2 usage, 130 interrupted). Nothing here imports boto3:
``loadgen --help`` works without the ``aws`` extra.
"""
from __future__ import annotations

import argparse
import functools
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from loadgen.errors import ConfigError

say = functools.partial(print, flush=True)


def add_commands(commands: Any) -> None:
    """Add ``fleet`` and ``s3`` to ``loadgen``'s sub-parsers."""
    _add_fleet(commands)
    _add_s3(commands)


def _add_fleet(commands: Any) -> None:
    fleet = commands.add_parser("fleet", help="a Locust master + N workers on EC2 (docs/distributed.md)")
    actions = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    _add_fleet_up(actions)
    status = actions.add_parser("status", help="list the fleets of a region")
    status.add_argument("--fleet-id", default="", help="only this fleet")
    _region(status)
    status.set_defaults(handler=fleet_status_command)
    down = actions.add_parser("down", help="delete a fleet's instances, security group and key pair")
    which = down.add_mutually_exclusive_group()
    which.add_argument("--fleet-id", default="", help="the fleet to delete")
    which.add_argument("--all", action="store_true", help="every fleet of the region")
    _region(down)
    down.set_defaults(handler=fleet_down_command)
    logs = actions.add_parser("logs", help="console output of a fleet's instances")
    logs.add_argument("--fleet-id", default="", help="the fleet (default: the region's only fleet)")
    logs.add_argument("--role", choices=("all", "master", "worker"), default="all", help="whose logs (default: all)")
    _region(logs)
    logs.set_defaults(handler=fleet_logs_command)


def _add_fleet_up(actions: Any) -> None:
    up = actions.add_parser("up", help="launch a fleet; prints the web UI URL and the hourly cost")
    up.add_argument("--workers", type=int, default=2, help="worker instances (default: 2)")
    up.add_argument("--instance-type", default="c6i.large", help="EC2 instance type (default: c6i.large)")
    up.add_argument("--locustfile", default="locustfiles/image.py", help="locustfile (default: locustfiles/image.py)")
    up.add_argument("--host", default="", help="the Flow's gateway, e.g. grpc://10.0.0.5:12345")
    source = up.add_mutually_exclusive_group()
    source.add_argument("--image", default="", help="container image built from docker/Dockerfile (env LOADGEN_IMAGE)")
    source.add_argument("--ami", default="", help="an AMI with loadgen installed at /opt/jina-loadgen")
    up.add_argument("--key-name", default="", help="EC2 key pair for SSH (created if the region has none)")
    up.add_argument("--allow-cidr", default="", help="who may open the web UI (default: your public address/32)")
    up.add_argument("--spot", action="store_true", help="one-time spot instances")
    up.add_argument("--no-wait", action="store_true", help="do not wait for the workers to connect")
    up.add_argument("--worker-timeout", type=float, default=600.0, help="seconds to wait for them (default: 600)")
    up.add_argument("--locust-args", default="", help="more master arguments, e.g. \"--top-k 5 --request-size 4\"")
    up.add_argument("--dry-run", action="store_true", help="print every AWS API call instead of making it")
    _region(up)
    up.set_defaults(handler=fleet_up_command)


def _add_s3(commands: Any) -> None:
    s3 = commands.add_parser("s3", help="copy results directories to and from S3 (checksums verified)")
    actions = s3.add_subparsers(dest="s3_command", required=True, metavar="ACTION")
    upload = actions.add_parser("upload", help="upload DIR to s3://bucket/prefix")
    upload.add_argument("local", metavar="DIR")
    upload.add_argument("url", metavar="S3_URL")
    _region(upload)
    upload.set_defaults(handler=s3_command)
    download = actions.add_parser("download", help="download s3://bucket/prefix into DIR")
    download.add_argument("url", metavar="S3_URL")
    download.add_argument("local", metavar="DIR")
    download.add_argument("--overwrite", action="store_true", help="replace local files whose content differs")
    _region(download)
    download.set_defaults(handler=s3_command)


def _region(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default="", help="AWS region (default: AWS_REGION / your AWS config)")


def fleet_up_command(args: argparse.Namespace) -> int:
    """``loadgen fleet up``."""
    from loadgen.cloud.aws import Aws
    from loadgen.cloud.ec2 import CHECKIP_URL, caller_cidr
    from loadgen.cloud.fleet import fleet_up
    from loadgen.cloud.fleet_config import FleetConfig

    _check_locustfile(args.locustfile)
    aws = Aws(region=args.region, dry_run=args.dry_run, out=say)
    cidr = args.allow_cidr or caller_cidr(url=os.environ.get("LOADGEN_CHECKIP_URL", CHECKIP_URL))
    try:
        locust_args = tuple(shlex.split(args.locust_args))
    except ValueError as exc:
        raise ConfigError(f"--locust-args: {exc}; quote it like a shell command line") from None
    config = FleetConfig(
        allow_cidr=cidr, workers=args.workers, instance_type=args.instance_type, locustfile=args.locustfile,
        host=args.host, ami=args.ami, image=args.image or ("" if args.ami else os.environ.get("LOADGEN_IMAGE", "")),
        key_name=args.key_name, spot=args.spot,
        wait=not args.no_wait, worker_timeout_s=args.worker_timeout, locust_args=locust_args)
    try:
        fleet_up(config, aws=aws, out=say)
    except KeyboardInterrupt:
        print(f"loadgen: interrupted; fleet {config.fleet_id} was rolled back", file=sys.stderr, flush=True)
        return 130
    return 0


def _check_locustfile(path: str) -> None:
    """The instances run the same path inside the image or checkout: catch typos before
    paying for instances."""
    from loadgen.home import project_root

    if not (Path(path).is_file() or (project_root() / path).is_file()):
        raise ConfigError(f"--locustfile: no {path} in this checkout; use e.g. locustfiles/image.py")


def fleet_status_command(args: argparse.Namespace) -> int:
    """``loadgen fleet status``."""
    from loadgen.cloud.aws import Aws
    from loadgen.cloud.ec2 import find_fleets
    from loadgen.cloud.fleet import render_status
    from loadgen.cloud.fleet_config import check_fleet_id

    aws = Aws(region=args.region)
    fleets = find_fleets(aws, check_fleet_id(args.fleet_id) if args.fleet_id else None)
    say(render_status(fleets, region=aws.region))
    return 1 if args.fleet_id and not fleets else 0


def fleet_down_command(args: argparse.Namespace) -> int:
    """``loadgen fleet down``: idempotent; an unknown fleet id exits 1."""
    from loadgen.cloud.aws import Aws
    from loadgen.cloud.fleet import fleet_down

    aws = Aws(region=args.region)
    try:
        fleet_down(aws, fleet_id=args.fleet_id, all_fleets=args.all, out=say)
    except KeyboardInterrupt:  # safe to repeat: what is gone is skipped
        print(f"loadgen: interrupted; run `loadgen fleet down {'--all' if args.all else '--fleet-id ' + args.fleet_id}"
              f" --region {aws.region}` again to finish", file=sys.stderr, flush=True)
        return 130
    return 0


def fleet_logs_command(args: argparse.Namespace) -> int:
    """``loadgen fleet logs``."""
    from loadgen.cloud.aws import Aws
    from loadgen.cloud.ec2 import find_fleets
    from loadgen.cloud.fleet import fleet_logs

    aws = Aws(region=args.region)
    fleet_id = args.fleet_id
    if not fleet_id:
        live = sorted(fid for fid, found in find_fleets(aws).items() if found.live)
        if len(live) != 1:
            raise ConfigError(f"--fleet-id: {aws.region} has {len(live)} running fleets "
                              f"({', '.join(live) or 'none'}); say which")
        fleet_id = live[0]
    for instance, text in fleet_logs(aws, fleet_id, role=args.role):
        say(f"===== {instance.role} {instance.id} ({instance.state}) =====\n{text.rstrip()}\n")
    return 0


def s3_command(args: argparse.Namespace) -> int:
    """``loadgen s3 upload DIR URL`` and ``loadgen s3 download URL DIR``."""
    from loadgen.cloud.aws import Aws
    from loadgen.cloud.s3 import S3Url, TransferOptions, download_dir, upload_dir

    url = S3Url.parse(args.url)
    aws = Aws(region=args.region)
    if args.s3_command == "upload":
        upload_dir(Path(args.local), url, aws=aws, out=say)
    else:
        download_dir(url, Path(args.local), aws=aws, options=TransferOptions(overwrite=args.overwrite), out=say)
    return 0
