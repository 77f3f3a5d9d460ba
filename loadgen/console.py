"""The terminal of the ``loadgen`` console script: everything it shows while a command runs.

- :class:`Console` -- ``loadgen run``'s output: step lines and errors on stderr, a live
  progress bar per load step (plain lines instead when stderr is not a terminal), and the
  results table on stdout (a rich table on a terminal wide enough, plain text otherwise);
- :func:`render_rich` -- a scenario's results table as a rich ``Table``;
- :func:`progress_bar` -- a progress callback for long jobs such as ``loadgen replay make``;
- :func:`print_verdicts` -- ``loadgen compare``'s table, its verdicts coloured on a terminal.

This is the one module that imports rich (the architecture test allows one other). rich
comes with the ``locust`` extra, so it is imported only when something is drawn on a
terminal. Files and pipes always get plain text: what a terminal shows beyond that is
decoration, never information that the results files lack. New terminal output of the
CLI (live lines and tables of other commands, colours) belongs here, next to these.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, TextIO

from loadgen.reports.scenario_table import cell_text, columns_of, render_text
from loadgen.reports.text import format_columns

PROGRESS_MIN_LINES = 200_000


class Console:
    """Where a run reports: step lines and progress on ``stream`` (stderr; nothing but
    errors when ``quiet``), the table on ``table_stream`` (stdout). On a terminal each load
    step shows a rich progress bar (elapsed / execution_time, req/s, requests, failures);
    otherwise (CI logs) a plain line every ``every_s`` seconds."""

    def __init__(self, *, stream: TextIO = sys.stderr, table_stream: TextIO = sys.stdout, quiet: bool = False,
                 every_s: float = 5.0):
        self.stream, self.table_stream, self.quiet, self.every_s = stream, table_stream, quiet, every_s
        self._live = hasattr(stream, "isatty") and stream.isatty()
        self._bar: Any = None  # rich Progress of the running step (terminal only)
        self._printed_at = 0.0
        self._shown: list[dict[str, Any]] = []  # the last results table printed

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def error(self, text: str) -> None:
        print(f"loadgen: error: {text}", file=self.stream, flush=True)

    def progress(self, label: str, total_s: float, now: Any) -> None:
        """``now``: a running step's figures (elapsed_s, requests, failures). The rate shown is
        requests over the elapsed time so far: right from the first second (Locust's own
        current rate stays 0 for its first seconds)."""
        if self.quiet:
            return
        if self._live:
            self._rich_progress(label, total_s, now)
        elif time.monotonic() - self._printed_at >= self.every_s:
            print(f"  {label}: {now.elapsed_s:5.1f}/{total_s:g} s  {rate_so_far(now):7.1f} req/s  "
                  f"{now.requests} requests  {now.failures} failures", file=self.stream, flush=True)
            self._printed_at = time.monotonic()

    def _rich_progress(self, label: str, total_s: float, now: Any) -> None:
        if self._bar is None:
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("  {task.description}"), BarColumn(),
                                 TextColumn("{task.completed:5.1f}/{task.total:g} s"),
                                 TextColumn("{task.fields[rps]:7.1f} req/s  {task.fields[requests]} requests  "
                                            "{task.fields[failures]} failures"),
                                 console=RichConsole(file=self.stream), transient=False)
            self._bar.add_task(label, total=total_s, rps=0.0, requests=0, failures=0)
            self._bar.start()
        task = self._bar.tasks[0].id
        self._bar.update(task, completed=min(now.elapsed_s, total_s), rps=rate_so_far(now), requests=now.requests,
                         failures=now.failures)

    def end_progress(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        self._printed_at = 0.0

    def table(self, text: str) -> None:
        print(text, file=self.table_stream, flush=True)

    def results(self, title: str, rows: list[dict[str, Any]], *, again: bool = True) -> None:
        """The results table: drawn with rich on a terminal wide enough for every cell in
        full, fixed-width text otherwise (logs, pipes and files keep the plain form that
        table.md and table.csv also hold; a number is never cut short). With ``again=False``
        a table the same as the last one shown is not printed twice: only ``title`` is, naming it."""
        if not again and rows and rows == self._shown:
            self.table(f"{title.rstrip()} (the table above)")
            return
        self._shown = [dict(row) for row in rows]
        if rows and hasattr(self.table_stream, "isatty") and self.table_stream.isatty():
            from rich.console import Console as RichConsole

            console = RichConsole(file=self.table_stream)
            table = render_rich(rows, title=title.strip())
            if console.measure(table, options=console.options.update(max_width=10**4)).maximum <= console.width:
                console.print(table)
                return
        self.table(f"{title}{render_text(rows)}")


def rate_so_far(now: Any) -> float:
    """Requests per second over the elapsed time so far (0 before the first request)."""
    return now.requests / now.elapsed_s if now.elapsed_s > 0 else 0.0


def render_rich(rows: list[dict[str, Any]], *, title: str = "") -> Any:
    """A scenario's results table as a ``rich`` Table (for a terminal): numbers right-aligned,
    a status other than ``ok`` in red. Same columns and cells as
    :func:`loadgen.reports.scenario_table.render_text`."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title or None, title_justify="left", box=box.SIMPLE_HEAD)
    columns = columns_of(rows)
    for column in columns:
        table.add_column(column, justify="left" if column in ("job", "step", "status") else "right", no_wrap=True)
    for row in rows:
        # Text, not markup: a failure's reason may hold brackets.
        table.add_row(*(Text(cell_text(row.get(c)), style="red" if c == "status" and row.get(c) != "ok" else "")
                        for c in columns))
    return table


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Optional[Callable[[int], None]]]:
    """A progress callback drawing a rich bar on stderr, or None: for small jobs (under
    ``PROGRESS_MIN_LINES`` of ``total``), when stderr is not a terminal, or without rich
    (it comes with the ``locust`` extra)."""
    try:
        from rich.console import Console as RichConsole
        from rich.progress import Progress
    except ImportError:
        Progress = None
    if Progress is None or total < PROGRESS_MIN_LINES or not sys.stderr.isatty():
        yield None
        return
    with Progress(console=RichConsole(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


VERDICT_STYLES = {"worse": "bold red", "better": "green"}


def print_verdicts(title: str, head: list[str], rows: list[list[str]], *, stream: Optional[TextIO] = None) -> None:
    """A ``loadgen compare`` table: on a terminal wide enough for every cell in full, a rich
    table whose ``verdict`` column is coloured (worse red, better green; rich honours
    ``NO_COLOR``); else the fixed-width text of :func:`loadgen.reports.text.format_columns`
    (``stream``: stdout by default)."""
    stream = stream or sys.stdout
    if rows and hasattr(stream, "isatty") and stream.isatty():
        from rich import box
        from rich.console import Console as RichConsole
        from rich.table import Table
        from rich.text import Text

        console = RichConsole(file=stream)
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        for column in head:
            table.add_column(column, justify="left" if column in ("step", "endpoint", "verdict") else "right",
                             no_wrap=True)
        for row in rows:
            table.add_row(*(Text(cell, style=VERDICT_STYLES.get(cell, "") if column == "verdict" else "")
                            for column, cell in zip(head, row)))
        if console.measure(table, options=console.options.update(max_width=10**4)).maximum <= console.width:
            console.print(table)
            return
    print(f"{title}\n{format_columns(head, [tuple(r) for r in rows])}", file=stream, flush=True)
