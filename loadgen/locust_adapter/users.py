"""Locust users that drive a Jina gateway with pre-encoded requests.

Each user owns one transport (a gRPC channel, a websocket connection or a keep-alive HTTP
connection; the run's protocol comes from ``--host``/``--protocol``) opened in ``on_start``
-- never at import time, because a channel created before Locust forks ``--processes``
workers hangs them.
The default task draws an endpoint from ``--task-mix`` and sends the next pooled request;
timing happens inside the transport, and :meth:`JinaUser.send` reports the result to
Locust's ``request`` event and to loadgen's HDR metrics.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import grpc.experimental.gevent
from gevent import GreenletExit
from locust import User, constant, task
from locust.exception import StopUser
from locust.user.users import LOCUST_STATE_STOPPING

from loadgen.locust_adapter.pause import pause_between_tasks
from loadgen.locust_adapter.session import session_of
from loadgen.encoding import EncodedRequest
from loadgen.results import Result

# Makes grpcio's blocking calls yield to other greenlets; safe at import (no channel yet).
grpc.experimental.gevent.init_gevent()


class JinaUserBase(User):
    """Abstract base of all Jina users, without tasks: a transport per user, :meth:`send` and
    :meth:`send_request`. Derive from :class:`JinaUser` (the ``--task-mix`` task) or this.
    """

    abstract = True
    wait_time = constant(0)
    #: None: speak the run's protocol (``--host``'s scheme or ``--protocol``). A subclass that
    #: pins one (``JinaGrpcUser``, ...) makes a run of another protocol a usage error (exit 2)
    #: and, without ``--host``/``--protocol``, chooses the embedded Flow's protocol.
    protocol: Optional[str] = None
    #: Where this user's endpoints come from, for the check before the load
    #: (:func:`~loadgen.locust_adapter.bootstrap.check_endpoints`): ``task_mix``, ``replay_file``,
    #: or None (tasks of its own: not checked).
    endpoints_from: Optional[str] = None

    def on_start(self) -> None:
        self.session = session_of(self.environment)
        self.transport = self.session.open_transport()
        pause_between_tasks(self)

    def on_stop(self) -> None:
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.close()

    def send(self, endpoint: str) -> Result:
        """Send the next pooled request of ``endpoint``; report and return its result.

        Under ``--arrival-rate`` the send waits for its scheduled time; the result then carries
        its lag behind the schedule, which the metrics add to the latency (coordinated-omission
        correction) and keep apart as the uncorrected figure."""
        return self.send_request(self.session.next_request(endpoint))

    def send_request(self, request: EncodedRequest, *, name: Optional[str] = None, weight: int = 1) -> Result:
        """Send a pre-encoded request (see :meth:`send`); ``name`` is what it is counted under
        (default: its endpoint); ``weight`` arrival intervals are drawn for it (open loop)."""
        turns = self.session.turns
        turn = turns.wait(weight)  # open loop: the scheduled send time; closed: None
        if turn is not None and self._state == LOCUST_STATE_STOPPING:
            turns.end()
            raise StopUser()  # stopped gracefully (--stop-timeout) while waiting: send nothing more
        self.session.inflight += 1
        try:
            result = self.transport.send(request)
        except GreenletExit:  # the run is stopping: account the request instead of losing it
            self.session.record_unfinished(self.transport.protocol, name or request.endpoint)
            raise
        finally:
            self.session.inflight -= 1
            turns.end()
        if turn is not None or name is not None:
            result = relabel(result, turn, name)
        if self.session.validator is not None and result.error is None:
            result = self.session.validate(result)
        self.session.record(result)
        return result


def relabel(result: Result, turn: Optional[tuple[float, float]], name: Optional[str]) -> Result:
    """``result`` with its open-loop ``turn`` (``(lag_s, interval_s)``: lag behind the
    schedule, arrival interval) and/or the ``name`` it is counted under, in one copy."""
    changes: dict = {} if name is None else {"endpoint": name}
    if turn is not None:
        lag_s, interval_s = turn
        changes.update(schedule_lag_s=lag_s, late=lag_s > interval_s)
    return replace(result, **changes)


class JinaUser(JinaUserBase):
    """A Jina user whose task sends to endpoints drawn from ``--task-mix``. Configure it with
    options, or add your own ``@task`` methods that call :meth:`send`.

    Example::

        class SearchOnly(JinaUser):
            @task
            def search(self):
                self.send("/search")
    """

    abstract = True
    endpoints_from = "task_mix"

    @task
    def mixed(self) -> None:
        """One request to an endpoint drawn from ``--task-mix``."""
        self.send(self.session.pick_endpoint())


class JinaGrpcUser(JinaUser):
    """A Jina gRPC user (``--grpc-mode unary|stream``); ``request_type="grpc"``."""

    abstract = True
    protocol = "grpc"


class JinaWebsocketUser(JinaUser):
    """A Jina websocket user (one connection, binary protobuf frames); ``request_type="websocket"``."""

    abstract = True
    protocol = "websocket"


class JinaHttpUser(JinaUser):
    """A Jina HTTP user (one keep-alive connection, JSON bodies, no routes); ``request_type="http"``."""

    abstract = True
    protocol = "http"


class JinaReplayUser(JinaUserBase):
    """Sends the lines of ``--replay-file`` in file order, each exactly once per pass across
    the fleet, counted under the line's ``name=`` or endpoint; pace it with ``--arrival-rate``.
    Its users stop when the file (or ``--max-requests``) is used up; then the run ends."""

    abstract = True
    endpoints_from = "replay_file"

    def replay_line(self) -> None:
        """Send the next line of this process's share (or stop this user: none is left)."""
        item = self.session.replay.next()
        if item is None:
            raise StopUser()
        line, request = item
        try:
            self.send_request(request, name=line.stat_name, weight=line.weight)
            self.session.count_replayed(line)
        finally:
            self.session.replay.sent()

    tasks = [replay_line]
