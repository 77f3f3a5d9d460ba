"""Which optional dependency comes with which extra of the ``jina-loadgen`` distribution.

A core install (``pip install jina-loadgen``) has no Locust, boto3 or Pillow; a command that
needs one of them says which extra to install instead of failing with a traceback
(:func:`missing_extra`, used by the ``loadgen`` console script).
"""
from __future__ import annotations

from typing import Optional

# Top-level module -> the extra that installs it (setup.cfg [options.extras_require]).
EXTRA_OF = {
    "locust": "locust", "gevent": "locust", "greenlet": "locust", "geventhttpclient": "locust",
    "websockets": "locust", "rich": "locust", "configargparse": "locust", "zmq": "locust", "msgpack": "locust",
    "flask": "locust", "boto3": "aws", "botocore": "aws", "PIL": "data",
}


def missing_extra(exc: ModuleNotFoundError, *, command: str) -> Optional[str]:
    """The one-line message for ``exc`` when an extra provides the missing module, else None.

    Example: ``loadgen run needs the 'locust' extra (no module named 'gevent'): pip install
    'jina-loadgen[locust]'``.
    """
    module = (exc.name or "").split(".")[0]
    extra = EXTRA_OF.get(module)
    if extra is None:
        return None
    return (f"loadgen {command} needs the '{extra}' extra (no module named {module!r}): "
            f"pip install 'jina-loadgen[{extra}]'")
