"""The generator of ``loadgen replay make`` (loadgen.replay.generator)."""
import io
import shlex
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from loadgen.cli import main
from loadgen.errors import ConfigError
from loadgen.replay import MakeConfig, generate, make, read

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "replay"


def lines_of(text, **kwargs):
    return list(read(io.StringIO(text), **kwargs))


def made(config):
    stream = io.StringIO()
    make(config, stream)
    return stream.getvalue()


def test_the_generator_is_deterministic_for_a_seed():
    config = MakeConfig(calls=500, seed=7, top_k=50)
    assert made(config) == made(config)
    assert made(config) != made(MakeConfig(calls=500, seed=8, top_k=50))
    head = made(config).splitlines()[:3]
    assert head[1] == ("# made by: loadgen replay make --calls 500 --users 10000 --mix search:1,index:1 "
                       "--kind image --docs 1 --top-k 50 --seed 7")
    assert head[2].startswith(("/search?kind=image&docs=1&top_k=50&seed=", "/index?kind=image&docs=1&seed="))


@pytest.mark.parametrize("config", [
    MakeConfig(calls=300, seed=1), MakeConfig(calls=300, kind="text", docs=3, paired=True, variant_fraction=0.5),
    MakeConfig(calls=300, shape=(8, 8, 3), mix=(("/a", 0), ("/search", 3), ("/index", 1))),
])
def test_the_written_file_reads_back_as_generated(config):
    assert lines_of(made(config)) == list(generate(config))


def test_mix_ratios():
    config = MakeConfig(calls=20_000, mix=(("/search", 3), ("/index", 1), ("/never", 0)), users=50)
    lines = list(generate(config))
    counts = Counter(line.endpoint for line in lines)
    assert set(counts) == {"/search", "/index"} and counts["/search"] / len(lines) == pytest.approx(0.75, abs=0.015)
    assert {line.user for line in lines} == {str(u) for u in range(1, 51)}
    assert all(line.top_k == 10 for line in lines if line.endpoint == "/search")
    assert all(line.top_k is None for line in lines if line.endpoint == "/index")


def test_paired_calls_alternate_with_a_variant():
    config = MakeConfig(calls=5000, paired=True, mix=(("/search", 1), ("/index", 1)))
    lines = list(generate(config))
    assert len(lines) == 10_000 == config.lines
    firsts, seconds = lines[0::2], lines[1::2]
    assert {line.endpoint for line in firsts} == {"/search"} and {line.endpoint for line in seconds} == {"/index"}
    assert all((a.user, a.seed) == (b.user, b.seed) for a, b in zip(firsts, seconds))
    variants = [line for line in seconds if line.name]
    assert {(line.name, line.params) for line in variants} == {("/index-variant", (("variant", 1),))}
    assert len(variants) / len(seconds) == pytest.approx(0.1, abs=0.015)
    assert not any(line.name for line in firsts)


@pytest.mark.parametrize("kwargs, option", [
    (dict(calls=0), "--calls"), (dict(users=0), "--users"), (dict(docs=0), "--docs"), (dict(top_k=0), "--top-k"),
    (dict(seed=-1), "--seed"), (dict(kind="audio"), "--kind"), (dict(kind="text", shape=(2, 2)), "--shape"),
    (dict(variant_fraction=1.5), "--variant-fraction"),
    (dict(paired=True, mix=(("/a", 1), ("/b", 1), ("/c", 1))), "--paired"),
    (dict(paired=True, mix=(("/a", 1), ("/b", 2))), "--paired"),
])
def test_generator_options_are_checked(kwargs, option):
    with pytest.raises(ConfigError, match=f"^{option}: "):
        MakeConfig(**kwargs)


def test_the_generator_streams_in_constant_memory():
    class Sink:  # counts what is written, keeps nothing
        size = 0

        def write(self, text):
            self.size += len(text)

    sink = Sink()
    tracemalloc.start()
    try:
        written = make(MakeConfig(calls=20_000, paired=True), sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 40,000 lines are ~2.4 MB of text; holding them would show up as a peak of that size.
    assert written == 40_000 and sink.size > 2_000_000 and peak < 256 * 1024


# -- the shipped examples -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["image-mix.replay", "text-paired.replay"])
def test_generated_examples_are_what_their_command_makes(name, tmp_path):
    shipped = (SCENARIOS / name).read_text(encoding="utf-8")
    command = shipped.splitlines()[1].removeprefix("# made by: loadgen ")
    assert main([*shlex.split(command), "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / name).read_text(encoding="utf-8") == shipped
