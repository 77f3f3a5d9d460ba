"""Iago-style replay files: one request per line, read lazily and turned into request specs.

A replay file is UTF-8 text with one request per line: a URI path and query such as
``/search?kind=image&docs=1&top_k=50&seed=812&user=417``. The stages, each a small function:

- :func:`read` streams a file into frozen :class:`ReplayLine` records; a bad line raises
  :class:`ReplayError` (``FILE:LINE: what is wrong; expected …``). :func:`scan` yields the
  errors in place instead, for the checker. Nothing from a file is ever evaluated: every
  value is matched against a fixed pattern.
- :func:`to_request_spec` turns a line into a :class:`~loadgen.encoding.RequestSpec` whose
  documents come from the line's ``seed``; :func:`worker_share` deals a pass out to workers.

Generating and checking files (``loadgen replay make|check``) is :mod:`loadgen.replay_tools`.
The format, with its grammar, is documented in docs/replay.md; the pipeline in docs/architecture.md.
"""
from __future__ import annotations

import itertools
import math
import os
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, TextIO, Union
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from loadgen.config import KINDS, PayloadConfig, parse_image_shape
from loadgen.documents import image_documents, text_documents
from loadgen.encoding import RequestSpec
from loadgen.errors import ConfigError

#: The keys a native line may carry, in the order :func:`format_line` writes them.
NATIVE_KEYS = ("kind", "docs", "top_k", "seed", "user", "shape", "weight", "name")
PARAM_PREFIX = "param."
EXAMPLE_LINE = "/search?kind=image&docs=1&top_k=50&seed=812&user=417"
# A line describes one request, never its payload: anything longer is almost surely not a
# replay file (or a runaway line), and reading it whole would cost memory for nothing.
MAX_LINE_CHARS = 64 * 1024
MAX_DOCS = 10_000
MAX_WEIGHT = 1_000_000
MAX_SEED = 2**63 - 1
MAX_IMAGE_VALUES = 2**26  # e.g. 4096x4096x3
MAX_TOP_K = 1_000_000
MAX_TEXT = 200  # characters of a user or name
SEARCH = "/search"

# ASCII digits only: int() would also take "٣", "1_000" and " 7".
_WHOLE = re.compile(r"[0-9]{1,19}")
_INT = re.compile(r"-?[0-9]{1,18}")
_FLOAT = re.compile(r"-?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?|[0-9]+[eE][-+]?[0-9]{1,3})")
# "scheme://host:port" or "//host": dropped, the target comes from --host (as in Iago).
_AUTHORITY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//[^/?#]*")
_NAME_FORBIDDEN = ":<>="  # --slo 'NAME:p99<200ms' must be able to name the line class


class ReplayError(ConfigError):
    """A bad replay line or file, worded ``FILE:LINE: what is wrong; expected …``.

    :ivar source: the file as named by the caller (``FILE`` for an anonymous stream).
    :ivar lineno: the 1-based line number, or None when the whole file is wrong.
    :ivar what: what is wrong.
    :ivar expected: what would be right.
    """

    def __init__(self, what: str, *, expected: str, source: str = "FILE", lineno: Optional[int] = None):
        self.what, self.expected, self.source, self.lineno = what, expected, source, lineno
        where = source if lineno is None else f"{source}:{lineno}"
        super().__init__(f"{where}: {what}; expected {expected}")


class _Bad(Exception):
    """Raised by the value parsers, which do not know the file and line."""

    def __init__(self, what: str, expected: str):
        super().__init__(what)
        self.what, self.expected = what, expected


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayLine:
    """One request of a replay file. ``None`` means "the run's value" (``--kind``,
    ``--request-size``, ``--top-k``, ``--image-shape``); see :func:`to_request_spec`.

    :param endpoint: the Jina endpoint, e.g. ``/search`` (after ``--endpoint-map``).
    :param lineno: 1-based line number in the file.
    :param index: 0-based position among the file's requests (comments and blank lines do
        not count); :func:`worker_share` deals lines out by it.
    :param kind: ``image`` or ``text``.
    :param docs: documents in the request.
    :param top_k: matches asked for, and required on ``/search``.
    :param seed: seed of the documents; None: derived from the run's seed and ``lineno``.
    :param user: who sends the line (counted by the checker, not sent).
    :param shape: image tensor shape.
    :param weight: a line of weight k takes k inter-arrival draws (Iago's weighted requests).
    :param name: statistics name of the line class; None: the endpoint.
    :param params: request parameters in file order: ``param.X`` keys, and the unknown keys
        of lines mapped by ``--endpoint-map``.
    """

    endpoint: str
    lineno: int = 1
    index: int = 0
    kind: Optional[str] = None
    docs: Optional[int] = None
    top_k: Optional[int] = None
    seed: Optional[int] = None
    user: Optional[str] = None
    shape: Optional[tuple[int, ...]] = None
    weight: int = 1
    name: Optional[str] = None
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def stat_name(self) -> str:
        """The name requests of this line are counted under: ``name``, else the endpoint."""
        return self.name or self.endpoint


# -- reading ----------------------------------------------------------------------------

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


def parse_line(text: str, *, lineno: int = 1, index: int = 0, source: str = "FILE",
               endpoint_map: Optional[Mapping[str, str]] = None) -> Optional[ReplayLine]:
    """Parse one line (its line ending and a leading UTF-8 BOM are dropped).

    :returns: the request, or None for a blank line or a ``#`` comment.
    :raises ReplayError: ``FILE:LINE: what is wrong; expected …``.
    """
    text = text.rstrip("\r\n").lstrip("\ufeff").strip()
    if not text or text.startswith("#"):
        return None
    try:
        _check_characters(text)
        path, query = _split_uri(text)
        mapped = (endpoint_map or {}).get(path)
        fields = _fields(_query_items(query), foreign=mapped is not None)
    except _Bad as bad:
        raise ReplayError(bad.what, expected=bad.expected, source=source, lineno=lineno) from None
    return ReplayLine(endpoint=mapped or path, lineno=lineno, index=index, **fields)


def _check_characters(text: str) -> None:
    if len(text) > MAX_LINE_CHARS:
        raise _Bad(f"the line is longer than {MAX_LINE_CHARS} characters",
                   "one request of at most 64 KiB per line (is this a replay file?)")
    if text.isprintable() and " " not in text:
        return
    column, char = next((i, c) for i, c in enumerate(text, 1) if not c.isprintable() or c == " ")
    if char.isspace():
        raise _Bad(f"whitespace at column {column}", "a URI without spaces (write a space as %20 or +)")
    if "\ud800" <= char <= "\udfff":
        raise _Bad(f"bytes that are not UTF-8 at column {column}", "a UTF-8 text file")
    raise _Bad(f"control or invisible character U+{ord(char):04X} at column {column}",
               "printable text (write it %-escaped)")


def _split_uri(text: str) -> tuple[str, str]:
    head = _AUTHORITY.match(text)
    rest = text[head.end():] if head else text
    if head and not rest.startswith("/"):
        rest = "/" + rest  # "http://seldon-server?x=1" means the path "/"
    if not rest.startswith("/"):
        raise _Bad(f"{text[:40]!r} is neither a path nor a URL", f"a path starting with / or a full URL, "
                   f"e.g. {EXAMPLE_LINE} or http://host/js/recommendations?user=1")
    path, _, query = rest.partition("#")[0].partition("?")
    return _decode(path, "the path", unquote), query


def _decode(raw: str, what: str, unquoting: Callable[..., str] = unquote_plus) -> str:
    if "%" not in raw and "+" not in raw:
        return raw  # the common case, at a third of the cost
    try:
        return unquoting(raw, errors="strict")
    except UnicodeDecodeError:
        raise _Bad(f"{what} has a %-escape that is not UTF-8", "%-escapes of UTF-8 bytes") from None


def _query_items(query: str) -> Iterator[tuple[str, str]]:
    for piece in filter(None, query.split("&")):
        key, _, value = piece.partition("=")
        if not key:
            raise _Bad(f"{piece[:40]!r} has no key", "KEY=VALUE pairs joined by &")
        key = _decode(key, "a key")
        yield key, _decode(value, f"the value of {key}")


def _fields(items: Iterable[tuple[str, str]], *, foreign: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    params: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for key, value in items:
        if key in seen:
            raise _Bad(f"the key {key} appears twice", "each key once per line")
        seen.add(key)
        if key in _VALUE_PARSERS:
            fields[key] = _VALUE_PARSERS[key](value)
        elif key.startswith(PARAM_PREFIX) and len(key) > len(PARAM_PREFIX):
            params.append((key[len(PARAM_PREFIX):], scalar(value)))
        elif foreign:
            params.append((key, scalar(value)))
        else:
            raise _Bad(f"unknown key {key!r}", f"one of {', '.join(NATIVE_KEYS)} or param.NAME "
                       f"(only lines mapped by --endpoint-map pass unknown keys on as parameters)")
    if params:
        fields["params"] = tuple(params)
    return fields


def _whole(key: str, low: int, high: int, raw: str) -> int:
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise _Bad(f"{key}={raw[:40]!r} is not a whole number from {low} to {high}",
                   f"{key}=N, e.g. {key}={max(low, 1)}")
    return int(raw)


def _kind(raw: str) -> str:
    if raw not in KINDS:
        raise _Bad(f"unknown kind {raw[:40]!r}", " or ".join(f"kind={k}" for k in KINDS))
    return raw


def _shape(raw: str) -> tuple[int, ...]:
    try:
        shape = parse_image_shape(raw) if re.fullmatch(r"[0-9,x]{1,64}", raw) else ()
    except ConfigError:
        shape = ()
    if not shape or math.prod(shape) > MAX_IMAGE_VALUES:
        raise _Bad(f"shape={raw[:40]!r} is not an image shape", f"positive whole numbers like shape=224,224,3 "
                   f"(at most {MAX_IMAGE_VALUES} values)")
    return shape


def _text(key: str, forbidden: str, raw: str) -> str:
    if not raw.strip() or len(raw) > MAX_TEXT or not raw.isprintable() or any(c in forbidden for c in raw):
        without = f" without {' '.join(forbidden)}" if forbidden else ""
        raise _Bad(f"{key}={raw[:40]!r} is not allowed", f"{key}= 1 to {MAX_TEXT} printable characters{without}")
    return raw


_VALUE_PARSERS: dict[str, Callable[[str], Any]] = {
    "kind": _kind, "docs": partial(_whole, "docs", 1, MAX_DOCS), "top_k": partial(_whole, "top_k", 1, MAX_TOP_K),
    "seed": partial(_whole, "seed", 0, MAX_SEED), "user": partial(_text, "user", ""), "shape": _shape,
    "weight": partial(_whole, "weight", 1, MAX_WEIGHT), "name": partial(_text, "name", _NAME_FORBIDDEN),
}


def scalar(raw: str) -> Any:
    """A request parameter from its text: ``true``/``false``, a whole number, a decimal
    number, else the text itself (matched against patterns, never evaluated)."""
    if raw in ("true", "false"):
        return raw == "true"
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw) and math.isfinite(float(raw)):
        return float(raw)
    return raw


def format_line(line: ReplayLine) -> str:
    """The canonical text of ``line`` (no line ending): :func:`parse_line` reads it back equal.
    Keys come in :data:`NATIVE_KEYS` order, then the parameters as ``param.X``."""
    pairs = [(key, _format_value(getattr(line, key))) for key in NATIVE_KEYS
             if getattr(line, key) is not None and not (key == "weight" and line.weight == 1)]
    pairs += [(PARAM_PREFIX + key, _format_value(value)) for key, value in line.params]
    path = quote(line.endpoint, safe="/")
    if path.startswith("//"):
        path = "/%2F" + path[2:]  # "//x" would read as a host
    query = "&".join(f"{quote_plus(k, safe='.')}={quote_plus(v, safe='/,')}" for k, v in pairs)
    return f"{path}?{query}" if query else path


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, float) else str(value)


def parse_endpoint_map(text: str) -> dict[str, str]:
    """Parse ``--endpoint-map`` such as ``/js/recommendations=/search,/js/action/new=/index``.

    :raises ConfigError: for an item that is not ``PATH=/ENDPOINT``.
    """
    mapping = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        foreign, _, endpoint = (part.strip() for part in item.partition("="))
        if not foreign.startswith("/") or not endpoint.startswith("/"):
            raise ConfigError(f"--endpoint-map: bad item {item!r}; use PATH=ENDPOINT pairs, "
                              f"e.g. /js/recommendations=/search,/js/action/new=/index")
        mapping[foreign] = endpoint
    return mapping


# -- from a line to a request ---------------------------------------------------------------

def to_request_spec(line: ReplayLine, *, payload: PayloadConfig = PayloadConfig()) -> RequestSpec:
    """The request of ``line``, the same in every run: its documents are drawn from the
    line's ``seed`` (or, without one, from ``payload.seed`` and the line number). What the
    line leaves out comes from ``payload`` (the run's ``--kind``, ``--request-size``,
    ``--top-k``, ``--image-shape``). ``top_k`` goes into the parameters; on ``/search`` it is
    also the number of matches each document must get back.

    Cost: the documents are generated here (tensors for images), so call it before any timed
    span, e.g. while filling a pool.
    """
    seed = line.seed if line.seed is not None else (payload.seed * 1_000_003 + line.lineno) % (MAX_SEED + 1)
    count = line.docs or payload.request_size
    if (line.kind or payload.kind) == "image":
        docs = image_documents(count, seed=seed, shape=line.shape or payload.image_shape, dtype=payload.image_dtype)
    else:
        docs = text_documents(count, seed=seed)
    top_k = line.top_k if line.top_k is not None else payload.top_k if line.endpoint == SEARCH else None
    params = dict(line.params) if top_k is None else {**dict(line.params), "top_k": top_k}
    return RequestSpec(endpoint=line.endpoint, docs=list(docs), parameters=params,
                       expected_matches=top_k if line.endpoint == SEARCH else None)


def worker_share(lines: Iterable[ReplayLine], *, worker_index: int, worker_count: int) -> Iterator[ReplayLine]:
    """The lines worker ``worker_index`` (0-based) of ``worker_count`` sends in one pass: those
    whose ``index`` modulo ``worker_count`` is ``worker_index``. The shares of all workers
    cover every line of the pass exactly once, and need no coordination.

    :raises ValueError: unless ``0 <= worker_index < worker_count``.
    """
    if not 0 <= worker_index < worker_count:
        raise ValueError(f"worker {worker_index} of {worker_count}: expected 0 <= index < count")
    # By request index, not line number: comments and blank lines would skew the shares.
    return (line for line in lines if line.index % worker_count == worker_index)
