"""loadgen run's terminal output (loadgen/console.py), on plain streams."""
import io
from types import SimpleNamespace

from loadgen.console import Console


def test_the_progress_rate_is_requests_over_the_time_so_far_from_the_first_second():
    err = io.StringIO()
    console = Console(stream=err, table_stream=io.StringIO(), every_s=0.0)
    # Locust's current rate is still 0 after one second: its window lags by seconds.
    console.progress("index", 10.0, SimpleNamespace(elapsed_s=1.0, requests=120, failures=2, current_rps=0.0))
    console.progress("index", 10.0, SimpleNamespace(elapsed_s=4.0, requests=200, failures=2, current_rps=0.0))
    first, second = err.getvalue().splitlines()
    assert "  1.0/10 s    120.0 req/s  120 requests  2 failures" in first
    assert "50.0 req/s" in second


def test_the_same_results_table_is_printed_once():
    out = io.StringIO()
    console = Console(stream=io.StringIO(), table_stream=out)
    rows = [{"job": "smoke", "step": "02-index", "requests": 10, "status": "ok"}]
    console.results("", rows)  # a `report` step
    console.results("\nscenario s.yml: results in DIR\n", rows, again=False)  # the end of the run
    assert out.getvalue().count("02-index") == 1
    assert out.getvalue().rstrip().endswith("scenario s.yml: results in DIR (the table above)")
    console.results("\nthe end\n", [*rows, {"job": "smoke", "step": "03-query", "requests": 5, "status": "ok"}],
                    again=False)
    assert out.getvalue().count("03-query") == 1 and out.getvalue().count("02-index") == 2  # a new table: printed
