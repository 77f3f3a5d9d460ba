"""A ``--validator`` that burns CPU on the load generator's hub: a generator made to saturate.

    PYTHONPATH=tests/locustfiles locust ... --validator cpu_burn:burn --validator-kwargs '{"ms": 6}'

``burn`` spins for ``ms`` milliseconds of this thread's CPU time (``time.thread_time``, so
the cost is the same on a busy machine) after each successful request, then accepts the
reply. At R requests/s it asks for R * ms / 1000 cores of the hub: above one, the process is
saturated whatever the gateway does.
"""
import time


def burn(result, *, ms: float = 2.0):
    """Spin for ``ms`` ms of CPU time; never rejects a reply."""
    end = time.thread_time() + ms / 1000.0
    while time.thread_time() < end:
        pass
    return None
