"""Error types: configuration errors (exit code 2) and the failure classes of a request.

Every failed request carries one :class:`RequestFailure` subclass; its ``kind`` is the
failure class counted in reports (``connect``, ``timeout``, ``gateway_status``,
``protocol``, ``validation``). See docs/protocols.md.
"""


class ConfigError(ValueError):
    """Bad user input: the message names the option, file or line and the fix."""


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
