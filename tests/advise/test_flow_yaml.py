"""Reading Flow YAMLs into Executors and writing copies with another topology: the demo
Flows (replicas and shards from the environment: not pinned), a user YAML (numbers pinned,
names missing, its own port), and the original file never touched."""
import hashlib

import pytest
import yaml

from conftest import ROOT
from loadgen.advise.flow_yaml import ENV_PORT, ENV_PROTOCOL, for_loadgen, read_flow, with_topology, write_yaml
from loadgen.advise.topology import Topology
from loadgen.errors import ConfigError

USER_YAML = """\
jtype: Flow
with:
  port: 12345            # the user's own port
executors:
  - uses: Preprocessor   # no name: Jina calls it executor0
  - name: encoder
    uses: Encoder
    replicas: 3          # pinned
  - name: vectors
    uses: VectorIndexer
    shards: ${{ ENV.SHARDS }}
    uses_after: Merger
"""


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["image", "text"])
def test_the_demo_flows_take_their_topology_from_the_environment(name):
    flow = read_flow(ROOT / "scenarios" / "flows" / f"{name}.yml")
    assert flow.names == ("encoder", "indexer")
    encoder, indexer = flow.executors
    assert (encoder.replicas, encoder.shards, encoder.pinned, encoder.indexer) == (1, 1, False, False)
    assert (indexer.pinned, indexer.indexer, indexer.merger) == (False, True, True)


def test_a_demo_copy_has_numbers_for_replicas_and_shards_and_keeps_the_rest(tmp_path):
    path = ROOT / "scenarios" / "flows" / "image.yml"
    before = digest(path)
    flow = read_flow(path)
    topology = Topology((("encoder", 2, 1), ("indexer", 1, 2)))
    out = write_yaml(for_loadgen(flow, topology), tmp_path / "flow.yml", header="a copy\nfor a test")
    text = out.read_text()
    assert text.startswith("# a copy\n# for a test\n")
    doc = yaml.safe_load(text)
    encoder, indexer = doc["executors"]
    assert (encoder["replicas"], encoder["shards"], indexer["replicas"], indexer["shards"]) == (2, 1, 1, 2)
    assert indexer["monitoring"] is False  # sharded with a uses_after: one monitoring port for two runtimes
    assert "monitoring" not in encoder
    assert indexer["uses_with"]["default_top_k"] == "${{ ENV.TOP_K }}"  # other expressions untouched
    assert doc["with"]["port_monitoring"] == "${{ ENV.JINA_PORT_MONITORING }}"
    assert digest(path) == before


def test_a_user_yaml_keeps_pinned_counts_and_gets_loadgens_port(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text(USER_YAML)
    flow = read_flow(path)
    assert flow.names == ("executor0", "encoder", "vectors")
    pre, encoder, vectors = flow.executors
    assert (pre.replicas, pre.pinned) == (1, False)
    assert (encoder.replicas, encoder.pinned, encoder.indexer) == (3, True, False)
    assert (vectors.shards, vectors.pinned, vectors.indexer, vectors.merger) == (1, False, True, True)
    assert Topology.of(flow.executors).processes == 5

    grown = Topology.of(flow.executors).grown("executor0").grown("vectors", shard=True)
    doc = for_loadgen(flow, grown)
    assert doc["with"] == {"port": ENV_PORT, "protocol": ENV_PROTOCOL}
    assert [(e["name"], e["replicas"], e["shards"]) for e in doc["executors"]] == [
        ("executor0", 2, 1), ("encoder", 3, 1), ("vectors", 1, 2)]
    assert with_topology(flow, grown)["with"] == {"port": 12345}  # the recommendation keeps the user's port
    assert path.read_text() == USER_YAML
    assert flow.doc["executors"][0] == {"uses": "Preprocessor"}  # the read data is never changed


@pytest.mark.parametrize("text, expected", [
    ("jtype: Flow\n", "has no `executors:` list"),
    ("jtype: Flow\nexecutors: [\n", "flow.yml:3: not a Flow YAML"),
    ("!Flow\nexecutors: []\n", "not a Flow YAML loadgen can read"),
    ("executors:\n  - name: a\n    replicas: many\n", "Executor 'a': replicas: 'many' is neither a number"),
    ("executors:\n  - name: a\n    shards: 0\n", "shards: 0 is neither a number >= 1"),
    ("executors:\n  - name: a\n  - name: a\n", "name 'a' is used twice"),
    ("executors:\n  - just a string\n", "executors[0] is not a mapping"),
])
def test_bad_flow_yaml_is_one_line_naming_the_file(tmp_path, text, expected):
    path = tmp_path / "flow.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_flow(path)
    assert expected in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


def test_topology_labels_fragment_and_runtimes(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text(USER_YAML)
    flow = read_flow(path)
    topology = Topology((("executor0", 1, 1), ("encoder", 3, 1), ("vectors", 2, 2)))
    assert topology.label() == "executor0 1, encoder 3, vectors 2x2" and topology.slug() == "executor01-encoder3-vectors2x2"
    assert topology.processes == 8
    assert topology.runtimes(flow.executors) == 8 + 1 + 1 + 1  # head, uses_after, gateway
    fragment = yaml.safe_load(topology.fragment())
    assert fragment["executors"][2] == {"name": "vectors", "replicas": 2, "shards": 2}
    assert Topology.from_dict(topology.as_dict()) == topology
