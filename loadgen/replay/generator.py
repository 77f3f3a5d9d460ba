"""``loadgen replay make``: a generated replay file, written one line at a time.

:func:`make` writes a file as it is generated: memory does not grow with the file, and one
:class:`MakeConfig` always gives the same bytes. :func:`generate` yields the same requests as
records; :func:`write_file` writes a file that appears complete or not at all. The format is
described in docs/replay.md.
"""
from __future__ import annotations

import bisect
import itertools
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Optional, TextIO, Union

from loadgen.config import KINDS
from loadgen.errors import ConfigError
from loadgen.replay.format import MAX_DOCS, SEARCH, ReplayLine, format_line

VARIANT_PARAM = "variant"
PROGRESS_EVERY = 10_000
HEADER = "# jina-loadgen replay file: one request per line (docs/replay.md)\n# made by: {command}\n"
HEADER_LINES = 2


@dataclass(frozen=True, kw_only=True)
class MakeConfig:
    """What ``loadgen replay make`` writes (each field is the option of the same name).

    :param calls: calls to write; a paired call writes two lines.
    :param users: each call's user is drawn uniformly from 1..``users`` (Seldon's 10000).
    :param mix: ``(endpoint, weight)`` pairs; an unpaired call draws its endpoint by weight.
    :param kind: ``image`` or ``text``.
    :param docs: documents per request.
    :param top_k: ``top_k`` of ``/search`` lines.
    :param shape: image shape written on each line; None leaves it to ``--image-shape``.
    :param seed: seed of every draw (endpoints, users, the lines' document seeds).
    :param paired: Seldon's pattern: each call writes the first endpoint of ``mix``, then
        the second, for the same user and the same documents (one seed), in strict alternation.
    :param variant_fraction: share of paired calls whose second line is the variant
        (``name=ENDPOINT-variant&param.variant=1``), like Seldon's 10 % clicks.
    """

    calls: int = 1000
    users: int = 10_000
    mix: tuple[tuple[str, int], ...] = ((SEARCH, 1), ("/index", 1))
    kind: str = "image"
    docs: int = 1
    top_k: int = 10
    shape: Optional[tuple[int, ...]] = None
    seed: int = 0
    paired: bool = False
    variant_fraction: float = 0.1

    def __post_init__(self) -> None:
        for option, value, low, high in (("--calls", self.calls, 1, 10**12), ("--users", self.users, 1, 10**12),
                                         ("--docs", self.docs, 1, MAX_DOCS), ("--top-k", self.top_k, 1, 10**6),
                                         ("--seed", self.seed, 0, 2**63 - 1)):
            if not low <= value <= high:
                raise ConfigError(f"{option}: must be a whole number from {low} to {high}, got {value}")
        if self.kind not in KINDS:
            raise ConfigError(f"--kind: unknown document kind {self.kind!r}; use image or text")
        if self.shape is not None and self.kind != "image":
            raise ConfigError("--shape: only image lines have a shape; drop --shape or use --kind image")
        if not 0.0 <= self.variant_fraction <= 1.0:
            raise ConfigError(f"--variant-fraction: must be from 0 to 1, got {self.variant_fraction}")
        if self.paired and (len(self.mix) != 2 or self.mix[0][1] != self.mix[1][1]):
            raise ConfigError("--paired: a pair is sent 1:1 in strict alternation; give two endpoints of equal "
                              "weight, the first sent first, e.g. --mix search:1,index:1")

    @property
    def lines(self) -> int:
        """Request lines the file will hold."""
        return self.calls * (2 if self.paired else 1)

    def command(self) -> str:
        """The ``loadgen replay make`` command that writes this file (less ``-o``)."""
        mix = ",".join(f"{endpoint.lstrip('/')}:{weight}" for endpoint, weight in self.mix)
        words = [f"--calls {self.calls}", f"--users {self.users}", f"--mix {mix}", f"--kind {self.kind}",
                 f"--docs {self.docs}", f"--top-k {self.top_k}", f"--seed {self.seed}"]
        if self.shape:
            words.append("--shape " + ",".join(map(str, self.shape)))
        if self.paired:
            words += ["--paired", f"--variant-fraction {self.variant_fraction:g}"]
        return "loadgen replay make " + " ".join(words)


def generate(config: MakeConfig) -> Iterator[ReplayLine]:
    """The requests of ``config``'s file, lazily, each equal to what :func:`~loadgen.replay.reader.read`
    returns for its line of the written file.

    Reproducible: only ``random.Random(seed)``'s ``random()`` and ``getrandbits()`` are
    drawn, whose sequences Python keeps stable across versions.
    """
    templates = _templates(config)
    for index, (number, seed, user) in enumerate(_draws(config)):
        yield replace(templates[number], lineno=HEADER_LINES + 1 + index, index=index, seed=seed, user=str(user))


def _templates(config: MakeConfig) -> list[ReplayLine]:
    """What the lines of ``config`` share: one per endpoint of the mix, then the variant."""
    templates = [ReplayLine(endpoint=endpoint, kind=config.kind, docs=config.docs, shape=config.shape,
                            top_k=config.top_k if endpoint == SEARCH else None) for endpoint, _ in config.mix]
    second = templates[-1]
    return templates + [replace(second, name=f"{second.endpoint}-variant", params=((VARIANT_PARAM, 1),))]


def _draws(config: MakeConfig) -> Iterator[tuple[int, int, int]]:
    """``(template number, seed, user)`` of each line, in file order."""
    rng = random.Random(config.seed)
    if config.paired:
        for _ in range(config.calls):
            user, seed = 1 + int(rng.random() * config.users), rng.getrandbits(32)
            yield 0, seed, user
            yield (2 if rng.random() < config.variant_fraction else 1), seed, user
        return
    bounds = list(itertools.accumulate(weight for _, weight in config.mix))
    for _ in range(config.calls):
        number = bisect.bisect_right(bounds, rng.random() * bounds[-1])
        user = 1 + int(rng.random() * config.users)
        yield number, rng.getrandbits(32), user


def make(config: MakeConfig, stream: TextIO, *, progress: Optional[Callable[[int], None]] = None) -> int:
    """Write ``config``'s file to ``stream``: a two-line header naming the command, then one
    request per line, written as generated (constant memory).

    :param progress: called with the lines written so far, every :data:`PROGRESS_EVERY`
        lines and once at the end.
    :returns: the request lines written.
    """
    stream.write(HEADER.format(command=config.command()))
    frames = [_frame(template) for template in _templates(config)]
    written = 0
    for written, (number, seed, user) in enumerate(_draws(config), 1):
        head, tail = frames[number]
        stream.write(f"{head}{seed}&user={user}{tail}\n")
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)
    if progress is not None:
        progress(written)
    return written


def _frame(template: ReplayLine) -> tuple[str, str]:
    # format_line's text around "seed=S&user=U", so that a line costs one f-string instead of
    # a record and its formatting (5x faster); '=' and '&' elsewhere are %-escaped, so the
    # marker occurs once. tests/replay/test_generator.py checks that the file reads back as generate().
    head, tail = format_line(replace(template, seed=0, user="0")).split("seed=0&user=0")
    return head + "seed=", tail


def write_file(config: MakeConfig, path: Union[str, os.PathLike], *,
               progress: Optional[Callable[[int], None]] = None) -> int:
    """:func:`make` into ``path`` (parent folders created). The file appears complete or not
    at all: it is written as ``PATH.partial`` and renamed at the end.

    :raises ConfigError: when ``path`` cannot be written.
    """
    path = Path(path)
    partial_path = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial_path, "w", encoding="utf-8", newline="\n") as stream:
            written = make(config, stream, progress=progress)
        os.replace(partial_path, path)
    except OSError as exc:
        raise ConfigError(f"-o {path}: cannot write ({exc.strerror or exc}); give a writable file path") from None
    finally:
        partial_path.unlink(missing_ok=True)
    return written
