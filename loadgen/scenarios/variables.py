"""``${VAR}`` / ``${VAR:-default}`` substitution, ``.env`` files and ``--set NAME=VALUE``.

Grammar, inside any string value of a scenario and inside the YAML files of a workspace::

    ${NAME}            the variable's value; an error when it is not defined
    ${NAME:-default}   the value, or ``default`` when the variable is undefined or empty
    $${                a literal ``${``
    ${{ ... }}         left alone: Jina's own ``${{ ENV.X }}`` syntax in Flow YAML

``NAME`` is ``[A-Za-z_][A-Za-z0-9_]*``; a default runs to the first ``}``. Variables come
from, lowest precedence first: the ``--env-file``, the process environment, ``--set``, then
the sweep point (docs/scenarios.md).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import yaml

from loadgen.scenarios.model import ScenarioError, Where

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# One `${...}` expression; the default (group 3) may be empty but contains no `}`.
_EXPR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")
_WHOLE = re.compile(r"\A\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}\Z")
FIX = "write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), or $${ for a literal ${"


def undefined_fix(name: str) -> str:
    """The fix for an undefined variable ``name``."""
    return (f"define {name} in the --env-file, the environment or with --set {name}=VALUE, "
            f"or give a default: ${{{name}:-VALUE}}")


def substitute(text: str, variables: Mapping[str, str], where: Where) -> str:
    """Replace every ``${...}`` of ``text``. :raises ScenarioError: bad syntax or undefined."""
    out, pos = [], 0
    while True:
        start = text.find("$", pos)
        if start < 0:
            return "".join(out) + text[pos:]
        out.append(text[pos:start])
        pos = _expand_at(text, start, variables, where, out)


def _expand_at(text: str, start: int, variables: Mapping[str, str], where: Where, out: list[str]) -> int:
    """Expand the ``$`` at ``start`` into ``out``; returns where scanning resumes."""
    if text.startswith("$${", start):
        out.append("${")
        return start + 3
    if not text.startswith("${", start) or text.startswith("${{", start):
        out.append("$")  # a lone `$`, or Jina's `${{ ENV.X }}`: not ours
        return start + 1
    match = _EXPR.match(text, start)
    if match is None:
        snippet = text[start:start + 30]
        raise ScenarioError(where, f"bad substitution {snippet!r}; {FIX}")
    name, has_default, default = match.group(1), match.group(2), match.group(3)
    value = variables.get(name)
    if value is None or (has_default and value == ""):
        if has_default is None:
            raise ScenarioError(where, f"${{{name}}} is not defined; {undefined_fix(name)}")
        value = default
    out.append(value)
    return match.end()


def resolve_value(value: Any, variables: Mapping[str, str], where: Where) -> Any:
    """Substitute a string value; a string that is one ``${...}`` expression becomes the
    YAML value of its replacement (``"${N:-2}"`` → ``2``, ``"${L:-[1, 2]}"`` → ``[1, 2]``)."""
    if not isinstance(value, str) or "$" not in value:
        return value
    text = substitute(value, variables, where)
    return typed(text) if _WHOLE.match(value) else text


def typed(text: str) -> Any:
    """``text`` read as a one-line YAML value, or ``text`` itself when it is not one."""
    if "\n" in text or not text.strip():
        return text
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError, TypeError):
        return text
    return value if isinstance(value, (int, float, bool, list, dict)) else text


def read_env_file(path: str | Path) -> dict[str, str]:
    """Read ``NAME=VALUE`` lines (``#`` comments, blank lines, ``export NAME=VALUE`` and
    quoted values allowed; no substitution inside). :raises ScenarioError: naming FILE:LINE."""
    where = Where(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(where, f"cannot read the env file ({getattr(exc, 'strerror', None) or exc}); "
                                   f"give an existing NAME=VALUE file to --env-file")
    values: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        item = _env_line(line, Where(str(path), line=lineno))
        if item is not None:
            values[item[0]] = item[1]
    return values


def _env_line(line: str, where: Where) -> Optional[tuple[str, str]]:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("export "):
        stripped = stripped[len("export "):].lstrip()
    name, sep, value = stripped.partition("=")
    # The value is never echoed (env files hold credentials); a line without "=" is not either.
    if not sep:
        raise ScenarioError(where, "a line without '=' (not shown: it may hold a secret); env file lines are NAME=VALUE")
    if not NAME.match(name.strip()):
        raise ScenarioError(where, f"{name.strip()[:40]!r} is not a variable name (letters, digits, _); env file "
                                   f"lines are NAME=VALUE")
    return name.strip(), _unquote(value.strip())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    comment = value.find(" #")  # an unquoted value ends at an inline comment
    return value[:comment].rstrip() if comment >= 0 else value


def parse_sets(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Parse ``--set NAME=VALUE`` items. :raises ScenarioError: for an item without ``=``
    or with a bad name."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not NAME.match(name):
            raise ScenarioError(Where("--set"), f"cannot read {item!r}; use --set NAME=VALUE, e.g. --set REPLICAS=2")
        values[name] = value
    return values


def render_file(path: Path, variables: Mapping[str, str], *, display: str,
                opener: Callable[[Path], str] = lambda p: p.read_text(encoding="utf-8")) -> str:
    """The text of ``path`` with its ``${...}`` substituted; errors name ``display:LINE``."""
    lines = opener(path).splitlines(keepends=True)
    return "".join(substitute(line, variables, Where(display, line=n)) for n, line in enumerate(lines, 1))
