"""Reading replay files: a text stream → a lazy iterator of :class:`~loadgen.replay.format.ReplayLine`.

:func:`open_replay` opens a file (UTF-8 with or without a BOM, any line ending; bytes that are
not UTF-8 become an error of their line). :func:`read` yields the requests one at a time and
raises :class:`~loadgen.replay.format.ReplayError` (``FILE:LINE: …``) at the first bad line,
or skips bad lines (``--skip-bad-lines``); :func:`scan` yields each error in place of its
line, for the checker. Memory does not grow with the file: a runaway line is never read whole.
"""
from __future__ import annotations

import itertools
import os
from typing import Callable, Iterator, Mapping, Optional, TextIO, Union

from loadgen.replay.format import EXAMPLE_LINE, MAX_LINE_CHARS, ReplayError, ReplayLine, parse_line


def open_replay(path: Union[str, os.PathLike]) -> TextIO:
    """Open a replay file for :func:`read`: UTF-8 with or without a BOM, any line ending.
    Bytes that are not UTF-8 become an error of their line rather than of the whole read.

    :raises OSError: when the file cannot be opened.
    """
    return open(path, encoding="utf-8-sig", errors="surrogateescape")


def read(stream: TextIO, *, source: str = "FILE", endpoint_map: Optional[Mapping[str, str]] = None,
         skip_bad_lines: bool = False,
         on_bad_line: Optional[Callable[[ReplayError], None]] = None) -> Iterator[ReplayLine]:
    """Yield the requests of a replay file one at a time, in file order (lazily: memory does
    not grow with the file).

    :param stream: a text stream, e.g. from :func:`open_replay`.
    :param source: the file name used in messages.
    :param endpoint_map: foreign path -> Jina endpoint (``--endpoint-map``); the unknown
        query keys of mapped lines become request parameters.
    :param skip_bad_lines: skip bad lines instead of raising (``--skip-bad-lines``).
    :param on_bad_line: called with each skipped line's error, e.g. to count or log it.
    :raises ReplayError: at the first bad line (unless skipped), and at the end when the file
        held no request at all.

    Example::

        with open_replay("scenarios/replay/image-mix.replay") as stream:
            for line in read(stream, source="image-mix.replay"):
                ...
    """
    good = bad = 0
    for item in scan(stream, source=source, endpoint_map=endpoint_map):
        if isinstance(item, ReplayLine):
            good += 1
            yield item
        elif not skip_bad_lines:
            raise item
        else:
            bad += 1
            if on_bad_line is not None:
                on_bad_line(item)
    if not good:
        raise no_requests(source, bad)


def scan(stream: TextIO, *, source: str = "FILE",
         endpoint_map: Optional[Mapping[str, str]] = None) -> Iterator[Union[ReplayLine, ReplayError]]:
    """Like :func:`read`, but yield each bad line's :class:`ReplayError` in its place and do
    not complain about a file without requests (the checker's view of a file)."""
    index = 0
    for lineno, text in _physical_lines(stream, source):
        try:
            line = parse_line(text, lineno=lineno, index=index, source=source, endpoint_map=endpoint_map)
        except ReplayError as error:
            yield error
            continue
        if line is not None:
            index += 1
            yield line


def _physical_lines(stream: TextIO, source: str) -> Iterator[tuple[int, str]]:
    # readline(limit) keeps a runaway line (a binary file, a 1 GB line) from being read whole;
    # its rest is skipped in chunks and the truncated text fails the length check.
    for lineno in itertools.count(1):
        try:
            text = stream.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError as exc:  # a strict stream decodes ahead: the line is not known
            raise ReplayError(f"bytes that are not UTF-8 ({exc.reason}) in or after line {lineno}",
                              expected="a UTF-8 text file (open it with loadgen.replay.open_replay to have "
                              "such bytes reported by line)", source=source) from None
        if not text:
            return
        if len(text) > MAX_LINE_CHARS and not text.endswith("\n"):
            _skip_rest_of_line(stream)
        yield lineno, text


def _skip_rest_of_line(stream: TextIO) -> None:
    chunk = "x"
    while chunk and not chunk.endswith("\n"):
        chunk = stream.readline(MAX_LINE_CHARS)


def no_requests(source: str, bad: int = 0) -> ReplayError:
    """The error of a file without a single good request (``bad`` lines were bad)."""
    why = f"all {bad} request lines are bad" if bad else "the file is empty or holds only comments and blank lines"
    return ReplayError(f"no requests ({why})", expected=f"at least one request line such as {EXAMPLE_LINE}",
                       source=source)
