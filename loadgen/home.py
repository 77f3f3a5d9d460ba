"""Where loadgen's own files are: the shipped scenarios, demo Flows and locustfiles.

A checkout holds them beside the package; ``LOADGEN_HOME`` points elsewhere (a copy of the
checkout, e.g. in a container).
"""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout holding ``scenarios/`` (``LOADGEN_HOME`` overrides)."""
    return Path(os.environ.get("LOADGEN_HOME") or Path(__file__).resolve().parent.parent)
