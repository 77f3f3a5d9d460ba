"""Locust integration: the only part of loadgen that imports locust or gevent.

A locustfile calls :func:`register` once, then defines users derived from
:class:`~loadgen.locust_adapter.users.JinaUser` (the run's protocol) or one that pins a
protocol (``JinaGrpcUser``, ``JinaWebsocketUser``, ``JinaHttpUser``). See docs/architecture.md.
"""
from loadgen.locust_adapter.lifecycle import register
from loadgen.locust_adapter.users import JinaGrpcUser, JinaHttpUser, JinaReplayUser, JinaUser, JinaWebsocketUser

__all__ = ["JinaGrpcUser", "JinaHttpUser", "JinaReplayUser", "JinaUser", "JinaWebsocketUser", "register"]
