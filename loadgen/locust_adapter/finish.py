"""The end of a run (master or single process): summary, SLO verdicts, files, the final table.

Locust fires ``quitting`` after the users stopped and (on a master) after the workers' final
reports arrived. From the merged metrics this module builds ``summary.json`` (figures from
:func:`loadgen.reports.summary.summarize`, run parameters from a :class:`loadgen.runinfo.RunInfo`),
evaluates the ``--slo`` gates, writes ``summary.json`` and ``report.html`` and composes the
text printed after Locust's own tables. Each output is made on its own (:func:`attempt`): a
full disk or a renderer's exception costs that one output, with a one-line error naming what
is missing, never the others, the printed table or the exit code.
"""
from __future__ import annotations

import logging
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from loadgen.files import write_json_atomic
from loadgen.locust_adapter.measured import measured_summary, notes
from loadgen.locust_adapter.observing import summary_keys
from loadgen.redact import redact_argv, redact_url
from loadgen.replay import run_values
from loadgen.reports.html import write_report
from loadgen.reports.summary import NO_ROUTES_NOTE
from loadgen.reports.text import render_table
from loadgen.runinfo import RunInfo, RunRecord, iso_utc
from loadgen.slo import EXIT_CODE as SLO_EXIT_CODE
from loadgen.slo import evaluate

log = logging.getLogger("loadgen")
T = TypeVar("T")


def run_info(session: Any, *, users: Any) -> RunInfo:
    """The run's parameters from the session's options and what the master learned."""
    opts = session.options
    replay, sent = None, {"kind": session.kind, "request_size": opts.payload.request_size,
                          "top_k": opts.payload.top_k, "task_mix": opts.task_mix}
    if opts.replay is not None and session.replay_check is not None:
        replay = {"file": opts.replay.path, "lines_per_pass": session.replay_check.requests,
                  "bad_lines_skipped": session.replay_check.bad_lines, "sent": session.replay_sent.as_dict()}
        sent = run_values(session.replay_sent)  # the file's lines, as sent: not the options
    arrival = None
    if opts.arrival_shape is not None:
        arrival = {"rate": opts.arrival_rate, "process": opts.arrival, "max_inflight": opts.max_inflight or None}
    return RunInfo(
        target=redact_url(session.environment.host or ""), protocol=opts.protocol, grpc_mode=opts.grpc_mode,
        **sent, users=users, workers=len(session.fleet.seen),
        workers_lost=tuple(session.fleet.lost), arrival=arrival, dataset=session.dataset_stats,
        match_field=opts.payload.match_field, replay=replay,
        executors_note=NO_ROUTES_NOTE if opts.protocol == "http" else None,
        headers=tuple(name for name, _ in opts.headers), run=run_record(session),
        image_dtype=opts.payload.image_dtype if session.kind == "image" and not opts.dataset else None,
    )


def run_record(session: Any) -> RunRecord:
    """When and how the run was made: a library run (``loadgen run``) names its equivalent
    ``locust`` command, a command-line run its own argv (secrets masked either way)."""
    env = session.environment
    command = getattr(env, "loadgen_command", None) or ("locust", *redact_argv(sys.argv[1:]))
    return RunRecord(started_at=iso_utc(session.clock.started_at), ended_at=iso_utc(session.clock.ended_at),
                     command=tuple(command), versions=versions(), seed=session.options.payload.seed,
                     host=redact_url(env.host or ""), label=session.options.run_label or None)


def versions() -> dict[str, str]:
    """Versions of what made the numbers (from the installed distributions: nothing imported)."""
    out = {"python": platform.python_version()}
    for key, dist in (("loadgen", "jina-loadgen"), ("locust", "locust"), ("grpcio", "grpcio")):
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = "not installed"
    return out


def finish_run(session: Any, *, duration_s: float, users: Any) -> int:
    """Summarize, check the gates, write the files; keep the final text in
    ``session.report_text``. Returns the exit code the gates ask for (0 or 3)."""
    summary = measured_summary(session, duration_s=duration_s, run=run_info(session, users=users).as_dict())
    summary.update(summary_keys(session))  # "server": scraped server metrics
    verdicts = [evaluate(slo, summary) for slo in session.options.slos]
    summary["slo"] = [{"slo": v.slo.text, "passed": v.passed, "actual": v.actual} for v in verdicts]
    table = attempt("the summary table", lambda: render_table(summary))
    lines = ["", "jina-loadgen summary (HdrHistogram, successful requests; latency in ms)",
             "(table NOT rendered: see the error above)" if table is None else table, *notes(summary)]
    lines.append(write_results(Path(session.options.results_dir), summary))
    if verdicts:
        lines += ["", "SLO gates (merged over all workers):", *(f"  {v.line}" for v in verdicts)]
    session.report_text = "\n".join(lines)
    return 0 if all(v.passed for v in verdicts) else SLO_EXIT_CODE


def write_results(directory: Path, summary: dict[str, Any]) -> str:
    """Write summary.json, then report.html from the run's files; returns the line that says
    where (or which file is missing: the load is over, so a full disk or a renderer's error
    costs that file, not the run)."""
    summary_path = directory / "summary.json"
    if attempt(f"cannot write {summary_path}", lambda: write_json_atomic(summary_path, summary)) is None:
        return "results NOT written: summary.json and report.html are missing (see the error above)"
    if attempt(f"cannot write {directory / 'report.html'}", lambda: write_report(directory)) is None:
        return f"summary written to {summary_path}; report.html is missing (see the error above)"
    return f"summary written to {summary_path} (report: {directory / 'report.html'})"


def attempt(what: str, make: Callable[[], T]) -> Optional[T]:
    """``make()``, or None after a one-line error on stderr (``loadgen: error: WHAT: ...``;
    the traceback goes to the debug log): one output of the end of a run must not cost the
    others."""
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - whatever one renderer raises
        log.debug("%s", what, exc_info=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        print(f"loadgen: error: {what}: {reason}", file=sys.stderr, flush=True)
        return None
