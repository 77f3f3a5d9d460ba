"""Image search load: random uint8 tensors sent to /index and /search of a Jina Flow.

    locust -f locustfiles/image.py --headless -u 20 -r 20 -t 30s            # embedded demo Flow
    locust -f locustfiles/image.py --headless -u 20 -r 20 -t 30s --host grpc://HOST:PORT
    locust -f locustfiles/image.py --headless -u 20 -r 20 -t 30s --protocol websocket  # or http

Options: --task-mix, --request-size, --image-shape, --top-k, --grpc-mode, ... (locust --help).
"""
from locust import events

from loadgen.locust_adapter import JinaUser, register

register(events, kind="image")


class ImageSearchUser(JinaUser):
    """Sends pre-encoded image requests, mixed by --task-mix (default index:1,search:4)."""
