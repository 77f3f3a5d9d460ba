"""``inputs`` and ``on_always`` of a load step: the registries of named input generators and
validators, and the user's own ``module:function``.

``inputs`` and ``on_always`` name functions from :data:`GENERATORS` and :data:`VALIDATORS`,
or -- only when written explicitly as ``module:function`` -- a function of the user's
(imported and run: see loadgen.plugins; a generator becomes ``--dataset
python:module:function``, a validator ``--validator``).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.config import parse_image_shape
from loadgen.datasets import open_dataset
from loadgen.errors import ConfigError
from loadgen.plugins import load_function
from loadgen.scenarios.model import ScenarioError, Where
from loadgen.scenarios.params import Param, config_value, named_call, whole


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
    return config_value(lambda s: parse_image_shape(s, option="shape"), spec, where)


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


def default_inputs() -> Inputs:
    """The documents of a load step without ``inputs``: loadgen's random images."""
    return GENERATORS["random_images"][0]()


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


# The checks of the two keys: {method: NAME, kwargs: {...}} (or just NAME) -> Inputs / OnAlways
check_inputs = named_call(GENERATORS, "input generator", _custom_generator)
check_on_always = named_call(VALIDATORS, "validator", _custom_validator)
