"""What a replay run sent, counted request by request: :class:`SentTally`.

A replay file's lines leave their kind, documents and ``top_k`` to the run's options or set
their own, so neither the options nor the file alone say what went out (``--reuse-file``,
``--max-requests`` and ``-t`` cut passes short). Each load-generating process counts the
lines whose requests it sent (and got a result for: the same requests ``summary.json``'s
``endpoints`` count), per endpoint and per ``name``; workers ship their counts to the master,
which adds them up. :meth:`SentTally.as_dict` is ``summary.json``'s ``replay.sent``.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Optional

from loadgen.config import PayloadConfig
from loadgen.replay.format import ReplayLine
from loadgen.replay.requests import sent_values


class SentTally:
    """Requests sent per ``(endpoint, name)``: by kind, by documents per request, by ``top_k``."""

    def __init__(self) -> None:
        # (endpoint, name) -> {"requests": n, "kinds": Counter, "docs": Counter, "top_k": Counter}
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, line: ReplayLine, *, payload: PayloadConfig) -> None:
        """Count the request of ``line`` (its missing values are the run's ``payload``'s)."""
        kind, docs, top_k = sent_values(line, payload=payload)
        entry = self._entry(line.endpoint, line.stat_name)
        entry["requests"] += 1
        entry["kinds"][kind] += 1
        entry["docs"][str(docs)] += 1
        if top_k is not None:
            entry["top_k"][str(top_k)] += 1

    def _entry(self, endpoint: str, name: str) -> dict[str, Any]:
        key = (endpoint, name)
        if key not in self.entries:
            self.entries[key] = {"requests": 0, "kinds": Counter(), "docs": Counter(), "top_k": Counter()}
        return self.entries[key]

    def merge(self, other: "SentTally") -> None:
        for (endpoint, name), theirs in other.entries.items():
            ours = self._entry(endpoint, name)
            ours["requests"] += theirs["requests"]
            for key in ("kinds", "docs", "top_k"):
                ours[key].update(theirs[key])

    def encode(self) -> list[dict[str, Any]]:
        """A msgpack-safe list (a worker's report to the master)."""
        return [{"endpoint": e, "name": n, "requests": v["requests"],
                 **{key: dict(v[key]) for key in ("kinds", "docs", "top_k")}} for (e, n), v in self.entries.items()]

    @classmethod
    def decode(cls, data: Optional[list[dict[str, Any]]]) -> "SentTally":
        tally = cls()
        for item in data or ():
            entry = tally._entry(item["endpoint"], item["name"])
            entry["requests"] += int(item["requests"])
            for key in ("kinds", "docs", "top_k"):
                entry[key].update(item.get(key) or {})
        return tally

    def totals(self) -> dict[str, Counter]:
        """Run-wide counts: ``endpoints`` (requests per endpoint), ``kinds``, ``docs``, ``top_k``."""
        out = {"endpoints": Counter(), "kinds": Counter(), "docs": Counter(), "top_k": Counter()}
        for (endpoint, _), entry in self.entries.items():
            out["endpoints"][endpoint] += entry["requests"]
            for key in ("kinds", "docs", "top_k"):
                out[key].update(entry[key])
        return out

    def as_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{endpoint: {name: {"requests", "kinds", "docs", "top_k"}}}``, sorted; ``docs`` and
        ``top_k`` are keyed by their value as text (JSON keys)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for (endpoint, name), entry in sorted(self.entries.items()):
            out.setdefault(endpoint, {})[name] = {
                "requests": entry["requests"], "kinds": dict(sorted(entry["kinds"].items())),
                **{key: dict(sorted(entry[key].items(), key=lambda kv: int(kv[0]))) for key in ("docs", "top_k")}}
        return out


def run_values(tally: SentTally) -> dict[str, Any]:
    """What a replay run sent in the terms of a run's parameters: ``kind`` (``image``,
    ``text``, or ``image+text``), ``request_size`` and ``top_k`` (None unless one value for
    all requests), ``task_mix`` (requests per endpoint)."""
    totals = tally.totals()
    docs, top_k = list(totals["docs"]), list(totals["top_k"])
    return {"kind": "+".join(sorted(totals["kinds"])) or None,
            "request_size": int(docs[0]) if len(docs) == 1 else None,
            "top_k": int(top_k[0]) if len(top_k) == 1 else None,
            "task_mix": dict(sorted(totals["endpoints"].items()))}
