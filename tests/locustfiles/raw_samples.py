"""locustfiles/text.py plus ground truth: every request's latency, raw, one file per process.

    LOADGEN_RAW_DIR=DIR locust -f tests/locustfiles/raw_samples.py ...

Each load-generating process appends to ``DIR/<pid>.txt`` one line per successful request:
the ``response_time`` (ms, an unrounded float written with ``repr``) of Locust's ``request``
event. loadgen fires that event from ``Session.record`` with ``Result.experienced_s * 1000``
-- the very number its HDR histogram records (as ``round(seconds * 1e6)`` µs): in closed loop
the latency, under ``--arrival-rate`` the latency corrected by the schedule lag (the
uncorrected one is then only in the HDR metrics). Failed requests go to ``DIR/<pid>.failed``,
one ``request_type name exception`` line each.
"""
import importlib.util
import os
from pathlib import Path

from locust import events

_SHIPPED = Path(__file__).resolve().parents[2] / "locustfiles" / "text.py"
_spec = importlib.util.spec_from_file_location("loadgen_shipped_text_locustfile", _SHIPPED)
_shipped = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shipped)  # registers loadgen's options and listeners, defines the user

TextSearchUser = _shipped.TextSearchUser
RAW_DIR = Path(os.environ["LOADGEN_RAW_DIR"])
_files: dict = {}


def _file(suffix: str):
    # Keyed by pid: --processes forks the workers after this module was imported.
    key = (os.getpid(), suffix)
    if key not in _files:
        _files[key] = open(RAW_DIR / f"{os.getpid()}{suffix}", "a", buffering=1)
    return _files[key]


@events.request.add_listener
def _raw_sample(request_type, name, response_time, exception, **_kwargs):
    if exception is None:
        _file(".txt").write(f"{response_time!r}\n")
    else:
        _file(".failed").write(f"{request_type} {name} {exception!r}\n")
