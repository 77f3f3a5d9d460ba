"""Replay a request file: each line once per pass across the fleet, in file order.

    locust -f locustfiles/replay.py --headless -u 20 -r 20 --replay-file scenarios/replay/image-mix.replay \\
        --arrival-rate 100 [--reuse-file] [--max-requests N] [--duration S] [--host grpc://HOST:PORT]

The run stops when the file (or --max-requests) is used up, or at -t/--duration. Lines name
their documents by seed, so two runs send identical requests. Format: docs/replay.md.
"""
from locust import events

from loadgen.locust_adapter import JinaReplayUser, register

register(events, kind="image")  # a line without kind= sends images; kind=text lines send text


class ReplayUser(JinaReplayUser):
    """Takes the next line of this process's share and sends it at its scheduled time."""
