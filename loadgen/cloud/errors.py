"""The runtime error of cloud commands (exit code 1); usage errors are
:class:`loadgen.errors.ConfigError` (exit code 2)."""


class CloudError(RuntimeError):
    """A cloud operation failed at run time (quota, permissions, a worker that never
    connected, a checksum mismatch); the message names the cause and the fix."""
