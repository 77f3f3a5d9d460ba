"""User code named as ``MODULE:FUNCTION``: custom document generators and reply validators.

This executes code: naming ``my_docs:generate`` imports the module ``my_docs`` (from the
current directory or ``sys.path``; module-level statements run) and calls ``generate``.
loadgen never imports anything named in a data file (replay lines, datasets, ``.env``);
only these explicit options (``--dataset python:MODULE:FUNCTION``, ``--validator``) and a
scenario's ``inputs``/``on_always`` with a ``module:function`` method do.

Contracts (docs/datasets.md, docs/usage.md):

- a generator is called as ``FUNCTION(worker_index=k, workers=n, **kwargs)`` and returns
  an iterable of documents (see :mod:`loadgen.datasets.python`);
- a validator is called as ``FUNCTION(result, **kwargs)`` with each successful
  :class:`~loadgen.results.Result` (after the timed span) and returns None when the reply is
  fine, else a message: the request then counts as a ``validation`` failure.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import sys
from typing import Any, Callable, Mapping

from loadgen.errors import ConfigError

_SPEC = re.compile(r"\A([A-Za-z_][\w.]*):([A-Za-z_]\w*)\Z")


def load_function(spec: str, *, option: str) -> Callable[..., Any]:
    """Import ``MODULE`` and return its callable ``FUNCTION``.

    :param option: the option (or scenario key) named in errors.
    :raises ConfigError: a malformed spec, a module that cannot be imported (its own error
        included), a missing or non-callable attribute.
    """
    match = _SPEC.match(spec)
    if match is None:
        raise ConfigError(f"{option} {spec!r}: expected MODULE:FUNCTION (a dotted module, a colon, a function "
                          f"name), e.g. my_module:my_function")
    module_name, function_name = match.groups()
    if os.getcwd() not in sys.path:  # like `python -m`: modules beside where the run starts
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any error of user code becomes a one-line message
        raise ConfigError(f"{option} {spec!r}: cannot import {module_name}: {type(exc).__name__}: {exc}; "
                          f"run from the directory holding it or add that directory to PYTHONPATH") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"{option} {spec!r}: {module_name} has no function {function_name!r}")
    return function


def parse_kwargs(text: str, *, option: str) -> dict[str, Any]:
    """A JSON object of keyword arguments ('' is none)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: not JSON ({exc}); give an object, e.g. '{{\"count\": 100}}'") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option}: give a JSON object of keyword arguments, e.g. '{{\"count\": 100}}', "
                          f"not {text!r}")
    return value


def dump_kwargs(kwargs: Mapping[str, Any]) -> str:
    """The JSON of ``kwargs`` as :func:`parse_kwargs` reads it ('' for none)."""
    return json.dumps(dict(kwargs), sort_keys=True) if kwargs else ""
