"""``loadgen compare DIR1 … DIRn --history``: one trend per endpoint, each run judged
against the one before; the exit code follows the newest step only."""
import csv
import io

import numpy as np

from loadgen.cli import main

from .conftest import lognormal_intervals, write_run


def _runs(tmp_path, medians):
    dirs = []
    for i, ms in enumerate(medians, start=1):
        rng = np.random.default_rng(100 + i)
        dirs.append(write_run(tmp_path / f"run{i}", {"/search": lognormal_intervals(rng, intervals=20, per=100,
                                                                                    median_ms=ms, sigma=0.1)},
                              label=f"jina-3.{i}"))
    return dirs


def test_history_marks_the_run_that_got_slower(tmp_path, capsys):
    dirs = _runs(tmp_path, [10, 10, 15])
    assert main(["compare", *map(str, dirs), "--history", "-o", str(tmp_path / "out")]) == 4
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "jina-3.1 -> jina-3.2: no regression"
    assert out[1].startswith("jina-3.2 -> jina-3.3: ") and "regression" in out[1]
    assert any(line.startswith("  regression: /search p50 ") for line in out)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out/history.csv").read_text())))
    p50 = [r for r in rows if r["metric"] == "p50"]
    assert [r["label"] for r in p50] == ["jina-3.1", "jina-3.2", "jina-3.3"]
    assert [r["verdict"] for r in p50] == ["", "same", "worse"]
    assert abs(float(p50[2]["value"]) / float(p50[1]["value"]) - 1.5) < 0.05
    html = (tmp_path / "out/history.html").read_text()
    assert html.count('class="mark"') >= 1 and "jina-3.3" in html


def test_an_old_regression_does_not_fail_the_newest_step(tmp_path, capsys):
    dirs = _runs(tmp_path, [10, 15, 15])
    assert main(["compare", *map(str, dirs), "--history"]) == 0
    assert (dirs[-1] / "history.csv").is_file() and (dirs[-1] / "history.html").is_file()
    assert "jina-3.1 -> jina-3.2: " in capsys.readouterr().out
