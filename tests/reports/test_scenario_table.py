"""A scenario's results table: repetitions folded into medians, rendered as text, Markdown, CSV."""
import csv
import io

from loadgen.reports.scenario_table import StepResult, render_csv, render_markdown, render_text, table


def result(replicas, rep, rps, p99, status="ok", **extra):
    figures = {"requests": 100 * rep, "failures": 0, "req/s": rps, "docs/s": rps * 2, "p50 ms": 1.0,
               "p95 ms": 2.0, "p99 ms": p99, "p99 corrected ms": None, **extra}
    return StepResult(job="j", params={"replicas": replicas}, repetition=rep, step="03-index", status=status,
                      results_dir="d", figures=figures, executors={"slow": p99 / 2})


def test_table_folds_repetitions_into_medians_and_spread():
    rows = table([result(1, 1, 10.0, 5.0), result(1, 2, 14.0, 9.0), result(1, 3, 12.0, 7.0),
                  result(2, 1, 30.0, 3.0, status="failures")])
    assert [(r["replicas"], r["reps"], r["req/s"], r["req/s min"], r["req/s max"], r["p99 ms"], r["slow mean ms"],
             r["status"]) for r in rows] == [(1, 3, 12.0, 10.0, 14.0, 7.0, 3.5, "ok"),
                                             (2, 1, 30.0, None, None, 3.0, 1.5, "failures")]
    text = render_text(rows)
    assert text.splitlines()[0].split() == ["job", "replicas", "step", "reps", "requests", "failures", "req/s",
                                            "docs/s", "p50", "ms", "p95", "ms", "p99", "ms", "req/s", "min",
                                            "req/s", "max", "p99", "ms", "min", "p99", "ms", "max", "slow", "mean",
                                            "ms", "status"]
    assert "p99 corrected ms" not in text  # closed loop only: the column is dropped
    markdown = render_markdown(rows).splitlines()
    assert markdown[0].startswith("| job | replicas | step |") and markdown[1].startswith("|---|")
    parsed = list(csv.DictReader(io.StringIO(render_csv(rows))))
    assert parsed[1]["replicas"] == "2" and parsed[1]["req/s"] == "30.00"
