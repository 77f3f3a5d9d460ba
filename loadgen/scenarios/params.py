"""The keys of a step method: :class:`Param` tables, the shared value checks, and checking a
step's keys against its method's table.

Every key of every method is declared (in its method's module under
:mod:`loadgen.scenarios.methods`) as a :class:`Param` with its check and default; the loader
checks a step against its method's table with :func:`check_kwargs` and fills in the
defaults, so a typo or a wrong type stops the scenario before anything runs. A check takes
``(value, where)`` and returns the typed value or raises a
:class:`~loadgen.scenarios.model.ScenarioError` naming the fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from loadgen.errors import ConfigError, did_you_mean
from loadgen.scenarios.model import ScenarioError, Where

REQUIRED = object()
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(s|m|h)?\s*\Z")
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Param:
    """One key of a method: ``check(value, where)`` returns the typed value or raises."""

    check: Callable[[Any, Where], Any]
    default: Any = None
    help: str = ""


# -- value checks: each returns the typed value or raises ScenarioError naming the fix ------
def whole(minimum: int = 1) -> Callable[[Any, Where], int]:
    def check(value: Any, where: Where) -> int:
        number = _number(value)
        if isinstance(value, bool) or number is None or not number.is_integer() or number < minimum:
            raise ScenarioError(where, f"must be a whole number >= {minimum}, got {value!r}")
        return int(number)
    return check


def seconds(value: Any, where: Where) -> float:
    """A duration > 0 in seconds: a number, or ``30s``, ``2m``, ``1h``."""
    duration = pause(value, where)
    if duration <= 0:
        raise ScenarioError(where, f"must be more than 0 seconds, got {value!r}")
    return duration


def pause(value: Any, where: Where) -> float:
    """A duration >= 0 in seconds: a number, or ``30s``, ``2m``, ``1h``."""
    match = None if isinstance(value, bool) else _DURATION.match(str(value))
    if match is None:
        raise ScenarioError(where, f"must be a duration in seconds like 10, 30s, 2m or 1h, got {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def text(value: Any, where: Where) -> str:
    if isinstance(value, (dict, list, bool)) or value is None:
        raise ScenarioError(where, f"must be a string, got {value!r}")
    return str(value)


def choice(*options: str) -> Callable[[Any, Where], str]:
    def check(value: Any, where: Where) -> str:
        if value not in options:
            raise ScenarioError(where, f"must be one of {', '.join(options)}, got {value!r}")
        return value
    return check


def strings(value: Any, where: Where) -> tuple[str, ...]:
    """A list of strings (a single string is a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ScenarioError(where, f"must be a non-empty list of strings, got {value!r}")
    return tuple(text(item, where.child(i)) for i, item in enumerate(items))


def config_value(parse: Callable[[str], Any], value: str, where: Where) -> Any:
    """``parse(value)`` -- one of loadgen's option parsers -- with its
    :class:`~loadgen.errors.ConfigError` raised as a ScenarioError at ``where``."""
    try:
        return parse(value)
    except ConfigError as exc:
        raise ScenarioError(where, str(exc))


def _number(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


# -- a step's keys against its method's table ----------------------------------------------
def named_call(registry: Mapping[str, tuple[Callable[..., Any], dict[str, Param]]], what: str,
               custom: Callable[[str, dict, Where], Any]) -> Callable:
    """A check for ``{method: NAME, kwargs: {...}}`` calling the registered ``NAME``, or
    ``custom(NAME, kwargs, where)`` for an explicit ``module:function``."""
    def check(value: Any, where: Where) -> Any:
        if isinstance(value, str):
            value = {"method": value}
        if not isinstance(value, dict) or "method" not in value:
            raise ScenarioError(where, f"must be {{method: NAME, kwargs: {{...}}}} naming a registered {what}")
        unknown_keys(value, {"method": None, "kwargs": None}, where)
        name = value["method"]
        kwargs = value.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ScenarioError(where.child("kwargs"), f"must be a mapping of {name}'s arguments, got {kwargs!r}")
        if isinstance(name, str) and ":" in name:
            return custom(name, kwargs, where)
        if not isinstance(name, str) or name not in registry:
            raise ScenarioError(where.child("method"), f"unknown {what} {name!r}{suggest(name, registry)}; "
                                                       f"registered: {', '.join(registry)}")
        factory, params = registry[name]
        return factory(**check_kwargs(kwargs, params, where.child("kwargs")))
    return check


def check_kwargs(given: Mapping[str, Any], params: Mapping[str, Param], where: Where,
                 lines: Optional[Mapping[Any, int]] = None) -> dict[str, Any]:
    """Check ``given`` against ``params``; fill defaults. :raises ScenarioError: unknown,
    missing or mistyped keys."""
    unknown_keys(given, params, where, lines)
    out = {}
    for key, param in params.items():
        at = where.child(key, (lines or {}).get(key))
        if key in given and given[key] is not None:
            out[key] = param.check(given[key], at)
        elif param.default is REQUIRED:
            raise ScenarioError(at, f"is required{': ' + param.help if param.help else ''}")
        else:
            out[key] = param.default
    return out


def unknown_keys(given: Mapping[Any, Any], known: Mapping[str, Any], where: Where,
                 lines: Optional[Mapping[Any, int]] = None) -> None:
    for key in given:
        if key not in known:
            at = where.child(str(key), (lines or {}).get(key))
            raise ScenarioError(at, f"unknown key{suggest(key, known)}; known keys: {', '.join(sorted(known)) or 'none'}")


# Names from the original Jina stress test that have a different name here.
RENAMED = {"client": "protocol", "collect_stats": "report", "inputs_args": "inputs.kwargs",
           "on_always_args": "on_always.kwargs"}


def suggest(name: Any, known: Mapping[str, Any] | list[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    if isinstance(name, str) and name in RENAMED:
        return f" (here it is called {RENAMED[name]!r})"
    return did_you_mean(name, known)
