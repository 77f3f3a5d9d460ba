"""What each step method accepts, and the registries of named input generators and validators.

Every key of every method is declared here with its type and default; the loader checks a
step against its method's :class:`Param` table and fills in the defaults, so a typo or a
wrong type stops the scenario before anything runs. ``inputs`` and ``on_always`` name
functions from :data:`GENERATORS` and :data:`VALIDATORS`, or -- only when written explicitly
as ``module:function`` -- a function of the user's (imported and run: see loadgen.plugins;
a generator becomes ``--dataset python:module:function``, a validator ``--validator``).
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.config import PROTOCOLS, GRPC_MODES, parse_headers, parse_image_shape
from loadgen.datasets import open_dataset
from loadgen.errors import ConfigError
from loadgen.flowctl import DEFAULT_POLLING, parse_polling
from loadgen.plugins import load_function
from loadgen.pacing import parse_arrival_rate
from loadgen.scenarios.model import ScenarioError, Where
from loadgen.slo import parse_slo

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


def env_mapping(value: Any, where: Where) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise ScenarioError(where, f"must be a mapping of NAME: value, got {value!r}")
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def slos(value: Any, where: Where) -> tuple[str, ...]:
    items = strings(value, where)
    for i, item in enumerate(items):
        _config(parse_slo, item, where.child(i))
    return items


def headers(value: Any, where: Where) -> tuple[str, ...]:
    """``'Name: value'`` items sent with every request (``--header``); values are credentials:
    errors do not show them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise ScenarioError(where, "must be a list of 'Name: value' strings, e.g. ['Authorization: Bearer ${TOKEN}'] "
                                   "(the value given is not shown)")
    _config(lambda given: parse_headers(given, option="headers"), items, where)
    return tuple(items)


def polling(value: Any, where: Where) -> str:
    """``ANY``, ``ALL``, or per endpoint: ``{/index: ANY, /search: ALL}`` or the same as text
    ``/index:ANY,/search:ALL``; kept as text (the Flow's ``--polling`` in loadgen's syntax)."""
    if isinstance(value, dict):
        value = ",".join(f"{endpoint}:{kind}" for endpoint, kind in value.items())
    spec = text(value, where)
    _config(lambda s: parse_polling(s, option="polling"), spec, where)
    return spec


def arrival_rate(value: Any, where: Where) -> str:
    rate = text(value, where).strip()
    _config(parse_arrival_rate, rate, where)
    return rate


def _config(parse: Callable[[str], Any], value: str, where: Where) -> Any:
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


# -- named inputs (document generators) and on_always (validators) -------------------------
@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Documents of a load step, from a registered generator."""

    method: str
    kind: str  # the locustfile: locustfiles/<kind>.py
    image_shape: Optional[tuple[int, ...]] = None
    seed: int = 0
    dataset: str = ""  # python:MODULE:FUNCTION for a custom generator
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # its keyword arguments


@dataclass(frozen=True, kw_only=True)
class OnAlways:
    """What is checked on every reply, from a registered validator; ``record=False`` marks a
    warm-up step whose figures stay out of the results table."""

    method: str
    kind: Optional[str] = None
    top_k: Optional[int] = None
    record: bool = True
    shards: Optional[int] = None  # /search matches must come from this many indexer shards
    validator: str = ""  # MODULE:FUNCTION of a custom validator
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # its keyword arguments


def _shape(value: Any, where: Where) -> tuple[int, ...]:
    spec = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return _config(lambda s: parse_image_shape(s, option="shape"), spec, where)


GENERATORS: dict[str, tuple[Callable[..., Inputs], dict[str, Param]]] = {
    "random_images": (lambda shape=None, seed=0: Inputs(method="random_images", kind="image",
                                                         image_shape=shape, seed=seed),
                      {"shape": Param(_shape, help="image shape, e.g. [224, 224, 3]"), "seed": Param(whole(0), 0)}),
    "random_texts": (lambda seed=0: Inputs(method="random_texts", kind="text", seed=seed),
                     {"seed": Param(whole(0), 0)}),
}
VALIDATORS: dict[str, tuple[Callable[..., OnAlways], dict[str, Param]]] = {
    "validate_images": (lambda top_k=None, shards=None: OnAlways(method="validate_images", kind="image", top_k=top_k,
                                                                  shards=shards),
                        {"top_k": Param(whole(1)), "shards": Param(whole(1))}),
    "validate_texts": (lambda top_k=None, shards=None: OnAlways(method="validate_texts", kind="text", top_k=top_k,
                                                                shards=shards),
                       {"top_k": Param(whole(1)), "shards": Param(whole(1))}),
    "blank_cb": (lambda: OnAlways(method="blank_cb", record=False), {}),
}


def _custom_generator(name: str, kwargs: dict, where: Where) -> Inputs:
    """``inputs: {method: MODULE:FUNCTION}``: imported and called once now, so that a bad
    module, function or first document stops the scenario before any load (runs user code)."""
    _importable_beside(where)
    try:
        dataset = open_dataset(f"python:{name}", kwargs=kwargs)
    except ConfigError as exc:
        raise ScenarioError(where.child("method"), str(exc))
    return Inputs(method=name, kind=dataset.kind, dataset=f"python:{name}", kwargs=dict(kwargs))


def _custom_validator(name: str, kwargs: dict, where: Where) -> OnAlways:
    """``on_always: {method: MODULE:FUNCTION}``: imported now (runs user code), called by the
    Locust users with each successful result (``--validator``)."""
    _importable_beside(where)
    try:
        load_function(name, option="on_always.method")
    except ConfigError as exc:
        raise ScenarioError(where.child("method"), str(exc))
    return OnAlways(method=name, validator=name, kwargs=dict(kwargs))


def _importable_beside(where: Where) -> None:
    """Modules beside the scenario file import like ones in the current directory, here and
    in worker processes (PYTHONPATH)."""
    directory = str(Path(where.file).resolve().parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if directory not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([directory, *paths])


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
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- the methods ---------------------------------------------------------------------------
_PROTOCOL = choice(*PROTOCOLS)
_WORKSPACE = {"files": Param(strings, REQUIRED, "a list of files or directories to copy, e.g. [flows/image.yml, "
                                                "flows/executors]"),
              "environment": Param(env_mapping, {})}
_LOAD = {
    "execution_time": Param(seconds, 10.0), "request_size": Param(whole(1), 8),
    "num_clients": Param(whole(1), 1), "protocol": Param(_PROTOCOL),
    "gateway_host": Param(text), "gateway_port": Param(whole(1)),
    "inputs": Param(named_call(GENERATORS, "input generator", _custom_generator)),
    "on_always": Param(named_call(VALIDATORS, "validator", _custom_validator)),
    "arrival_rate": Param(arrival_rate), "replay_file": Param(text), "slo": Param(slos, ()),
    "workers": Param(whole(1)), "grpc_mode": Param(choice(*GRPC_MODES), "unary"), "timeout": Param(seconds, 30.0),
    "headers": Param(headers, ()),
}
_S3_PLACE = {"url": Param(text), "bucket": Param(text), "key": Param(text), "region": Param(text, "")}
METHODS: dict[str, dict[str, Param]] = {
    "create_workspace": _WORKSPACE,
    "update_workspace": _WORKSPACE,
    "delete_workspace": {},
    "start_flow": {"flow": Param(text), "file": Param(text), "protocol": Param(_PROTOCOL, "grpc"),
                   "port": Param(whole(1)), "replicas": Param(whole(1), 1), "shards": Param(whole(1), 1),
                   "top_k": Param(whole(1), 10), "polling": Param(polling, DEFAULT_POLLING),
                   "startup_timeout": Param(seconds, 120.0)},
    "terminate_flow": {},
    "index": _LOAD,
    "query": {**_LOAD, "top_k": Param(whole(1), 10)},
    "upload_to_s3": {"directory": Param(text), **_S3_PLACE},
    "download_from_s3": {**_S3_PLACE, "local_directory": Param(text, ".")},
    "report": {},
}
LOAD_METHODS = ("index", "query")
FLOW_KEYS = ("flow", "file", "protocol", "port", "replicas", "shards", "top_k", "polling")
