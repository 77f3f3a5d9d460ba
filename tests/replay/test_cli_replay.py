"""``loadgen replay make|check`` as a user runs them: a real process, its exit code and output."""
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "replay"
SELDON_MAP = "/js/recommendations=/search,/js/action/new=/index"


def loadgen(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loadgen", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)


def test_make_then_check(tmp_path):
    out = tmp_path / "sub" / "mix.replay"
    made = loadgen("replay", "make", "--calls", "400", "--users", "50", "--mix", "search:3,index:1", "--kind", "text",
                   "--docs", "2", "--top-k", "5", "--seed", "7", "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert made.stdout == f"wrote 400 requests to {out}\n" and not (tmp_path / "sub" / "mix.replay.partial").exists()
    checked = loadgen("replay", "check", str(out))
    assert checked.returncode == 0 and checked.stderr == ""
    lines = checked.stdout.splitlines()
    assert lines[0] == f"{out}: OK" and lines[1].startswith("  requests 400, total weight 400, distinct users ")
    assert any(line.split()[:2] == ["endpoint", "/index"] for line in lines)
    assert any(line.split()[:3] == ["kind", "text", "400"] for line in lines)
    assert any(line.split()[:3] == ["docs", "2", "400"] for line in lines)


def test_check_prints_each_error_with_file_and_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.replay"
    path.write_text("# two bad lines\n/search?docs=1\n/search?docs=two\n/index?kind=audio\n/index\n", encoding="utf-8")
    proc = loadgen("replay", "check", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"{path}:3: docs='two' is not a whole number from 1 to 10000; expected docs=N, e.g. docs=1",
        f"{path}:4: unknown kind 'audio'; expected kind=image or kind=text",
    ]
    assert proc.stdout.startswith(f"{path}: 2 errors\n  requests 2,")


def test_check_stops_after_max_errors(tmp_path):
    path = tmp_path / "bad.replay"
    path.write_text("/a?x=1\n" * 50, encoding="utf-8")
    proc = loadgen("replay", "check", "--max-errors", "5", str(path))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 5
    assert "stopped at error 5 (--max-errors): lines after 5 were not checked" in proc.stdout


@pytest.mark.parametrize("content, needle", [
    (b"", "no requests (the file is empty or holds only comments and blank lines); expected at least one"),
    (b"# only a comment\r\n\r\n", "no requests (the file is empty"),
])
def test_check_of_a_file_without_requests_exits_2(tmp_path, content, needle):
    path = tmp_path / "empty.replay"
    path.write_bytes(content)
    proc = loadgen("replay", "check", str(path))
    assert proc.returncode == 2 and proc.stderr.startswith(f"{path}: {needle}")


def test_check_of_a_missing_file_is_a_usage_error(tmp_path):
    proc = loadgen("replay", "check", str(tmp_path / "nope.replay"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"loadgen: error: {tmp_path / 'nope.replay'}: cannot read the file")


def test_a_seldon_log_needs_the_endpoint_map():
    path = SCENARIOS / "seldon-recommendations.replay"
    mapped = loadgen("replay", "check", str(path), "--endpoint-map", SELDON_MAP)
    assert mapped.returncode == 0 and mapped.stdout.startswith(f"{path}: OK\n  requests 100,")
    unmapped = loadgen("replay", "check", "--max-errors", "1", str(path))
    assert unmapped.returncode == 2 and ":8: unknown key 'consumer_key'" in unmapped.stderr
    assert "--endpoint-map" in unmapped.stderr


@pytest.mark.parametrize("args, needle", [
    (["--mix", "search:x"], "loadgen: error: --mix: bad item 'search:x'"),
    (["--paired", "--mix", "a:1,b:1,c:1"], "loadgen: error: --paired: a pair is sent 1:1"),
    (["--shape", "0,3"], "loadgen: error: --shape: cannot read '0,3'"),
    (["--kind", "audio"], "loadgen: error: --kind: unknown document kind 'audio'"),
])
def test_make_rejects_bad_options(tmp_path, args, needle):
    proc = loadgen("replay", "make", *args, "-o", str(tmp_path / "x.replay"))
    assert proc.returncode == 2 and proc.stderr.startswith(needle) and not (tmp_path / "x.replay").exists()


def test_a_million_lines_stream_to_disk_in_constant_memory(tmp_path):
    # Peak RSS before and after writing 1e6 lines (~60 MB): held in memory they would add >100 MB.
    code = ("import resource, sys; from loadgen.replay import MakeConfig, write_file; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "n = write_file(MakeConfig(calls=500_000, paired=True), sys.argv[1]); "
            "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    out = tmp_path / "big.replay"
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60)
    written, grown_kib = map(int, proc.stdout.split())
    assert written == 1_000_000 and out.stat().st_size > 50_000_000
    assert grown_kib < 16 * 1024, f"peak RSS grew by {grown_kib} KiB"


def test_the_other_commands_are_still_there():
    proc = loadgen("--help")
    assert proc.returncode == 0 and all(word in proc.stdout for word in ("flow", "report", "replay"))
