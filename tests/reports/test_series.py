import csv
import io

import pytest

from loadgen.metrics import Metrics
from loadgen.results import Result
from loadgen.reports.series import TimeSeriesWriter, read_hlog


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
    rows = list(csv.DictReader(io.StringIO((tmp_path / "timeseries.csv").read_text())))
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
