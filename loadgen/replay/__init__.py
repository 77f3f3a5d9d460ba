"""Iago-style replay files: one request per line, read lazily and turned into requests.

One module per stage (docs/replay.md describes the format, docs/architecture.md the pipeline):

- :mod:`~loadgen.replay.format`: the grammar. :class:`ReplayLine`, :func:`parse_line`,
  :func:`format_line`, :class:`ReplayError` (``FILE:LINE: what is wrong; expected …``).
- :mod:`~loadgen.replay.endpoint_map`: ``--endpoint-map`` for foreign logs (Iago, Seldon).
- :mod:`~loadgen.replay.reader`: :func:`open_replay`, :func:`read` (a stream → lazy lines,
  ``skip_bad_lines``) and :func:`scan` (errors in place of their lines).
- :mod:`~loadgen.replay.requests`: :func:`to_request_spec` (a line → its request, documents
  from the line's seed) and :func:`worker_share` (a pass dealt out to workers).
- :mod:`~loadgen.replay.generator`: ``loadgen replay make`` (:class:`MakeConfig`, :func:`make`).
- :mod:`~loadgen.replay.sent`: :class:`SentTally`, what a run sent, counted request by request.
- :mod:`~loadgen.replay.checker`: :func:`check_file`, the one read of a whole file ahead of a
  run, for ``loadgen replay check``, scenarios and the Locust master (:class:`ReplayCheck`).

Example::

    from loadgen.replay import open_replay, read, to_request_spec

    with open_replay("scenarios/replay/image-mix.replay") as stream:
        for line in read(stream, source="image-mix.replay"):
            spec = to_request_spec(line)
"""
from loadgen.replay.checker import (DEFAULT_MAX_ERRORS, ReplayCheck, UnreadableReplayFile, check, check_file,
                                    render_check)
from loadgen.replay.endpoint_map import parse_endpoint_map
from loadgen.replay.format import MAX_LINE_CHARS, ReplayError, ReplayLine, format_line, parse_line, scalar
from loadgen.replay.generator import MakeConfig, generate, make, write_file
from loadgen.replay.reader import open_replay, read, scan
from loadgen.replay.requests import sent_values, to_request_spec, worker_share
from loadgen.replay.sent import SentTally, run_values

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "MAX_LINE_CHARS",
    "MakeConfig",
    "ReplayCheck",
    "ReplayError",
    "ReplayLine",
    "SentTally",
    "UnreadableReplayFile",
    "check",
    "check_file",
    "format_line",
    "generate",
    "make",
    "open_replay",
    "parse_endpoint_map",
    "parse_line",
    "read",
    "render_check",
    "scalar",
    "run_values",
    "scan",
    "sent_values",
    "to_request_spec",
    "worker_share",
    "write_file",
]
