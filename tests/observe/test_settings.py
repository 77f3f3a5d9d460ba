"""The options' texts → ObserveOptions, and one-line errors naming the option."""
import pytest

from loadgen.errors import ConfigError
from loadgen.observe.settings import observe_options, parse_sources
from loadgen.observe.totals import role_of


def test_defaults_and_sources():
    opts = observe_options()
    assert (opts.urls, opts.flow_pids, opts.auto, opts.prometheus_port, opts.prometheus_host) == ((), (), True, 0, "127.0.0.1")
    assert opts.prometheus_linger_s == 15.0 and not opts.scrapes
    opts = observe_options(server_metrics="http://a:1/metrics, pid:42,http://a:1/metrics", server_metric=["x_total", "y,z"],
                           prometheus_port="9646", prometheus_host="0.0.0.0", prometheus_linger="0")
    assert opts.urls == ("http://a:1/metrics",) and opts.flow_pids == (42,) and opts.scrapes
    assert opts.metric_names == ("x_total", "y", "z") and opts.prometheus_port == 9646
    assert opts.prometheus_host == "0.0.0.0" and opts.prometheus_linger_s == 0.0
    assert parse_sources("off")["auto"] is False


@pytest.mark.parametrize("kwargs, needle", [
    ({"server_metrics": "https://a/metrics"}, "--server-metrics"),
    ({"server_metrics": "a:9090"}, "--server-metrics"),
    ({"server_metrics": "pid:abc"}, "pid:PID"),
    ({"server_metric": ["bad-name"]}, "--server-metric"),
    ({"prometheus_port": "70000"}, "--prometheus-port"),
    ({"prometheus_port": "x"}, "--prometheus-port"),
    ({"prometheus_linger": "-1"}, "--prometheus-linger"),
])
def test_bad_values_name_the_option(kwargs, needle):
    with pytest.raises(ConfigError) as caught:
        observe_options(**kwargs)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("runtime, role", [("gateway/rep-0", "gateway"), ("gateway", "gateway"), ("idx/head", "head"),
                                           ("idx/shard-1/rep-0", "worker"), ("enc/rep-2", "worker"),
                                           ("idx/uses_after-0", "extra"), ("idx/uses_before-0", "extra")])
def test_roles_of_jina_runtimes(runtime, role):
    assert role_of(runtime) == role
