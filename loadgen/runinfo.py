"""What a run was, beside its figures: the record ``summary.json`` stores its parameters from.

The Locust adapter fills one :class:`RunInfo` at the end of a run; the reports turn it into
the summary's top-level keys (docs/results.md). Nothing here reads options or environment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """The parameters of one run, as recorded in ``summary.json``.

    ``arrival`` is None in closed loop, else ``{rate, process, max_inflight}`` (req/s for
    the whole fleet); ``headers`` are header *names* only (their values are credentials);
    ``image_dtype`` is the dtype of generated images (None when the run generates none).
    """

    target: str
    protocol: str
    grpc_mode: str
    kind: Optional[str]  # a replay run: what its lines sent (``image+text`` for both); None: nothing
    request_size: Optional[int]  # a replay run: None unless every request had this many documents
    top_k: Optional[int]
    task_mix: dict[str, int]  # a replay run: requests sent per endpoint
    users: Optional[int]
    workers: int = 0
    workers_lost: tuple[str, ...] = ()
    arrival: Optional[dict[str, Any]] = None
    dataset: Optional[dict[str, Any]] = None
    match_field: Optional[str] = None
    replay: Optional[dict[str, Any]] = None
    executors_note: Optional[str] = None
    headers: tuple[str, ...] = field(default=())
    run: Optional["RunRecord"] = None
    image_dtype: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        """The summary's run keys (optional ones only when set), in their documented order."""
        out: dict[str, Any] = {
            "target": self.target, "protocol": self.protocol, "grpc_mode": self.grpc_mode, "kind": self.kind,
            "request_size": self.request_size, "top_k": self.top_k, "task_mix": self.task_mix,
            **({"image_dtype": self.image_dtype} if self.image_dtype else {}),
            "users": self.users, "workers": self.workers, "workers_lost": sorted(self.workers_lost),
            "load_model": "closed" if self.arrival is None else "open",
        }
        optional = {"arrival": self.arrival, "dataset": self.dataset, "match_field": self.match_field,
                    "replay": self.replay, "executors_note": self.executors_note,
                    "headers": list(self.headers)}
        out.update({key: value for key, value in optional.items() if value})
        if self.run is not None:
            out["run"] = self.run.as_dict()
        return out


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """When, how and with what a run was made (``summary.json`` ``run``): times as UTC ISO
    8601 (seconds), the command as typed with secrets masked, the versions that made it."""

    started_at: str
    ended_at: str
    command: tuple[str, ...]
    versions: dict[str, str]
    seed: int
    host: str
    label: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "ended_at": self.ended_at, "command": " ".join(self.command),
                "versions": dict(self.versions), "seed": self.seed, "host": self.host, "label": self.label}


def iso_utc(epoch_s: float) -> str:
    """``2026-11-28T16:27:11Z`` for an epoch time in seconds."""
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
