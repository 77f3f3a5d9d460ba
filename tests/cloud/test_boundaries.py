"""boto3 is imported only when an AWS call is made; the cloud code imports no runtime."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_architecture import _imports  # the same AST import scan as the architecture rules

import loadgen

AWS_LIBS = {"boto3", "botocore", "s3transfer"}
PACKAGE = Path(loadgen.__file__).parent
CLOUD = PACKAGE / "cloud"
NO_BOTO = "import sys; sys.modules.update(boto3=None, botocore=None, s3transfer=None); "


def test_loadgen_cloud_imports_no_runtime():
    offenders = [p for p in CLOUD.glob("*.py") if _imports(p) & {"locust", "gevent", "jina", "docarray"}]
    assert offenders == []


def test_no_loadgen_module_loads_boto3_on_import():
    """boto3 is imported lazily, inside the functions that call AWS: importing every module
    of the package (the CLI included) leaves it unloaded."""
    code = ("import pkgutil, importlib, sys, loadgen\n"
            "for m in pkgutil.walk_packages(loadgen.__path__, 'loadgen.'):\n"
            "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
            "print(sorted(AWS & set(sys.modules)))").replace("AWS", repr(AWS_LIBS))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip().splitlines()[-1] == "[]", proc.stderr[-2000:]


def test_help_works_and_commands_fail_politely_without_boto3():
    def run(*argv):
        code = NO_BOTO + f"from loadgen.cli import main; sys.exit(main({list(argv)!r}))"
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    assert run("--help").returncode == 0 and "fleet" in run("--help").stdout
    assert run("fleet", "up", "--help").returncode == 0 and "--allow-cidr" in run("fleet", "up", "--help").stdout
    proc = run("s3", "upload", ".", "s3://bucket/x")
    assert proc.returncode == 2 and "pip install 'jina-loadgen[aws]'" in proc.stderr and "Traceback" not in proc.stderr
