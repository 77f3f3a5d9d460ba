"""docker/'s Prometheus and Grafana files checked without a docker engine (the dashboard's
queries against a live run: tests/observe/test_runs.py)."""
import json
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT


def dashboard_queries() -> list[str]:
    dashboard = json.loads((ROOT / "docker" / "grafana" / "dashboards" / "jina-loadgen.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_the_grafana_and_compose_files_fit_together():
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())["services"]
    assert compose["prometheus"]["image"].startswith("prom/prometheus:")
    assert compose["grafana"]["image"].startswith("grafana/grafana:")
    for service in ("prometheus", "grafana"):
        for mount in compose[service]["volumes"]:
            assert (ROOT / "docker" / mount.split(":")[0]).exists(), mount
    config = yaml.safe_load((ROOT / "docker" / "prometheus.yml").read_text())
    master = compose["master"]["environment"]
    target = f"master:{master['LOADGEN_PROMETHEUS_PORT']}"
    assert [t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]] == [target]
    assert master["LOADGEN_PROMETHEUS_HOST"] == "0.0.0.0", "reachable from the prometheus container"
    datasource = yaml.safe_load((ROOT / "docker/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads((ROOT / "docker/grafana/dashboards/jina-loadgen.json").read_text())
    assert {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])} == {uid}
    provider = yaml.safe_load((ROOT / "docker/grafana/provisioning/dashboards/jina-loadgen.yml").read_text())
    dashboards_mount = [m for m in compose["grafana"]["volumes"] if "dashboards" in m.split(":")[0]][0]
    assert provider["providers"][0]["options"]["path"] == dashboards_mount.split(":")[1]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] and len(dashboard_queries()) >= 12


def test_promtool_accepts_the_prometheus_config():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("no promtool: run `make prometheus` as root")
    proc = subprocess.run([promtool, "check", "config", str(ROOT / "docker" / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_docker_files_exist():
    for path in ("docker/prometheus.yml", "docker/grafana/dashboards/jina-loadgen.json",
                 "docker/grafana/provisioning/datasources/prometheus.yml",
                 "docker/grafana/provisioning/dashboards/jina-loadgen.yml"):
        assert (ROOT / path).is_file(), path
    assert (ROOT / "docs" / "observability.md").is_file()
