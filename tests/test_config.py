import pytest

from loadgen.config import PayloadConfig, TargetConfig, parse_image_shape, parse_task_mix, resolve_protocol
from loadgen.errors import ConfigError


def test_host_urls():
    t = TargetConfig.from_url("grpc://10.1.2.3:5555", grpc_mode="stream")
    assert (t.protocol, t.host, t.port, t.tls, t.grpc_mode) == ("grpc", "10.1.2.3", 5555, False, "stream")
    assert TargetConfig.from_url("grpcs://gw:443").tls
    assert TargetConfig.from_url("localhost:1234").url == "grpc://localhost:1234"


@pytest.mark.parametrize("url, needle", [
    ("ftp://h:1", "unsupported scheme"), ("grpc://h", "needs a host and a port"),
    ("grpc://h:99999", "bad port"), ("grpc://:80", "needs a host"),
])
def test_bad_host_urls_name_the_option(url, needle):
    with pytest.raises(ConfigError, match="--host") as err:
        TargetConfig.from_url(url)
    assert needle in str(err.value)


def test_image_shapes():
    assert parse_image_shape("224,224,3") == (224, 224, 3)
    assert parse_image_shape("64x64x3") == (64, 64, 3)
    for bad in ("", "a,b", "0,3", "-1,2", "2.5,3", "224,x", "3,", "x3"):
        with pytest.raises(ConfigError, match="--image-shape"):
            parse_image_shape(bad)


def test_task_mix():
    assert parse_task_mix("index:1,search:4") == {"/index": 1, "/search": 4}
    assert parse_task_mix("/search") == {"/search": 1}
    for bad in ("", "index:x", "index:-1", ":3", "index:0"):
        with pytest.raises(ConfigError, match="--task-mix"):
            parse_task_mix(bad)


@pytest.mark.parametrize("field, value, option", [
    ("request_size", 0, "--request-size"), ("top_k", 0, "--top-k"), ("pool_size", 0, "--pool-size"),
    ("pool_mb", 0, "--pool-mb"), ("kind", "audio", "--kind"),
])
def test_payload_validation(field, value, option):
    with pytest.raises(ConfigError, match=option):
        PayloadConfig(**{field: value})


def test_target_validation():
    with pytest.raises(ConfigError, match="--protocol"):
        TargetConfig(protocol="smtp")
    with pytest.raises(ConfigError, match="--grpc-mode"):
        TargetConfig(grpc_mode="bidi")
    with pytest.raises(ConfigError, match="--timeout"):
        TargetConfig(timeout_s=0)


@pytest.mark.parametrize("url, protocol, tls", [
    ("grpc://h:1", "grpc", False), ("grpcs://h:1", "grpc", True), ("ws://h:1", "websocket", False),
    ("wss://h:1", "websocket", True), ("http://h:1", "http", False), ("HTTPS://h:1", "http", True),
])
def test_the_scheme_decides_the_protocol_and_round_trips(url, protocol, tls):
    target = TargetConfig.from_url(url)
    assert (target.protocol, target.tls) == (protocol, tls)
    assert target.url == url.lower() and TargetConfig.from_url(target.url) == target
    assert target.wire == ("json" if protocol == "http" else "protobuf")


def test_a_host_without_scheme_takes_the_default_protocol():
    assert TargetConfig.from_url("h:8080", default_protocol="http").url == "http://h:8080"
    assert TargetConfig.from_url("h:8080", default_protocol="websocket").protocol == "websocket"


@pytest.mark.parametrize("host, requested, pinned, expected", [
    ("", "", (), "grpc"), ("", "http", (), "http"), ("", "", ("websocket",), "websocket"),
    ("ws://h:1", "", (), "websocket"), ("ws://h:1", "websocket", ("websocket",), "websocket"),
    ("h:1", "http", (), "http"), ("h:1", "", (), "grpc"),
])
def test_resolve_protocol(host, requested, pinned, expected):
    assert resolve_protocol(host=host, requested=requested, pinned=pinned) == expected


@pytest.mark.parametrize("host, requested, pinned, needle", [
    ("grpc://h:1", "http", (), "--protocol http does not match --host grpc://h:1 (a grpc URL)"),
    ("http://h:1", "", ("grpc",), "--protocol: the locustfile's users speak only grpc but the run uses http"),
    ("", "", ("grpc", "http"), "--protocol: the locustfile mixes users of grpc, http"),
])
def test_resolve_protocol_conflicts_name_the_option(host, requested, pinned, needle):
    with pytest.raises(ConfigError) as err:
        resolve_protocol(host=host, requested=requested, pinned=pinned)
    assert needle in str(err.value)
