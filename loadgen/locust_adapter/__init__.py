"""Locust integration: the only part of loadgen that imports locust or gevent.

A locustfile calls :func:`register` once, then defines users derived from
:class:`~loadgen.locust_adapter.users.JinaGrpcUser`. See docs/architecture.md.
"""
from loadgen.locust_adapter.session import register
from loadgen.locust_adapter.users import JinaGrpcUser, JinaUser

__all__ = ["JinaGrpcUser", "JinaUser", "register"]
