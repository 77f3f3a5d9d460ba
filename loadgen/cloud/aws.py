"""boto3 at the edge of loadgen: clients of one region, error translation, dry runs.

boto3 is imported inside functions, never at module level, so that ``import loadgen`` and
``loadgen --help`` work without the ``aws`` extra. Credentials come only from boto3's
standard chain (environment, ``~/.aws``, SSO, instance role); this module never reads,
prints or stores them, and scrubs access key ids from AWS error messages. boto3 itself
honours ``AWS_ENDPOINT_URL`` (the tests point it at a moto server on loopback).
"""
from __future__ import annotations

import contextlib
import json
import re
from typing import Any, Callable, Iterator

from loadgen.errors import CloudError, ConfigError

#: Error codes that mean "an account limit was reached": runtime errors with a quota hint.
QUOTA_CODES = frozenset({
    "InstanceLimitExceeded", "VcpuLimitExceeded", "MaxSpotInstanceCountExceeded", "InsufficientInstanceCapacity",
    "SecurityGroupLimitExceeded", "RulesPerSecurityGroupLimitExceeded", "KeyPairLimitExceeded",
    "SpotMaxPriceTooLow", "ResourceLimitExceeded",
})
#: Error codes that mean "these credentials may not do that" (EC2, SSM and S3's own).
PERMISSION_CODES = frozenset({
    "AuthFailure", "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "ExpiredToken", "RequestExpired", "OptInRequired",
    "AllAccessDisabled", "InvalidAccessKeyId", "InvalidToken", "403",
})
_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b")


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ConfigError("boto3 is not installed: pip install 'jina-loadgen[aws]' (or `make setup`)") from None
    return boto3


class Aws:
    """The AWS clients of one region; with ``dry_run`` a recorder that prints each call.

    :param region: region name; empty means boto3's configured default (``AWS_REGION``,
        ``AWS_DEFAULT_REGION``, ``~/.aws/config``).
    :param dry_run: print every call instead of making it; needs no credentials and
        makes no network call.
    :param out: where dry-run lines go (``print`` by default).
    :raises ConfigError: unknown region, no region configured, boto3 missing, or (real
        runs) no credentials.
    """

    def __init__(self, *, region: str = "", dry_run: bool = False, out: Callable[[str], Any] = print):
        self.dry_run, self.out = dry_run, out
        self._clients: dict[str, Any] = {}
        self._session = _boto3().session.Session(region_name=region or None)
        self.region = resolve_region(self._session, region)  # offline: botocore's own region list
        if not dry_run and self._session.get_credentials() is None:
            raise ConfigError("no AWS credentials found: configure them with `aws configure`, AWS_PROFILE, "
                              "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role (boto3's standard chain)")

    def client(self, service: str) -> Any:
        """A (cached) client of ``service``, or a :class:`DryRunClient` in a dry run."""
        if service not in self._clients:
            if self.dry_run:
                self._clients[service] = DryRunClient(service, self.out)
            else:
                # standard retry mode: exponential backoff with jitter on throttling and 5xx
                from botocore.config import Config

                config = Config(retries={"max_attempts": 5, "mode": "standard"})
                self._clients[service] = self._session.client(service, config=config)
        return self._clients[service]


def resolve_region(session: Any, region: str) -> str:
    """``region`` checked against botocore's region list, or the configured default.

    :raises ConfigError: naming ``--region`` when it is unknown or missing.
    """
    name = region or session.region_name
    if not name:
        raise ConfigError("--region: no region given and none configured; give e.g. --region us-east-1 "
                          "(or set AWS_REGION)")
    known = {r for partition in session.get_available_partitions()
             for r in session.get_available_regions("ec2", partition_name=partition)}
    if known and name not in known:
        close = sorted(r for r in known if r.split("-")[0] == name.split("-")[0])[:4] or ["us-east-1", "eu-west-1"]
        raise ConfigError(f"--region: unknown AWS region {name!r}; use e.g. {', '.join(close)}")
    return name


def scrub(text: str) -> str:
    """``text`` with anything that looks like an access key id replaced."""
    return _ACCESS_KEY.sub("<access key id>", text)


@contextlib.contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore exceptions raised while doing ``action`` into one-line errors.

    :raises ConfigError: missing credentials or region, an invalid instance type.
    :raises CloudError: quotas, permissions, unreachable endpoints, any other API error.
    """
    from botocore import exceptions as bx

    try:
        yield
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise ConfigError("no AWS credentials found: configure them with `aws configure`, AWS_PROFILE or an "
                          "instance role (boto3's standard chain)") from None
    except bx.NoRegionError:
        raise ConfigError("--region: no region given and none configured; give e.g. --region us-east-1") from None
    except bx.EndpointConnectionError as exc:
        raise CloudError(f"{action}: cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}; "
                         f"check --region, your network and AWS_ENDPOINT_URL if set") from None
    except bx.ClientError as exc:
        raise client_error(action, exc) from None


def error_parts(exc: Any) -> tuple[str, str]:
    """``(code, message)`` of a botocore ``ClientError``, access key ids scrubbed."""
    error = exc.response.get("Error", {})
    return str(error.get("Code", "Unknown")), scrub(str(error.get("Message", "")).strip())


def client_error(action: str, exc: Any) -> Exception:
    """The one-line error for a botocore ``ClientError`` raised by ``action``."""
    code, message = error_parts(exc)
    if code in QUOTA_CODES:
        return CloudError(f"{action}: AWS quota reached ({code}: {message}); ask for a higher limit in "
                          f"Service Quotas, or use fewer --workers or a smaller --instance-type")
    if code in PERMISSION_CODES:
        return CloudError(f"{action}: AWS refused it ({code}: {message}); the credentials need the permissions "
                          f"listed in docs/distributed.md (IAM policy)")
    if code == "InvalidInstanceType" or (code.startswith("InvalidParameter") and "instance type" in message.lower()):
        return ConfigError(f"--instance-type: {message or code}; use e.g. c6i.large")
    return CloudError(f"{action}: {code}: {message}")


class DryRunClient:
    """Prints ``[dry-run] ec2.run_instances(...)`` for each call and returns a canned reply
    with placeholder ids, so that a dry run walks the same code path as a real one."""

    def __init__(self, service: str, out: Callable[[str], Any]):
        self.service, self.out = service, out

    def __getattr__(self, operation: str) -> Callable[..., dict]:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **params: self._call(operation, params)

    def _call(self, operation: str, params: dict) -> dict:
        self.out(f"[dry-run] {self.service}.{operation}({brief(params)})")
        reply = _CANNED.get(operation)
        return reply(params) if reply else {}


def brief(params: dict) -> str:
    """Call parameters as compact JSON; user-data shown as its size (it is long, not secret)."""
    shown = {k: (f"<{len(v)} bytes of user-data>" if k == "UserData" else v) for k, v in params.items()}
    return json.dumps(shown, sort_keys=True, default=str, separators=(",", ":"))


def _canned_instances(params: dict) -> dict:
    role = next((t["Value"] for spec in params.get("TagSpecifications", []) for t in spec["Tags"]
                 if t["Key"] == "loadgen:role"), "instance")
    return {"Instances": [{"InstanceId": f"i-dryrun-{role}-{k}", "PrivateIpAddress": f"<{role} private ip>",
                           "State": {"Name": "pending"}} for k in range(params.get("MinCount", 1))]}


_CANNED: dict[str, Callable[[dict], dict]] = {
    "describe_vpcs": lambda p: {"Vpcs": [{"VpcId": "vpc-dryrun-default"}]},
    "describe_instance_types": lambda p: {"InstanceTypes": [
        {"InstanceType": p["InstanceTypes"][0], "VCpuInfo": {"DefaultVCpus": 2},
         "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}}]},
    "get_parameter": lambda p: {"Parameter": {"Value": "ami-dryrun-al2023"}},
    "describe_key_pairs": lambda p: {"KeyPairs": []},
    "create_key_pair": lambda p: {"KeyName": p["KeyName"], "KeyMaterial": ""},
    "create_security_group": lambda p: {"GroupId": "sg-dryrun"},
    "run_instances": _canned_instances,
}

