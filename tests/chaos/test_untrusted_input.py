"""Nothing in an input file is executed: YAML only through SafeLoader, data stays data.

A static check over the shipped code (no unsafe YAML loader, no eval/exec, no pickle, no
shell), then each file type loadgen reads -- scenario YAML, ``--set`` values, ``.env`` files,
replay files -- fed shell, Python and YAML-tag injections that would create a file if they
ran. (Datasets get the same payloads in a real run: tests/chaos/test_security.py.) A Flow
YAML is not data: Jina runs it in ``.venv-flow`` with its ``py_modules``, so a Flow file is
trusted code, like a locustfile; still, Jina's own loader refuses ``!!python/`` tags.
"""
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.chaos
LOADGEN = [sys.executable, "-m", "loadgen"]
SHIPPED = ("loadgen", "locustfiles", "benchmarks")
UNSAFE_YAML = {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}
UNSAFE_LOADERS = {"Loader", "FullLoader", "UnsafeLoader", "CLoader", "CFullLoader", "CUnsafeLoader"}
UNSAFE_CALLS = {("pickle", "load"), ("pickle", "loads"), ("marshal", "load"), ("marshal", "loads"),
                ("os", "system"), ("os", "popen"), ("shelve", "open")}


def _sources():
    for top in SHIPPED:
        yield from sorted((ROOT / top).rglob("*.py"))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _problems(path: Path):
    """``(line, what)`` for each unsafe call in ``path``; ``yaml.load`` calls are returned as
    ``(line, "yaml.load", loader name)`` for the caller to resolve."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name, keywords = _dotted(node.func), {k.arg: k.value for k in node.keywords}
        if name in ("eval", "exec") or tuple(name.rsplit(".", 1)) in UNSAFE_CALLS:
            yield node.lineno, name, None
        elif name.startswith("yaml.") and name.split(".")[1] in UNSAFE_YAML:
            yield node.lineno, name, None
        elif name in ("yaml.load", "yaml.load_all"):
            yield node.lineno, name, _dotted(keywords["Loader"]) if "Loader" in keywords else None
        elif isinstance(keywords.get("shell"), ast.Constant) and keywords["shell"].value is True:
            yield node.lineno, f"{name}(shell=True)", None


def _safe_loader(module: str, name: str) -> bool:
    """True when ``module.name`` is a SafeLoader subclass without Python-object constructors."""
    if name.startswith("yaml."):
        return name.split(".")[1] not in UNSAFE_LOADERS and issubclass(getattr(yaml, name.split(".")[1]),
                                                                         yaml.SafeLoader)
    loader = getattr(importlib.import_module(module), name)
    tags = [*loader.yaml_constructors, *loader.yaml_multi_constructors]
    return issubclass(loader, yaml.SafeLoader) and not any(t and "python/" in t for t in tags)


def test_shipped_code_loads_yaml_safely_and_executes_nothing():
    found = []
    for path in _sources():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for line, call, loader in _problems(path):
            if call.startswith("yaml.load") and loader and _safe_loader(module, loader):
                continue  # e.g. the scenario loader's SafeLoader subclass that remembers lines
            found.append(f"{path.relative_to(ROOT)}:{line}: {call}" + (f"(Loader={loader})" if loader else ""))
    assert found == []


def test_the_static_check_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import yaml, os, subprocess\nyaml.load(t, Loader=yaml.FullLoader)\nyaml.unsafe_load(t)\n"
                   "eval(x)\nos.system(x)\nsubprocess.run(x, shell=True)\nyaml.load(t)\n")
    calls = [(call, loader) for _, call, loader in _problems(bad)]
    assert calls == [("yaml.load", "yaml.FullLoader"), ("yaml.unsafe_load", None), ("eval", None),
                     ("os.system", None), ("subprocess.run(shell=True)", None), ("yaml.load", None)]
    assert not _safe_loader("", "yaml.FullLoader") and _safe_loader("", "yaml.SafeLoader")


def _payloads(marker: Path) -> dict[str, str]:
    """Injections that would each create ``marker<N>`` if anything ran them."""
    return {"shell": f"$(touch {marker}1)", "backticks": f"`touch {marker}2`",
            "python": f"__import__('os').system('touch {marker}3')",
            "yaml_apply": f"!!python/object/apply:os.system ['touch {marker}4']",
            "yaml_new": f"!!python/object/new:os.system ['touch {marker}5']"}


def _run(argv, cwd):
    return subprocess.run([*LOADGEN, *argv], capture_output=True, text=True, timeout=60, cwd=cwd)


SCENARIO = """jobs:
  j:
    steps:
      - method: start_flow
        flow: image
      - method: index
        execution_time: {execution_time}
        num_clients: 1
        inputs: {{method: random_texts}}
      - method: terminate_flow
"""


@pytest.mark.parametrize("position", ["document", "value"])
def test_a_python_yaml_tag_in_a_scenario_is_refused_and_not_run(tmp_path, position):
    payload = _payloads(tmp_path / "pwned")["yaml_apply"]
    scenario = tmp_path / "evil.yml"
    scenario.write_text(f"jobs: {payload}\n" if position == "document" else SCENARIO.format(execution_time=payload))
    proc = _run(["run", str(scenario), "--dry-run"], tmp_path)
    assert proc.returncode == 2 and "could not determine a constructor" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and list(tmp_path.glob("pwned*")) == []


def test_injections_in_env_files_and_set_values_stay_text(tmp_path):
    payloads = _payloads(tmp_path / "pwned")
    env_file = tmp_path / "run.env"
    env_file.write_text("".join(f"{name.upper()}={text}\n" for name, text in payloads.items()))
    scenario = tmp_path / "s.yml"
    scenario.write_text(SCENARIO.format(execution_time="${EXECUTION_TIME:-1}"))
    sets = [arg for name, text in payloads.items() for arg in ("--set", f"SET_{name.upper()}={text}")]
    unused = _run(["run", str(scenario), "--env-file", str(env_file), *sets, "--dry-run"], tmp_path)
    assert unused.returncode == 0, unused.stderr
    for text in payloads.values():  # each one substituted into a typed field: a usage error, nothing run
        used = _run(["run", str(scenario), "--set", f"EXECUTION_TIME={text}", "--dry-run"], tmp_path)
        assert used.returncode == 2 and "execution_time" in used.stderr and "Traceback" not in used.stderr
    assert list(tmp_path.glob("pwned*")) == []


def test_injections_in_a_replay_file_are_bad_lines(tmp_path):
    payloads = _payloads(tmp_path / "pwned")
    replay = tmp_path / "evil.replay"
    replay.write_text("".join([f"/search?docs=1&seed={payloads['shell']}\n", f"/index?docs={payloads['backticks']}\n",
                               f"{payloads['python']}\n", f"/search?{payloads['yaml_apply']}\n"]))
    proc = _run(["replay", "check", str(replay)], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert all(f"{replay}:{line}:" in proc.stderr for line in (1, 2, 3, 4)), proc.stderr
    assert list(tmp_path.glob("pwned*")) == []


@pytest.mark.integration
def test_a_python_yaml_tag_in_a_flow_is_refused_by_jinas_loader(tmp_path):
    flow = tmp_path / "evil.yml"
    flow.write_text("jtype: Flow\nwith:\n  protocol: grpc\n"
                    f"  description: {_payloads(tmp_path / 'pwned')['yaml_apply']}\nexecutors:\n  - name: a\n")
    proc = subprocess.run([*LOADGEN, "flow", "up", "--flow", str(flow), "--startup-timeout", "60"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 1 and "the Flow exited with code 1 before it was ready" in proc.stderr, proc.stderr
    assert "could not determine a constructor" in proc.stderr and list(tmp_path.glob("pwned*")) == []
