"""The shape of the code (docs/architecture.md), checked on the source and in a fresh interpreter.

Each rule keeps one room per concept: runtimes and heavy integrations only where they
belong, no module reaching into another's private names, no import cycles, and sizes a
reader can hold in their head.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

import loadgen

PACKAGE = Path(loadgen.__file__).parent
ADAPTER = PACKAGE / "locust_adapter"
CLOUD = PACKAGE / "cloud"
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _imports(path: Path) -> set[str]:
    """Top-level package names ``path`` imports anywhere (functions included)."""
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources():
    return sorted(p for p in PACKAGE.rglob("*.py") if not p.name.endswith("_pb2.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _where(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_nothing_in_loadgen_imports_jina_or_docarray():
    offenders = [_where(p) for p in _sources() if _imports(p) & {"jina", "docarray"}]
    assert offenders == []


def test_only_the_adapter_and_the_http_transport_import_locust_or_gevent():
    # geventhttpclient pulls in gevent: it is the HTTP transport's client, nobody else's.
    allowed = {PACKAGE / "protocols" / "http.py"}
    offenders = [_where(p) for p in _sources()
                 if _imports(p) & {"locust", "gevent", "geventhttpclient"} and ADAPTER not in p.parents
                 and p not in allowed]
    assert offenders == []


def test_boto3_only_under_cloud():
    offenders = [_where(p) for p in _sources() if _imports(p) & {"boto3", "botocore"} and CLOUD not in p.parents]
    assert offenders == []


def test_child_processes_only_through_posix_spawn():
    """A process that has used gRPC must not fork: gRPC's fork handlers abort the child now and
    then (a Locust worker that never connects, a Flow that dies at start). Children are started
    by loadgen/spawn.py (posix_spawn) only; no subprocess, os.fork or multiprocessing elsewhere."""
    offenders = []
    for path in _sources():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                    (node.value.id == "subprocess" and node.attr in {"Popen", "run", "call", "check_call",
                                                                     "check_output", "getoutput"})
                    or (node.value.id == "os" and node.attr in {"fork", "forkpty", "system", "popen"})):
                offenders.append(f"{_where(path)}:{node.lineno} {node.value.id}.{node.attr}")
        if "multiprocessing" in _imports(path):
            offenders.append(f"{_where(path)} imports multiprocessing")
    assert offenders == []


def test_rich_only_in_the_console():
    users = [_where(p) for p in _sources() if "rich" in _imports(p)]
    assert users == ["loadgen/console.py"]


def test_importing_the_core_pulls_in_no_runtime():
    code = ("import sys, loadgen, loadgen.reports, loadgen.pools, loadgen.replies, loadgen.cli, loadgen.replay, "
            "loadgen.scenarios, loadgen.protocols; bad = {'jina', 'locust', 'gevent', 'docarray', 'boto3', 'rich'} "
            "& set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in _sources():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("loadgen"):
                offenders += [f"{_where(path)}: {node.module}.{alias.name}" for alias in node.names
                              if alias.name.startswith("_")]
    assert offenders == []


@pytest.mark.parametrize("path", _sources(), ids=_where)
def test_modules_and_functions_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_where(path)} has {lines} lines: split it by concept"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(_tree(path))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == [], f"{_where(path)}: functions over {MAX_FUNCTION_LINES} lines"


def _module_level_imports(path: Path, known: set[str]) -> set[str]:
    """loadgen modules ``path`` imports when it is imported (not imports inside functions)."""
    out = set()
    for node in _tree(path).body:
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in known:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            out |= submodules
            if len(submodules) < len(node.names):  # names defined by the module itself (or its __init__)
                out.add(node.module)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycles():
    paths = {_module_name(p): p for p in _sources()}
    graph = {name: _module_level_imports(path, set(paths)) - {name} for name, path in paths.items()}
    assert sum(map(len, graph.values())) > 100  # the finder sees the imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
