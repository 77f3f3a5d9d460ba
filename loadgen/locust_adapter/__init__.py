"""Locust integration: the only part of loadgen that imports locust or gevent.

A locustfile calls :func:`register` once, then defines users derived from
:class:`~loadgen.locust_adapter.users.JinaUser` (the run's protocol) or one that pins a
protocol (``JinaGrpcUser``, ``JinaWebsocketUser``, ``JinaHttpUser``). See docs/architecture.md.

``register`` and the users are loaded when first asked for: they import locust, which
monkey-patches the importing process with gevent (a locustfile has imported locust first
anyway). The modules of loadgen's per-process state (``session``, ``distributed``,
``intervals``, ``open_loop``, ``replay_feed``) need gevent only, so their seams are tested
in an unpatched test process.
"""
from typing import Any

__all__ = ["JinaGrpcUser", "JinaHttpUser", "JinaReplayUser", "JinaUser", "JinaWebsocketUser", "register"]


def __getattr__(name: str) -> Any:
    if name == "register":
        from loadgen.locust_adapter.lifecycle import register

        return register
    if name in __all__:
        from loadgen.locust_adapter import users

        return getattr(users, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
