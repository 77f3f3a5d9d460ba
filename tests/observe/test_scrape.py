"""Parsing Prometheus text: Jina's real pages (tests/observe/data, saved from a demo Flow)."""
from pathlib import Path

import pytest

from loadgen.observe.scrape import JINA_FAMILIES, ScrapeError, family_name, keeper, parse

DATA = Path(__file__).parent / "data"


def page(name: str) -> str:
    return (DATA / name).read_text()


def test_a_jina_executor_page_gives_its_counts_and_times():
    reading = parse(page("jina_encoder.prom"), keep=keeper(), source="u", at=5.0)
    runtime = (("runtime_name", "encoder/rep-0"),)
    ok = reading.series[("jina_successful_requests", runtime)]
    assert ok.kind == "counter" and ok.value == 15.0  # 7 /index + 7 /search + the readiness dry run
    assert reading.series[("jina_failed_requests", runtime)].value == 0.0
    search = reading.series[("jina_process_request_seconds", (("executor", "RandomProjectionEncoder"),
                                                              ("executor_endpoint", "/search"), *runtime))]
    assert search.kind == "summary" and search.count == 7.0 and search.sum == pytest.approx(0.0031818939996810514)
    assert not search.buckets and not search.quantiles, "Jina's times are summaries: count and sum only"
    receiving = reading.series[("jina_receiving_request_seconds", runtime)]
    assert receiving.count == 15.0 and receiving.sum > 0
    assert {family for family, _ in reading.series} <= set(JINA_FAMILIES)
    assert reading.source == "u" and reading.at == 5.0


def test_the_gateway_page_and_a_head_page():
    gateway = parse(page("jina_gateway.prom"), keep=keeper())
    labels = (("runtime_name", "gateway/rep-0"),)
    assert gateway.series[("jina_successful_requests", labels)].value == 15.0
    assert gateway.series[("jina_sending_request_seconds", labels)].count == 30.0  # 2 Executors per request
    assert gateway.series[("jina_number_of_pending_requests", labels)].kind == "gauge"
    head = parse(page("jina_head.prom"), keep=keeper())
    assert head.series[("jina_successful_requests", (("runtime_name", "encoder/head"),))].value == 15.0


def test_only_kept_families_are_parsed_and_created_timestamps_are_dropped():
    text = page("jina_encoder.prom")
    assert "jina_successful_requests_created" in text and "jina_sent_response_bytes" in text
    reading = parse(text, keep=keeper())
    assert all(not family.endswith("_created") for family, _ in reading.series)
    assert "jina_sent_response_bytes" not in {family for family, _ in reading.series}
    extra = parse(text, keep=keeper(["jina_sent_response_bytes_sum", "jina_document_processed_total"]))
    names = {family for family, _ in extra.series}
    assert {"jina_sent_response_bytes", "jina_document_processed"} <= names
    docs = extra.series[("jina_document_processed", (("executor", "RandomProjectionEncoder"),
                                                     ("executor_endpoint", "/index"),
                                                     ("runtime_name", "encoder/rep-0")))]
    assert docs.kind == "counter" and docs.value == 14.0  # 7 requests of 2 documents


def test_histograms_and_server_side_quantiles():
    text = """# TYPE rpc_seconds histogram
rpc_seconds_bucket{le="0.1",method="a"} 3
rpc_seconds_bucket{le="0.5",method="a"} 8
rpc_seconds_bucket{le="+Inf",method="a"} 10
rpc_seconds_count{method="a"} 10
rpc_seconds_sum{method="a"} 2.5
# TYPE go_gc_seconds summary
go_gc_seconds{quantile="0.5"} 0.001
go_gc_seconds{quantile="0.99"} 0.02
go_gc_seconds_sum 0.3
go_gc_seconds_count 40
"""
    reading = parse(text, keep=keeper(["rpc_seconds", "go_gc_seconds"]))
    hist = reading.series[("rpc_seconds", (("method", "a"),))]
    assert hist.kind == "histogram" and hist.buckets == {0.1: 3.0, 0.5: 8.0, float("inf"): 10.0}
    assert hist.count == 10.0 and hist.sum == 2.5
    summary = reading.series[("go_gc_seconds", ())]
    assert summary.quantiles == {0.5: 0.001, 0.99: 0.02} and summary.count == 40.0


@pytest.mark.parametrize("text", ["", "<html><body>Not Found</body></html>", "\x00\x01\x02 binary",
                                  "{\"json\": true}"])
def test_text_that_is_not_prometheus_is_garbage(text):
    with pytest.raises(ScrapeError) as caught:
        parse(text, keep=keeper())
    assert caught.value.kind == "garbage"


def test_a_page_without_kept_families_parses_to_nothing():
    reading = parse("# TYPE node_load1 gauge\nnode_load1 0.5\n", keep=keeper())
    assert reading.series == {}


def test_family_names_from_sample_names():
    assert [family_name(n) for n in ("x_total", "x_bucket", "x_count", "x_sum", "x")] == ["x"] * 5
