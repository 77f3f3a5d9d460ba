"""locustfiles/text.py plus ground truth for the generator's self-check: every event-loop lag
each load-generating process records, raw.

    LOADGEN_RAW_DIR=DIR locust -f tests/locustfiles/lag_samples.py ...

Each process appends to ``DIR/<pid>.lag`` one line per value its loop monitor hands to the
interval metrics (seconds, written with ``repr``): the very numbers the HDR histograms record.
"""
import importlib.util
import os
from pathlib import Path

from locust import events  # noqa: F401  (Locust first, as in every locustfile)

from loadgen.locust_adapter import monitor

_SHIPPED = Path(__file__).resolve().parents[2] / "locustfiles" / "text.py"
_spec = importlib.util.spec_from_file_location("loadgen_shipped_text_locustfile", _SHIPPED)
_shipped = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shipped)  # registers loadgen's options and listeners, defines the user

TextSearchUser = _shipped.TextSearchUser
RAW_DIR = Path(os.environ["LOADGEN_RAW_DIR"])


class RawLoopMonitor(monitor.LoopMonitor):
    """The shipped monitor, writing each recorded lag to this process's raw file as well."""

    def __init__(self, record, **kwargs):
        raw = open(RAW_DIR / f"{os.getpid()}.lag", "a", buffering=1)  # keyed by pid: --processes forks

        def record_raw(lag):
            raw.write(f"{lag!r}\n")
            record(lag)

        super().__init__(record_raw, **kwargs)


monitor.LoopMonitor = RawLoopMonitor  # what ProcessMonitor builds at test_start
