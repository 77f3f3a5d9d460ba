"""The wheel, installed into fresh virtualenvs (no system site-packages, nothing from the
checkout): a core install says which extra a command needs; with the ``locust`` extra the
shipped locustfiles and demo Flows are found in the package and a load runs.

The wheel is built from a copy of the files the build reads (``pip wheel --no-deps``), then
each virtualenv installs it with its dependencies through pip (the package index or pip's
cache: the second run is quick).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.packaging
BUILD_INPUTS = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "loadgen", "locustfiles",
                "scenarios/flows")
HOST_SCENARIO = """
jobs:
  j:
    steps:
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: 1
        execution_time: 1
"""


def _run(args, *, cwd, timeout=300, check=True):
    # Nothing from the checkout or the test virtualenv: no PYTHONPATH, no LOADGEN_HOME.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LOADGEN_HOME", "VIRTUAL_ENV")}
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source], cwd=out)
    [built] = out.glob("jina_loadgen-*.whl")
    return built


@pytest.fixture(scope="module")
def core(wheel, tmp_path_factory):
    """A fresh virtualenv with the wheel and its core dependencies only; returns its bin/."""
    home = tmp_path_factory.mktemp("core-venv")
    venv.create(home / "venv", with_pip=True, system_site_packages=False)
    bin_dir = home / "venv" / "bin"
    _run([bin_dir / "pip", "install", "--quiet", wheel], cwd=home)
    return bin_dir


def test_a_core_install_names_the_extra_a_command_needs(core, tmp_path):
    scenario = tmp_path / "s.yml"
    scenario.write_text(HOST_SCENARIO)
    cases = [(["run", scenario], "locust"), (["fleet", "status"], "aws")]
    for args, extra in cases:
        proc = _run([core / "loadgen", *args], cwd=tmp_path, check=False)
        assert proc.returncode == 2, proc.stderr[-2000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pip install 'jina-loadgen[{extra}]'" in lines[0], proc.stderr
    assert "gevent" not in _run([core / "pip", "list"], cwd=tmp_path).stdout.lower()


def test_the_installed_package_ships_its_locustfiles_and_demo_flows(core, wheel, tmp_path):
    site = _run([core / "python", "-c", "import loadgen, pathlib; print(pathlib.Path(loadgen.__file__).parent)"],
                cwd=tmp_path).stdout.strip()
    for name in ("image", "text", "replay"):
        path = Path(_run([core / "loadgen", "locustfile", name], cwd=tmp_path).stdout.strip())
        assert path == Path(site) / "shipped" / "locustfiles" / f"{name}.py" and path.is_file()
    flows = Path(site) / "shipped" / "scenarios" / "flows"
    assert sorted(p.name for p in flows.glob("*.yml")) == ["image.yml", "text.yml"]
    assert (flows / "executors" / "__init__.py").is_file()
    assert not [name for name in zipfile.ZipFile(wheel).namelist() if "__pycache__" in name or name.endswith(".pyc")]
    # The demo Flow is found by name (the scenario is checked, nothing is started).
    assert _run([core / "loadgen", "run", "--dry-run", ROOT / "scenarios" / "smoke.yml"], cwd=tmp_path).returncode == 0


def test_with_the_locust_extra_the_shipped_locustfile_runs_a_load(core, wheel, tmp_path, launch_fake_gateway):
    """``pip install 'jina-loadgen[locust]'`` then ``locust -f "$(loadgen locustfile text)"``."""
    _run([core / "pip", "install", "--quiet", f"{wheel}[locust]"], cwd=tmp_path)
    locustfile = _run([core / "loadgen", "locustfile", "text"], cwd=tmp_path).stdout.strip()
    port = launch_fake_gateway("--delay-ms", 1)
    proc = _run([core / "locust", "-f", locustfile, "--host", f"grpc://127.0.0.1:{port}", "--headless", "-u", "2",
                 "-r", "2", "-t", "2s", "--task-mix", "search:1", "--request-size", "1", "--top-k", "3",
                 "--results-dir", tmp_path / "results"], cwd=tmp_path, timeout=120)
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0, proc.stderr[-2000:]
    assert summary["run"]["versions"]["loadgen"] == "0.1.0"
