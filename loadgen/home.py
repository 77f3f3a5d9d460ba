"""Where loadgen's own files are: the locustfiles and the demo Flows (YAML and Executors).

An installed package carries a copy under ``loadgen/shipped/`` (the build copies
``locustfiles/`` and ``scenarios/flows/`` there: setup.py); a checkout holds them beside the
package; ``LOADGEN_HOME`` points elsewhere (a copy of the checkout, e.g. in a container).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
LOCUSTFILES = ("image", "text", "replay")  # locustfiles/<name>.py, shipped with the package


def project_root() -> Path:
    """The directory holding ``locustfiles/`` and ``scenarios/flows/``: ``LOADGEN_HOME``, else
    the installed package's copy, else the checkout around the package."""
    home = os.environ.get("LOADGEN_HOME")
    if home:
        return Path(home)
    shipped = PACKAGE / "shipped"
    return shipped if shipped.is_dir() else PACKAGE.parent


def locustfile_path(name: str) -> Path:
    """The shipped locustfile ``name`` (one of :data:`LOCUSTFILES`), e.g. for ``locust -f``."""
    return project_root() / "locustfiles" / f"{name}.py"
