"""``loadgen compare`` at the command line: exit codes, the lines it prints, the files it
writes, and one-line errors for bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest

from loadgen.cli import main

from .conftest import lognormal_intervals, write_run, write_scenario

REGRESSION_LINE = "regression: /search p50 "


def _run(path, seed, ms, label=None, **extra):
    rng = np.random.default_rng(seed)
    endpoints = {"/search": lognormal_intervals(rng, intervals=20, per=100, median_ms=ms, sigma=0.1)}
    endpoints.update({f"/{name}": lognormal_intervals(rng, intervals=20, per=50, median_ms=v) for name, v in extra.items()})
    return write_run(path, endpoints, label=label)


def test_a_regression_exits_4_and_names_the_endpoint(tmp_path, capsys):
    base, new = _run(tmp_path / "base", 1, 10, "v1"), _run(tmp_path / "new", 2, 20, "v2")
    assert main(["compare", str(base), str(new)]) == 4
    out = capsys.readouterr().out
    assert out.startswith("compare: v1 -> v2: ")
    lines = [line for line in out.splitlines() if line.startswith("regression: ")]
    assert any(line.startswith(REGRESSION_LINE) for line in lines)
    assert all("/search" in line for line in lines)
    written = json.loads((new / "compare.json").read_text())
    assert written["base"] == {"dir": str(base), "label": "v1", "kind": "run"}
    assert written["regressions"] == lines
    p50 = next(r for r in written["rows"] if r["metric"] == "p50")
    assert p50["verdict"] == "worse" and p50["change"] == pytest.approx(1.0, abs=0.05)
    markdown = (new / "compare.md").read_text()
    assert markdown.startswith("### loadgen compare: `v1` → `v2`") and "❌ **worse**" in markdown
    assert (new / "compare.html").read_text().startswith("<!DOCTYPE html>")


def test_no_regression_exits_0_and_files_go_where_asked(tmp_path, capsys):
    base, new = _run(tmp_path / "base", 3, 10), _run(tmp_path / "new", 4, 10)
    assert main(["compare", str(base), str(new), "-o", str(tmp_path / "out")]) == 0
    assert "no regression" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["compare.html", "compare.json", "compare.md"]
    assert not (new / "compare.json").exists()


def test_limits_from_the_command_line_apply(tmp_path, capsys):
    base, new = _run(tmp_path / "base", 5, 10), _run(tmp_path / "new", 6, 20)
    code = main(["compare", str(base), str(new), "--max-regression", "p50:off", "--max-regression", "p95:off",
                 "--max-regression", "p99:off", "--max-regression", "rps:off", "--max-regression", "/search:p999:off"])
    assert code == 0
    out = capsys.readouterr().out
    assert "no regression" in out and " off " in out


def _loadgen(*args):
    return subprocess.run([sys.executable, "-m", "loadgen", *map(str, args)], capture_output=True, text=True)


def _one_line_error(proc):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    return proc.stderr.strip()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    run = _run(tmp_path / "run", 7, 10)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    assert _one_line_error(_loadgen("compare", tmp_path / "missing", run)) == (
        f"loadgen: error: BASE {tmp_path / 'missing'}: no such directory; give a loadgen results directory "
        f"(summary.json), a scenario's (results.json) or a capacity search's (capacity.json)")
    assert _one_line_error(_loadgen("compare", run, tmp_path / "notes")) == (
        f"loadgen: error: NEW {tmp_path / 'notes'}: not a results directory (no summary.json, results.json or "
        f"capacity.json); give the --results-dir of a run")
    assert "--max-regression 'p99:-10%': a higher p99 is worse" in _one_line_error(
        _loadgen("compare", run, run, "--max-regression", "p99:-10%"))
    assert "--confidence: must be between 0.5 and 1" in _one_line_error(_loadgen("compare", run, run, "--confidence", 2))
    assert "compare takes two directories" in _one_line_error(_loadgen("compare", run))


def test_runs_without_an_endpoint_in_common_are_bad_input(tmp_path):
    rng = np.random.default_rng(8)
    a = write_run(tmp_path / "a", {"/search": lognormal_intervals(rng, intervals=5, per=10, median_ms=10)})
    b = write_run(tmp_path / "b", {"/index": lognormal_intervals(rng, intervals=5, per=10, median_ms=10)})
    assert _one_line_error(_loadgen("compare", a, b)) == (
        f"loadgen: error: nothing in common: {a} has /search, {b} has /index; compare runs of the same endpoints")


def test_a_scenario_of_many_steps_does_not_pair_with_one_run(tmp_path):
    runs = {("j", "02-query", 1): _run(tmp_path / "r1", 9, 10), ("j", "03-index", 1): _run(tmp_path / "r2", 10, 10)}
    scenario = write_scenario(tmp_path / "scenario", runs)
    message = _one_line_error(_loadgen("compare", scenario, _run(tmp_path / "one", 11, 10)))
    assert "is a scenario with 2 load steps, the other a single run; compare like with like" in message


def test_endpoints_on_one_side_only_are_listed_not_judged(tmp_path, capsys):
    base = _run(tmp_path / "base", 12, 10, index=5)
    new = _run(tmp_path / "new", 13, 10)
    assert main(["compare", str(base), str(new)]) == 0
    assert "only in base (not compared): /index" in capsys.readouterr().out
    assert json.loads((new / "compare.json").read_text())["only_in_base"] == ["/index"]
