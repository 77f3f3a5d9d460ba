"""Offline checks of the Kubernetes manifests in ``docker/k8s`` (``make k8s-check``).

``kubectl apply --dry-run=client`` still asks an API server for its resource types, which
a laptop or CI without a cluster does not have. So this checks without one:

1. schema: every document against the Kubernetes OpenAPI schema of :data:`K8S_VERSION`,
   strictly (unknown fields are errors), with the ``kubernetes-validate`` package (the
   ``test`` extra); skipped, and said so, when it is not installed;
2. references: selectors match their pod templates, each Service selects a workload and
   its ``targetPort`` exists on it, volumes and ``configMapKeyRef`` name existing
   ConfigMaps and keys, mounts name volumes, ``LOCUST_MASTER_NODE_HOST`` names a Service;
3. the kustomization lists files that exist.

Run ``python -m loadgen.cloud.k8s_check docker/k8s``; exit code 1 when anything is wrong.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

import yaml

K8S_VERSION = "1.30.0"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
Doc = tuple[str, dict]  # (file name, document)


def load(directory: Path) -> list[Doc]:
    """Every YAML document of ``directory``'s manifests (the kustomization excluded)."""
    docs = []
    for path in sorted(Path(directory).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def schema_problems(docs: list[Doc], version: str = K8S_VERSION) -> Optional[list[str]]:
    """Strict schema errors; None when ``kubernetes-validate`` is not installed."""
    try:
        import kubernetes_validate
    except ImportError:
        return None
    problems = []
    for name, doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{name}: {_title(doc)}: {path or '(top)'}: {exc.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
            problems.append(f"{name}: {_title(doc)}: no schema ({exc})")
    return problems


def _title(doc: dict) -> str:
    return f"{doc.get('kind', '?')}/{doc.get('metadata', {}).get('name', '?')}"


def _pod_spec(doc: dict) -> dict:
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def containers(doc: dict) -> Iterator[dict]:
    """The init containers, then the containers, of a workload's pod template."""
    spec = _pod_spec(doc)
    yield from spec.get("initContainers", []) + spec.get("containers", [])


def reference_problems(docs: list[Doc]) -> list[str]:
    """Cross-document mistakes that a schema cannot see."""
    configmaps = {d["metadata"]["name"]: set(d.get("data", {})) for _, d in docs if d.get("kind") == "ConfigMap"}
    services = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "Service"}
    workloads = [(n, d) for n, d in docs if d.get("kind") in WORKLOADS]
    problems = []
    for name, doc in workloads:
        problems += [f"{name}: {_title(doc)}: {p}" for p in _workload_problems(doc, configmaps, services)]
    for name, doc in services.items():
        problems += [f"{_file(docs, doc)}: Service/{name}: {p}" for p in _service_problems(doc, workloads)]
    return problems


def _file(docs: list[Doc], doc: dict) -> str:
    return next(n for n, d in docs if d is doc)


def _workload_problems(doc: dict, configmaps: dict[str, set], services: dict[str, dict]) -> Iterator[str]:
    labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    wanted = doc.get("spec", {}).get("selector", {}).get("matchLabels", {})
    if any(labels.get(k) != v for k, v in wanted.items()):
        yield f"selector {wanted} does not match the pod labels {labels}"
    volumes = {v["name"]: v for v in _pod_spec(doc).get("volumes", [])}
    for volume in volumes.values():
        yield from _configmap_volume_problems(volume, configmaps)
    for container in containers(doc):
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes:
                yield f"container {container['name']} mounts unknown volume {mount['name']!r}"
        for env in container.get("env", []):
            yield from _env_problems(env, configmaps, services)


def _configmap_volume_problems(volume: dict, configmaps: dict[str, set]) -> Iterator[str]:
    source = volume.get("configMap")
    if source is None:
        return
    if source["name"] not in configmaps:
        yield f"volume {volume['name']} uses unknown ConfigMap {source['name']!r}"
        return
    for item in source.get("items", []):
        if item["key"] not in configmaps[source["name"]]:
            yield f"volume {volume['name']}: ConfigMap {source['name']} has no key {item['key']!r}"


def _env_problems(env: dict, configmaps: dict[str, set], services: dict[str, dict]) -> Iterator[str]:
    ref = env.get("valueFrom", {}).get("configMapKeyRef")
    if ref and ref["key"] not in configmaps.get(ref["name"], ()):
        yield f"env {env['name']}: no key {ref['key']!r} in ConfigMap {ref['name']!r}"
    if env["name"] == "LOCUST_MASTER_NODE_HOST" and env.get("value") not in services:
        yield f"env LOCUST_MASTER_NODE_HOST: no Service named {env.get('value')!r}"


def _service_problems(service: dict, workloads: list[Doc]) -> Iterator[str]:
    selector = service.get("spec", {}).get("selector", {})
    pods = [d for _, d in workloads
            if selector and all(d["spec"]["template"]["metadata"].get("labels", {}).get(k) == v
                                for k, v in selector.items())]
    if not pods:
        yield f"selector {selector} matches no workload"
        return
    ports = {p.get(key) for d in pods for c in containers(d) for p in c.get("ports", [])
             for key in ("name", "containerPort")}
    for port in service["spec"].get("ports", []):
        target = port.get("targetPort", port.get("port"))
        if target not in ports:
            yield f"port {port.get('name', port.get('port'))}: targetPort {target!r} is no container port"


def kustomization_problems(directory: Path) -> list[str]:
    """Resources the kustomization lists but the directory lacks."""
    path = Path(directory) / "kustomization.yaml"
    if not path.is_file():
        return []
    listed = yaml.safe_load(path.read_text()).get("resources", [])
    return [f"kustomization.yaml: resource {r!r} does not exist" for r in listed if not (path.parent / r).is_file()]


def check(directory: Path) -> tuple[list[str], str]:
    """All problems of ``directory``'s manifests, and a line saying what was checked."""
    docs = load(directory)
    problems = [f"{n}: document without apiVersion/kind/metadata.name" for n, d in docs
                if not (d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"))]
    schema = schema_problems(docs)
    problems += (schema or []) + reference_problems(docs) + kustomization_problems(directory)
    how = (f"schema of Kubernetes {K8S_VERSION} (strict)" if schema is not None
           else "schema check SKIPPED: pip install kubernetes-validate (the test extra)")
    return problems, f"{len(docs)} manifests in {directory}; {how}; references; kustomization"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m loadgen.cloud.k8s_check [DIR]``; exit code 1 when a manifest is wrong."""
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0] if args else "docker/k8s")
    if not directory.is_dir():
        print(f"k8s-check: error: {directory} is not a directory", file=sys.stderr)
        return 2
    problems, checked = check(directory)
    for problem in problems:
        print(f"k8s-check: {problem}", file=sys.stderr)
    print(f"k8s-check: {'FAILED' if problems else 'ok'}: {checked}")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
