"""docker/k8s: the offline check (`make k8s-check`) passes and catches the mistakes it
claims to; kubectl renders the kustomization when installed; the scenario ConfigMap's
locust.conf is a config file Locust and loadgen accept (a real short run)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TOP_K, run_locust
from loadgen.cloud import k8s_check

from .test_docker import known  # noqa: F401 (fixture)

MANIFESTS = ROOT / "docker" / "k8s"


def test_the_manifests_pass_the_offline_check(capsys):
    assert k8s_check.main([str(MANIFESTS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("k8s-check: ok: 7 manifests") and "strict" in out


def test_the_expected_objects_exist():
    kinds = sorted((d["kind"], d["metadata"]["name"]) for _, d in k8s_check.load(MANIFESTS))
    assert kinds == [("ConfigMap", "loadgen-scenario"), ("Deployment", "loadgen-flow"),
                     ("Deployment", "loadgen-master"), ("Deployment", "loadgen-worker"), ("Job", "loadgen-benchmark"),
                     ("Service", "loadgen-flow"), ("Service", "loadgen-master")]
    docs = {d["metadata"]["name"] + d["kind"]: d for _, d in k8s_check.load(MANIFESTS)}
    assert {p["port"] for p in docs["loadgen-masterService"]["spec"]["ports"]} == {5557, 8089}
    job = docs["loadgen-benchmarkJob"]["spec"]
    assert job["parallelism"] >= 1 and job["completions"] >= 1


def test_environment_and_config_keys_are_real_options(known):  # noqa: F811
    for _, doc in k8s_check.load(MANIFESTS):
        for container in k8s_check.containers(doc):
            names = {e["name"] for e in container.get("env", [])}
            unknown = {n for n in names if n.startswith(("LOCUST_", "LOADGEN_"))} - known["env"]
            assert not unknown, f"{doc['metadata']['name']}: {sorted(unknown)}"
    conf = _configmap()["data"]["locust.conf"]
    keys = {line.split("=")[0].strip() for line in conf.splitlines() if "=" in line}
    assert keys and not keys - known["options"]


def _configmap() -> dict:
    return next(d for _, d in k8s_check.load(MANIFESTS) if d["kind"] == "ConfigMap")


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "k8s"
    shutil.copytree(MANIFESTS, target)
    text = (target / file).read_text()
    assert old in text
    (target / file).write_text(text.replace(old, new, 1))
    return target


@pytest.mark.parametrize("file, old, new, needle", [
    ("master.yaml", "targetPort: web", "targetPort: wbe", "targetPort 'wbe' is no container port"),
    ("worker.yaml", "value: loadgen-master", "value: loadgen-mastr", "no Service named 'loadgen-mastr'"),
    ("job.yaml", "name: loadgen-scenario", "name: loadgen-scenari0", "unknown ConfigMap 'loadgen-scenari0'"),
    ("master.yaml", "key: locust.conf", "key: locust.cfg", "has no key 'locust.cfg'"),
    ("flow.yaml", "    app.kubernetes.io/name: loadgen-flow\n  ports", "    app: other\n  ports", "matches no workload"),
    ("kustomization.yaml", "- worker.yaml", "- workers.yaml", "resource 'workers.yaml' does not exist"),
])
def test_reference_mistakes_are_found(tmp_path, file, old, new, needle):
    problems, _ = k8s_check.check(_broken_copy(tmp_path, file, old, new))
    assert any(needle in p for p in problems), problems


def test_schema_mistakes_are_found_strictly(tmp_path):
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (test extra) is not installed")
    problems, _ = k8s_check.check(_broken_copy(tmp_path, "worker.yaml", "  replicas: 2", "  replica: 2"))
    assert any("worker.yaml: Deployment/loadgen-worker" in p and "replica" in p for p in problems), problems
    problems, _ = k8s_check.check(_broken_copy(tmp_path / "b", "job.yaml", "  parallelism: 2", "  parallelism: two"))
    assert any("parallelism" in p for p in problems), problems


def test_kubectl_renders_the_kustomization():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the schema and reference checks above still ran")
    proc = subprocess.run([kubectl, "kustomize", str(MANIFESTS)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert len(docs) == 6 and all(d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "jina-loadgen" for d in docs)


def test_make_k8s_check_runs_the_module():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^k8s-check:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert target and "-m loadgen.cloud.k8s_check docker/k8s" in target.group(1)
    proc = subprocess.run([sys.executable, "-m", "loadgen.cloud.k8s_check", "docker/k8s"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "k8s-check: ok" in proc.stdout, proc.stderr


@pytest.mark.integration
@pytest.mark.locust
def test_the_scenario_configmap_is_a_config_file_locust_accepts(flow, tmp_path):
    conf = _configmap()["data"]["locust.conf"]
    conf = re.sub(r"^host = .*$", f"host = {flow.target.url}", conf, flags=re.M)
    conf = re.sub(r"^top-k = .*$", f"top-k = {TOP_K}", conf, flags=re.M)
    conf = re.sub(r"^preindex-docs = .*$", "preindex-docs = 0", conf, flags=re.M)
    conf = re.sub(r"^request-size = .*$", "request-size = 2", conf, flags=re.M)
    (tmp_path / "locust.conf").write_text(conf + "image-shape = 16,16,3\n")
    proc = run_locust(["--config", str(tmp_path / "locust.conf"), "--headless", "-u", "2", "-r", "2", "-t", "3s",
                       "--results-dir", str(tmp_path / "results")], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
    assert summary["top_k"] == TOP_K and summary["target"] == flow.target.url
