import csv
import io
import re
import random

import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader
from hypothesis import given
from hypothesis import strategies as st

from loadgen.metrics import HIGHEST_US, LOWEST_US, SIGNIFICANT_FIGURES, Metrics
from loadgen.results import Result
from loadgen.reports.series import TimeSeriesWriter, escape_tag, read_hlog, unescape_tag

# Java's HistogramLogScanner splits a line at these (org.HdrHistogram, useDelimiter).
JAVA_DELIMITERS = re.compile(r"[ ,\r\n]")
ODD_NAMES = ["a,b c", "100%", "tab\there", "line\nbreak", "ünïcode/名前", "%2C", "Tag=x", ""]


def _metrics(latencies, endpoint="/search"):
    m = Metrics()
    for s in latencies:
        m.add(Result(endpoint=endpoint, protocol="grpc", started_at=0.0, latency_s=s, bytes_out=1))
    return m


def test_intervals_round_trip_through_csv_and_hlog(tmp_path):
    writer = TimeSeriesWriter(tmp_path, start_epoch=1000.0)
    writer.write_interval(_metrics([0.010, 0.020, 0.030]), start_epoch=1000.0, end_epoch=1001.0)
    writer.write_interval(_metrics([0.5], endpoint="/index"), start_epoch=1001.0, end_epoch=1003.0)
    writer.close()
    rows = [r for r in csv.DictReader(io.StringIO((tmp_path / "timeseries.csv").read_text())) if r["request_type"] == "grpc"]
    assert [(r["name"], r["requests"], r["rps"]) for r in rows] == [("/search", "3", "3.000"), ("/index", "1", "0.500")]
    assert float(rows[0]["p50_ms"]) == pytest.approx(20.0, rel=1e-3) and rows[0]["max_ms"] == "30.000"
    intervals = list(read_hlog(io.StringIO((tmp_path / "histograms.hlog").read_text())))
    assert [(i.tag, i.start_s, i.length_s) for i in intervals] == [("grpc:/search", 0.0, 1.0), ("grpc:/index", 1.0, 2.0)]
    assert intervals[0].histogram.count == 3
    assert intervals[0].histogram.percentile_ms(99) == pytest.approx(30.0, rel=1e-3)
    assert intervals[1].histogram.max_s == pytest.approx(0.5, rel=1e-3)


def test_a_bad_hlog_line_names_its_number():
    stream = io.StringIO("#[comment]\nTag=a:b,0.0,1.0,2.0,HISTnotbase64\n")
    with pytest.raises(ValueError, match="line 2"):
        list(read_hlog(stream))


@given(st.text())
def test_a_tag_escapes_to_printable_ascii_without_delimiters_and_round_trips(name):
    escaped = escape_tag(name)
    assert escaped.isascii() and escaped.isprintable() and not JAVA_DELIMITERS.search(escaped)
    assert unescape_tag(escaped) == name


def _odd_names_log(tmp_path, latencies=(0.010, 0.020, 0.030)):
    writer = TimeSeriesWriter(tmp_path, start_epoch=1000.0)
    for second, name in enumerate(ODD_NAMES):
        writer.write_interval(_metrics(latencies, endpoint=name), start_epoch=1000.0 + second,
                              end_epoch=1001.0 + second)
    writer.close()
    return tmp_path / "histograms.hlog"


def test_endpoint_names_with_commas_spaces_and_escapes_survive_the_interval_log(tmp_path):
    hlog = _odd_names_log(tmp_path)
    intervals = list(read_hlog(io.StringIO(hlog.read_text())))
    assert [i.tag for i in intervals] == [f"grpc:{name}" for name in ODD_NAMES]
    assert [i.histogram.count for i in intervals] == [3] * len(ODD_NAMES)


def test_the_interval_log_parses_with_the_hdrhistogram_reference_reader_in_microseconds(tmp_path):
    """hdrh's HistogramLogReader (a port of Java's) reads every interval with its tag; values
    are µs (20 ms -> 20000) and each line splits into Java's five fields."""
    hlog = _odd_names_log(tmp_path)
    reader = HistogramLogReader(str(hlog), HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES))
    read = []
    while (histogram := reader.get_next_interval_histogram()) is not None:
        read.append(histogram)
    reader.close()
    assert [unescape_tag(h.get_tag()) for h in read] == [f"grpc:{name}" for name in ODD_NAMES]
    for histogram in read:
        assert histogram.get_total_count() == 3
        assert histogram.get_value_at_percentile(50) == pytest.approx(20_000, rel=1e-3)
        assert histogram.get_max_value() == pytest.approx(30_000, rel=1e-3)
    assert reader.get_start_time_sec() == 1000.0
    lines = [line for line in hlog.read_text().splitlines() if line.startswith("Tag=")]
    assert len(lines) == len(ODD_NAMES)
    for line in lines:
        fields = JAVA_DELIMITERS.split(line)
        assert len(fields) == 5 and fields[3] == "30.000", line  # Tag, start, length, max in ms, histogram


def _rows(tmp_path):
    return list(csv.DictReader(io.StringIO((tmp_path / "timeseries.csv").read_text())))


def test_no_percentile_is_above_the_intervals_max(tmp_path):
    """HDR answers a bucket's highest equivalent value (1.0001 s lies in a bucket reaching
    about 1.0005 s): the row's percentiles stop at the exact max."""
    writer = TimeSeriesWriter(tmp_path, start_epoch=0.0)
    writer.write_interval(_metrics([1.0001]), start_epoch=0.0, end_epoch=1.0)
    rng = random.Random(7)
    writer.write_interval(_metrics([rng.lognormvariate(-4, 1) for _ in range(500)]), start_epoch=1.0, end_epoch=2.0)
    writer.close()
    assert _metrics([1.0001]).entry("grpc", "/search").latency.percentile_ms(99) > 1000.1, "the case under test"
    for row in _rows(tmp_path):
        p50, p95, p99, top = (float(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        assert p50 <= p95 <= p99 <= top, row
    assert float(_rows(tmp_path)[0]["p99_ms"]) == 1000.1


def test_each_interval_ends_with_a_total_row_of_its_requests(tmp_path):
    search, index = [0.010 * i for i in range(1, 101)], [2.0, 3.0]
    interval = _metrics(search)
    interval.merge(_metrics(index, endpoint="/index"))
    interval.add_time("executor", "encoder", 9.0)  # a part of a request: not in the total
    writer = TimeSeriesWriter(tmp_path, start_epoch=0.0)
    writer.write_interval(interval, start_epoch=0.0, end_epoch=2.0, gauges={"users": 4, "inflight": 3})
    writer.close()
    rows = _rows(tmp_path)
    assert [r["request_type"] for r in rows] == ["executor", "grpc", "grpc", "total"]
    total = rows[-1]
    assert (total["name"], total["requests"], total["rps"]) == ("total", "102", "51.000")
    everything = sorted(search + index)  # nearest rank, as HdrHistogram counts it
    for key, p in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
        truth = everything[max(1, int(p / 100 * len(everything) + 0.5)) - 1] * 1000
        assert float(total[key]) == pytest.approx(truth, rel=1e-3)
    assert float(total["max_ms"]) == 3000.0
    assert {(r["users"], r["inflight"]) for r in rows} == {("4", "3")}
