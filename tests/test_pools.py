import pytest

from loadgen.config import PayloadConfig
from loadgen.errors import ConfigError
from loadgen.pools import MIB, build_pools
from loadgen.wire import jina_pb2 as jp


def test_one_pool_per_endpoint_cycling_round_robin():
    payload = PayloadConfig(kind="text", request_size=2, pool_size=3, top_k=4)
    pools = build_pools(payload, ["/index", "/search"], seed=1).pools
    assert set(pools) == {"/index", "/search"} and len(pools["/search"]) == 3
    seen = [pools["/search"].next() for _ in range(6)]
    assert seen[:3] == seen[3:] and len({r.body for r in seen[:3]}) == 3
    assert seen[0].expected_matches == 4 and pools["/index"].next().expected_matches is None
    msg = jp.DataRequestProto.FromString(seen[0].body)
    assert msg.parameters["top_k"] == 4 and len(msg.data.docs.docs) == 2


def test_pool_is_reproducible_and_endpoints_differ():
    payload = PayloadConfig(kind="image", image_shape=(4, 4, 3), request_size=2, pool_size=2)
    a = build_pools(payload, ["/index", "/search"], seed=9).pools
    b = build_pools(payload, ["/index", "/search"], seed=9).pools
    assert [r.body for r in a["/index"].requests] == [r.body for r in b["/index"].requests]
    index_docs = jp.DataRequestProto.FromString(a["/index"].requests[0].body).data.docs.docs
    search_docs = jp.DataRequestProto.FromString(a["/search"].requests[0].body).data.docs.docs
    assert index_docs[0].data["id"].text != search_docs[0].data["id"].text


def test_pool_shrinks_to_the_memory_cap_with_a_note():
    # One request: 4 images of 64x64x3 bytes = ~48 KiB; cap 0.2 MiB for 2 endpoints = ~2 each.
    payload = PayloadConfig(kind="image", image_shape=(64, 64, 3), request_size=4, pool_size=50, pool_mb=0.2)
    result = build_pools(payload, ["/index", "/search"], seed=0)
    assert 1 <= len(result.pools["/index"]) < 50
    assert result.nbytes <= 0.2 * MIB
    assert any("--pool-mb" in note and "/index" in note for note in result.notes)


def test_a_request_larger_than_the_cap_is_a_clear_error():
    payload = PayloadConfig(kind="image", image_shape=(256, 256, 3), request_size=8, pool_mb=1)
    with pytest.raises(ConfigError, match=r"--pool-mb: one /index request is .* MiB"):
        build_pools(payload, ["/index"], seed=0)
