"""Dependency rules of docs/architecture.md, checked on the source and in a fresh interpreter."""
import ast
import subprocess
import sys
from pathlib import Path

import loadgen

PACKAGE = Path(loadgen.__file__).parent
ADAPTER = PACKAGE / "locust_adapter"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources():
    return [p for p in PACKAGE.rglob("*.py") if not p.name.endswith("_pb2.py")]


def test_nothing_in_loadgen_imports_jina_or_docarray():
    offenders = [str(p) for p in _sources() if _imports(p) & {"jina", "docarray"}]
    assert offenders == []


def test_only_the_adapter_imports_locust_or_gevent():
    offenders = [str(p) for p in _sources()
                 if _imports(p) & {"locust", "gevent"} and ADAPTER not in p.parents]
    assert offenders == []


def test_importing_the_core_pulls_in_no_runtime():
    code = ("import sys, loadgen, loadgen.reports, loadgen.pools, loadgen.replies, loadgen.cli, "
            "loadgen.protocols; bad = {'jina', 'locust', 'gevent', 'docarray'} & set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
