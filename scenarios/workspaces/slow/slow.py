"""SlowEncoder: the demo encoder plus a fixed delay per request, for scale-out studies.

Each replica handles one request at a time, so with ``delay_ms`` dominating, a Flow serves
about ``replicas * 1000 / delay_ms`` requests per second -- the effect Jina's
replicas/shards tutorial shows by hand. Loaded next to the demo package ``executors``
(copied into the same workspace by ``create_workspace``).
"""
import os
import sys
import time

from docarray import DocList
from jina import requests

# Jina's py_modules loads single files, not packages: put the workspace on the path so that
# the demo package imports under its own name (once).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from executors.encoder import RandomProjectionEncoder  # noqa: E402
from executors.schema import LoadDoc  # noqa: E402


class SlowEncoder(RandomProjectionEncoder):
    """Sleeps ``delay_ms`` per request, then encodes like the demo encoder."""

    def __init__(self, delay_ms: float = 50.0, **kwargs):
        super().__init__(**kwargs)
        self._delay_s = float(delay_ms) / 1000.0

    @requests(on=['/index', '/search'])
    def encode(self, docs: DocList[LoadDoc], **kwargs) -> DocList[LoadDoc]:
        time.sleep(self._delay_s)
        return super().encode(docs, **kwargs)
