"""The replay format: one request per line, parsed into and formatted from :class:`ReplayLine`.

A replay file is UTF-8 text with one request per line: a URI path and query such as
``/search?kind=image&docs=1&top_k=50&seed=812&user=417``. :func:`parse_line` turns a line
into a frozen :class:`ReplayLine` (None for a blank line or a comment); a bad line raises
:class:`ReplayError` (``FILE:LINE: what is wrong; expected …``). Nothing from a file is ever
evaluated: every value is matched against a fixed pattern. :func:`format_line` writes the
canonical text that :func:`parse_line` reads back equal.

Reading whole files is :mod:`loadgen.replay.reader`; the grammar is documented in
docs/replay.md, the pipeline in docs/architecture.md.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from loadgen.config import KINDS, parse_image_shape
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
    ``--request-size``, ``--top-k``, ``--image-shape``); see
    :func:`~loadgen.replay.requests.to_request_spec`.

    :param endpoint: the Jina endpoint, e.g. ``/search`` (after ``--endpoint-map``).
    :param lineno: 1-based line number in the file.
    :param index: 0-based position among the file's requests (comments and blank lines do
        not count); :func:`~loadgen.replay.requests.worker_share` deals lines out by it.
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


def parse_line(text: str, *, lineno: int = 1, index: int = 0, source: str = "FILE",
               endpoint_map: Optional[Mapping[str, str]] = None) -> Optional[ReplayLine]:
    """Parse one line (its line ending and a leading UTF-8 BOM are dropped).

    :param endpoint_map: foreign path -> Jina endpoint (:mod:`loadgen.replay.endpoint_map`);
        a mapped line passes its unknown keys on as request parameters.
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
