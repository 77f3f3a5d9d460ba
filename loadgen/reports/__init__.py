"""Rendering a run's figures and files, one module per concept (docs/results.md):

- :mod:`~loadgen.reports.summary` -- the ``summary.json`` dict of a closed ``Metrics``
  (``summarize``) and the figures of merged interval logs (``hlog_summary``);
- :mod:`~loadgen.reports.text` -- fixed-width text tables (``render_table``,
  ``render_hlog_table``) and ``format_columns``, the layout every text table uses;
- :mod:`~loadgen.reports.series` -- ``timeseries.csv`` and the interval log ``histograms.hlog``
  (``TimeSeriesWriter``), read back and merged (``read_hlog``, ``merge_intervals``);
- :mod:`~loadgen.reports.svg` -- inline-SVG line and bar charts;
- :mod:`~loadgen.reports.charts` -- the charts of a run's ``report.html``, one function each;
- :mod:`~loadgen.reports.html` -- a run's ``report.html`` (its sections, one function each),
  and the page and table markup both HTML reports share;
- :mod:`~loadgen.reports.scenario_table` -- a scenario's results table (``table.csv``,
  ``table.md``, ``results.json``);
- :mod:`~loadgen.reports.scenario_html` -- a scenario's ``report.html``.

Nothing here writes to the terminal beyond returning strings; the CLI's live output (progress
bars, rich tables) is :mod:`loadgen.console`. Code inside ``loadgen/`` imports from the
concrete module; the names below are re-exported for convenience.
"""
from __future__ import annotations

from loadgen.reports.html import write_report
from loadgen.reports.series import TimeSeriesWriter, merge_intervals, read_hlog
from loadgen.reports.summary import hlog_summary, summarize
from loadgen.reports.text import render_hlog_table, render_table

__all__ = ["TimeSeriesWriter", "hlog_summary", "merge_intervals", "read_hlog", "render_hlog_table", "render_table",
           "summarize", "write_report"]
