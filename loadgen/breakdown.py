"""Where a request's time went, from the routes in the gateway's reply.

The gateway stamps a route for itself (request arrived → reply sent) and one per Executor
(gateway sent to it → gateway received its reply), all on the gateway's clock. From a
successful :class:`~loadgen.results.Result` this module derives, in seconds:

- each Executor's span — includes that hop's network and (de)serialization; parallel
  Executors overlap;
- **gateway overhead** = gateway route time − the length of the *union* of the Executor
  spans (time the gateway spent on the request while no Executor was working on it);
- **network + client** = the client's latency − gateway route time (both directions of the
  client↔gateway network, plus client-side gRPC/websocket work inside the timed span).

Over HTTP the gateway returns no routes, so there is no breakdown (None).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from loadgen.results import Result, Route

GATEWAY = "gateway"
GATEWAY_OVERHEAD = "gateway overhead"
NETWORK_CLIENT = "network + client"


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Per-Executor spans and the two derived figures of one request (seconds)."""

    executors: tuple[tuple[str, float], ...]
    gateway_s: float
    gateway_overhead_s: float
    network_client_s: float


def breakdown(result: Result) -> Optional[Breakdown]:
    """The breakdown of a successful result with a gateway route, else None."""
    if result.error is not None:
        return None
    gateway = next((r for r in result.routes if r.executor == GATEWAY and r.end_s is not None), None)
    if gateway is None:
        return None
    spans = [r for r in result.routes if r is not gateway and r.end_s is not None]
    gateway_s = gateway.end_s - gateway.start_s
    busy_s = union_length((r.start_s, r.end_s) for r in spans)
    return Breakdown(
        executors=tuple((r.executor, r.end_s - r.start_s) for r in spans),
        gateway_s=gateway_s,
        gateway_overhead_s=max(0.0, gateway_s - busy_s),
        network_client_s=max(0.0, result.latency_s - gateway_s),
    )


def union_length(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping ``(start, end)`` intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def timings(b: Breakdown) -> list[tuple[str, str, float]]:
    """``(request_type, name, seconds)`` entries to record: one per Executor, then the
    derived figures under request type ``breakdown``."""
    entries = [("executor", name, seconds) for name, seconds in b.executors]
    entries.append(("breakdown", GATEWAY_OVERHEAD, b.gateway_overhead_s))
    entries.append(("breakdown", NETWORK_CLIENT, b.network_client_s))
    return entries


def route_from_json(data: dict) -> Route:
    """A route from protobuf's JSON form (``executor``, ``startTime``, ``endTime``)."""
    start = data.get("startTime") or data.get("start_time")
    end = data.get("endTime") or data.get("end_time")
    return Route(executor=str(data.get("executor", "")), start_s=parse_timestamp(start) if start else 0.0,
                 end_s=parse_timestamp(end) if end else None)


def parse_timestamp(text: str) -> float:
    """Epoch seconds of an RFC 3339 UTC timestamp as protobuf's JSON form prints it.

    Accepts 0, 3, 6 or 9 (any 0-9) fractional digits and a ``Z`` or ``±HH:MM`` offset;
    nanosecond digits are kept exactly up to float precision.

    :raises ValueError: for anything else.
    """
    from datetime import datetime, timezone

    body, _, frac = text.strip().partition(".")
    offset = ""
    if frac:
        digits = len(frac) - len(frac.lstrip("0123456789"))
        frac, offset = frac[:digits], frac[digits:]
    else:
        body, offset = _split_offset(body)
    if len(frac) > 9 or not offset:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    offset = "+00:00" if offset in ("Z", "z") else offset
    whole = datetime.fromisoformat(body + offset).astimezone(timezone.utc)
    return whole.timestamp() + (int(frac) / 10 ** len(frac) if frac else 0.0)


def _split_offset(body: str) -> tuple[str, str]:
    if body.endswith(("Z", "z")):
        return body[:-1], "Z"
    for sign in ("+", "-"):
        head, sep, tail = body.rpartition(sign)
        if sep and "T" in head and ":" in tail and len(tail) == 5:
            return head, sign + tail
    return body, ""
