"""Atomic writers: a results file is there whole or not at all."""
import json

from loadgen.files import write_json_atomic


def test_json_is_written_atomically(tmp_path):
    path = write_json_atomic(tmp_path / "sub" / "summary.json", {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]
