"""Error types: one root for what loadgen reports to a user, and the failure classes of a request.

``LoadgenError`` is the root of every error loadgen raises to its caller: :class:`ConfigError`
(bad input, exit code 2) and :class:`RunError` (a run-time failure, exit code 1: a Flow that
did not start, a cloud operation, a scenario step). The CLI catches the root once.

Every failed request carries one :class:`RequestFailure` subclass; its ``kind`` is the
failure class counted in reports (``connect``, ``timeout``, ``gateway_status``,
``protocol``, ``validation``). See docs/protocols.md.
"""
import difflib
from typing import Iterable


class LoadgenError(Exception):
    """Root of the errors loadgen reports to a user; the message names the cause and the fix."""


class ConfigError(LoadgenError, ValueError):
    """Bad user input: the message names the option, file or line and the fix (exit code 2)."""


class RunError(LoadgenError, RuntimeError):
    """A run-time failure that is not the user's input (exit code 1)."""


class FlowError(RunError):
    """The demo Flow could not be started or stopped (the message says why and where its log is)."""


class CloudError(RunError):
    """A cloud operation failed at run time (quota, permissions, a worker that never
    connected, a checksum mismatch); the message names the cause and the fix."""


class RequestFailure(Exception):
    """Base of every per-request failure; ``kind`` is the reported failure class."""

    kind = "protocol"

    def __repr__(self) -> str:
        # Locust keys its failures table on repr(error): show the class and the failure class.
        return f"{type(self).__name__} [{self.kind}]: {self}"


class ConnectError(RequestFailure, ConnectionError):
    """The gateway could not be reached (refused, reset, DNS, unavailable)."""

    kind = "connect"


class RequestTimeout(RequestFailure):
    """No reply before the per-request deadline (``--timeout``)."""

    kind = "timeout"


class GatewayStatusError(RequestFailure):
    """The gateway answered with a non-success status (an Executor raised, usually)."""

    kind = "gateway_status"


class ProtocolError(RequestFailure):
    """The reply could not be decoded, or the transport failed in an unexpected way."""

    kind = "protocol"


class ValidationError(RequestFailure):
    """The reply decoded but is wrong: missing docs or matches, or a skipped Executor."""

    kind = "validation"


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``known`` to ``name``, or ``""``: the
    hint every "unknown NAME" message of loadgen ends with."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
