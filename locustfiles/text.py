"""Text search load: seeded sentences sent to /index and /search of a Jina Flow.

    locust -f locustfiles/text.py --headless -u 20 -r 20 -t 30s             # embedded demo Flow
    locust -f locustfiles/text.py --headless -u 20 -r 20 -t 30s --host grpc://HOST:PORT
    locust -f locustfiles/text.py --headless -u 20 -r 20 -t 30s --host http://HOST:PORT  # ws:// too
"""
from locust import events

from loadgen.locust_adapter import JinaUser, register

register(events, kind="text")


class TextSearchUser(JinaUser):
    """Sends pre-encoded text requests, mixed by --task-mix (default index:1,search:4)."""
