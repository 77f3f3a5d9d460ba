"""Checking a replay file: one read through the run's parser, one frozen :class:`ReplayCheck`.

:func:`check_file` is the one place a whole file is read ahead of a run: by ``loadgen replay
check`` (which prints :func:`render_check` and lists the errors), by a scenario's load step
before it starts, and by the Locust master at init (which needs the lines of one pass and the
bad lines skipped). It streams the file through :func:`~loadgen.replay.reader.scan`, so it
accepts exactly what a run accepts, with the same messages, in constant memory apart from the
distinct values it counts.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional, TextIO, Union

from loadgen.errors import ConfigError
from loadgen.replay.format import ReplayError, ReplayLine
from loadgen.replay.reader import no_requests, open_replay, scan

DEFAULT_MAX_ERRORS = 20


class UnreadableReplayFile(ReplayError):
    """The replay file cannot be opened or read at all (no line is to blame).

    :ivar reason: the operating system's reason, e.g. ``No such file or directory``.
    """

    def __init__(self, reason: str, *, source: str):
        super().__init__(f"cannot read the file ({reason})", expected="a readable replay file", source=source)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class ReplayCheck:
    """What one read of a replay file found. Counts are of request lines (comments and
    blank lines do not count); each mapping is ``value -> requests``.

    :param source: the file as named in messages.
    :param requests: good request lines: the lines of one pass of a run.
    :param weight: sum of the lines' weights.
    :param users: distinct ``user`` values.
    :param endpoints: requests per endpoint (after ``--endpoint-map``).
    :param names: requests per ``name``, for the lines that have one.
    :param kinds: requests per kind; lines without one under ``(run's --kind)``.
    :param docs: requests per ``docs`` (as text); lines without under ``(run's --request-size)``.
    :param errors: the bad lines' errors, in file order, at most ``max_errors``; a file
        without requests has its :func:`~loadgen.replay.reader.no_requests` error here.
    :param bad_lines: bad lines skipped under ``skip_bad_lines`` (they are not in ``errors``).
    :param stopped_early: reading stopped at the ``max_errors``-th error.
    """

    source: str
    requests: int = 0
    weight: int = 0
    users: int = 0
    endpoints: Mapping[str, int] = field(default_factory=dict)
    names: Mapping[str, int] = field(default_factory=dict)
    kinds: Mapping[str, int] = field(default_factory=dict)
    docs: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[ReplayError, ...] = ()
    bad_lines: int = 0
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


class _Tally:
    """The counts of :class:`ReplayCheck` while the file is read."""

    def __init__(self) -> None:
        self.requests = self.weight = 0
        self.endpoints: Counter = Counter()
        self.names: Counter = Counter()
        self.kinds: Counter = Counter()
        self.docs: Counter = Counter()
        self.user_ids: set[str] = set()  # grows with distinct users, not with lines

    def add(self, line: ReplayLine) -> None:
        self.requests += 1
        self.weight += line.weight
        self.endpoints[line.endpoint] += 1
        if line.name:
            self.names[line.name] += 1
        self.kinds[line.kind or "(run's --kind)"] += 1
        self.docs[str(line.docs) if line.docs else "(run's --request-size)"] += 1
        if line.user is not None:
            self.user_ids.add(line.user)

    def counts(self) -> dict:
        """The count fields of :class:`ReplayCheck`, read-only."""
        frozen = {key: MappingProxyType(dict(getattr(self, key))) for key in ("endpoints", "names", "kinds", "docs")}
        return dict(requests=self.requests, weight=self.weight, users=len(self.user_ids), **frozen)


def check(stream: TextIO, *, source: str = "FILE", endpoint_map: Optional[Mapping[str, str]] = None,
          skip_bad_lines: bool = False, max_errors: int = DEFAULT_MAX_ERRORS) -> ReplayCheck:
    """Read a whole stream as a run would, counting its requests and collecting its errors.

    :param endpoint_map: foreign path -> Jina endpoint (``--endpoint-map``).
    :param skip_bad_lines: count bad lines in ``bad_lines`` instead of collecting them
        (``--skip-bad-lines``); only a file without requests is then an error.
    :param max_errors: stop reading at this many errors (1: at the first bad line, as a run does).
    :raises ConfigError: when ``max_errors`` is below 1.
    """
    if max_errors < 1:
        raise ConfigError(f"--max-errors: must be a whole number >= 1, got {max_errors}")
    tally, errors, bad_lines, stopped_early = _Tally(), [], 0, False
    for item in scan(stream, source=source, endpoint_map=endpoint_map):
        if isinstance(item, ReplayLine):
            tally.add(item)
        elif skip_bad_lines:
            bad_lines += 1
        else:
            errors.append(item)
            if len(errors) >= max_errors:
                stopped_early = True
                break
    if not tally.requests and not errors:
        errors.append(no_requests(source, bad_lines))
    return ReplayCheck(source=source, errors=tuple(errors), bad_lines=bad_lines, stopped_early=stopped_early,
                       **tally.counts())


def check_file(path: Union[str, os.PathLike], *, endpoint_map: Optional[Mapping[str, str]] = None,
               skip_bad_lines: bool = False, max_errors: int = DEFAULT_MAX_ERRORS) -> ReplayCheck:
    """:func:`check` the file at ``path`` (named as given in messages); the parameters are
    those of :func:`check`.

    Example (as a run: stop at the first bad line)::

        result = check_file("scenarios/replay/image-mix.replay", max_errors=1)
        if result.errors:
            raise result.errors[0]
        lines_per_pass = result.requests

    :raises UnreadableReplayFile: when the file cannot be opened or read.
    """
    try:
        with open_replay(path) as stream:
            return check(stream, source=str(path), endpoint_map=endpoint_map, skip_bad_lines=skip_bad_lines,
                         max_errors=max_errors)
    except OSError as exc:
        raise UnreadableReplayFile(str(exc.strerror or exc), source=str(path)) from None


def render_check(report: ReplayCheck, *, most: int = 12) -> str:
    """The checker's summary: totals, then requests by endpoint, name, kind and docs (at
    most ``most`` rows each)."""
    status = "OK" if report.ok else f"{len(report.errors)} error{'s' * (len(report.errors) != 1)}"
    lines = [f"{report.source}: {status}",
             f"  requests {report.requests}, total weight {report.weight}, distinct users {report.users}"]
    rows = [(title, key, n) for title, counts in (("endpoint", report.endpoints), ("name", report.names),
                                                   ("kind", report.kinds), ("docs", report.docs))
            for key, n in _first(counts, most)]
    width = max((len(key) for _, key, _ in rows), default=0)
    previous = None
    for title, key, n in rows:
        share = f"{100 * n / report.requests:5.1f}%" if report.requests and n else ""
        lines.append(f"  {'' if title == previous else title:<9} {key:<{width}}  {n or '':>9}  {share}")
        previous = title
    if report.stopped_early:
        lines.append(f"  stopped at error {len(report.errors)} (--max-errors): lines after "
                     f"{report.errors[-1].lineno} were not checked")
    return "\n".join(lines)


def _first(counts: Mapping[str, int], most: int) -> list[tuple[str, int]]:
    # Numbers in numeric order (docs 2 before 10), then words alphabetically.
    items = sorted(counts.items(), key=lambda kv: ((0, int(kv[0]), "") if kv[0].isascii() and kv[0].isdigit() else (1, 0, kv[0])))
    if len(items) > most:
        items = items[:most] + [(f"... {len(items) - most} more", 0)]
    return items
