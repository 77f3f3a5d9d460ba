"""Real data beside the random generators: a ``--dataset`` spec opens a :class:`Dataset`.

Specs (docs/datasets.md has the details and the shipped data's licences):

- ``random-image``, ``random-text`` -- the seeded generators of :mod:`loadgen.documents`;
- ``images:DIR`` -- PNG/JPEG files under ``DIR`` (recursive, sorted by relative path);
- ``text:FILE`` -- one document per non-blank line; ``jsonl:FILE`` -- one JSON object per
  line with a ``text`` field, other fields sent as document fields;
- ``s3://BUCKET/PREFIX`` -- objects mirrored once into a local cache
  (:mod:`loadgen.datasets.s3`), then read as above by file type;
- ``builtin:digits`` (1797 8x8 handwritten digits), ``builtin:pydoc`` (Python's reference
  text, about 2600 paragraphs);
- ``python:MODULE:FUNCTION`` -- documents from a function of the user's, called with
  ``kwargs`` (:mod:`loadgen.datasets.python`; this imports and runs user code).

A dataset is read lazily: :meth:`Dataset.documents` decodes one item at a time, and each
worker of a distributed run takes a disjoint share (item index modulo the worker count), so
the fleet sends every item once per pass. Bad input raises
:class:`~loadgen.errors.ConfigError` naming ``--dataset``, the file (and line) and the fix;
the one exception is an unreadable image among readable ones, which is skipped and counted
(the first few are named in :meth:`Dataset.stats`) unless ``strict``.

Modules, one concept each: :mod:`~loadgen.datasets.base` (the :class:`Dataset` contract,
random data, statistics), :mod:`~loadgen.datasets.images` (Pillow, imported only when an
image is read), :mod:`~loadgen.datasets.text`, :mod:`~loadgen.datasets.s3` (the local cache
of an ``s3://`` prefix; S3 itself through :mod:`loadgen.cloud.s3_objects`, boto3 imported
only for ``s3://``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from loadgen.datasets.base import OPTION, Dataset, ImageOptions, RandomDataset, summary_line
from loadgen.datasets.python import FunctionDataset
from loadgen.datasets.images import IMAGE_SUFFIXES, DigitsDataset, ImageFiles, decode_image, target_mode, walk_images
from loadgen.datasets.text import JSONL_SUFFIXES, TEXT_SUFFIXES, TextDataset, file_records, pydoc_records
from loadgen.errors import ConfigError

__all__ = ["DEFAULT_CACHE_DIR", "Dataset", "ImageOptions", "decode_image", "open_dataset", "summary_line"]

IMAGE_AS = ("tensor", "blob")
BUILTINS = ("digits", "pydoc")
#: Where ``s3://`` datasets are mirrored unless ``cache_dir`` is given.
DEFAULT_CACHE_DIR = "~/.cache/jina-loadgen/datasets"
_SPECS = ("random-image, random-text, images:DIR, text:FILE, jsonl:FILE, s3://BUCKET/PREFIX, builtin:digits, "
          "builtin:pydoc or python:MODULE:FUNCTION")


def open_dataset(spec: str, *, image_shape: Optional[Sequence[int]] = None, image_as: str = "tensor",
                 cache_dir: str | os.PathLike | None = None, seed: int = 0, strict: bool = False,
                 kwargs: Optional[Mapping[str, Any]] = None) -> Dataset:
    """Open the dataset that ``spec`` (the value of ``--dataset``) names.

    Opening is cheap: it lists an image folder, reads a text file up to its first record,
    or mirrors an S3 prefix (downloading only new or changed objects). Nothing is decoded
    until :meth:`Dataset.documents` or :meth:`Dataset.stats` asks.

    :param spec: see the module docstring.
    :param image_shape: see :class:`ImageOptions`; ``random-image`` defaults to 224x224x3.
    :param image_as: ``tensor`` or ``blob`` (``--image-as``); ignored for text.
    :param cache_dir: where ``s3://`` objects are kept between runs
        (default :data:`DEFAULT_CACHE_DIR`).
    :param seed: base seed of ``random-*``; real data is always read in the same order.
    :param strict: an unreadable image raises instead of being skipped.
    :param kwargs: keyword arguments of a ``python:`` dataset's function.
    :raises ConfigError: bad spec, missing or empty source, a bad first record, S3 errors.

    Example::

        dataset = open_dataset("images:photos", image_shape=(224, 224, 3))
        print(summary_line(dataset.stats()))
        for doc in dataset.documents(worker_index=0, workers=2):
            ...
    """
    if image_as not in IMAGE_AS:
        raise ConfigError(f"--image-as: unknown value {image_as!r}; use tensor or blob")
    shape = tuple(int(d) for d in image_shape) if image_shape is not None else None
    if shape is not None:
        target_mode(shape)  # validates before any file is touched
    options = ImageOptions(shape=shape, image_as=image_as, strict=strict)
    if spec in ("random-image", "random-text"):
        return RandomDataset(spec, seed=seed, options=options)
    if spec.startswith("s3://"):
        return _open_s3(spec, options, Path(cache_dir or DEFAULT_CACHE_DIR).expanduser())
    scheme, _, rest = spec.partition(":")
    if scheme == "python":
        return FunctionDataset(spec, rest, kwargs or {})
    opener = _OPENERS.get(scheme)
    if opener is None or not rest:
        raise ConfigError(f"{OPTION}: cannot read {spec!r}; use {_SPECS}")
    return opener(spec, rest, options)


def open_files(spec: str, entries: Sequence[tuple[str, Path]], options: ImageOptions) -> Dataset:
    """A dataset of local files of one kind, by suffix: images, ``.txt`` or ``.jsonl``;
    other files are ignored (and noted).

    :param entries: ``(name for messages and ids, local path)`` in reading order.
    :raises ConfigError: no usable file, or a mix of kinds.
    """
    groups: dict[str, list[tuple[str, Path]]] = {"image": [], "text": [], "jsonl": [], "other": []}
    for name, path in entries:
        groups[_file_kind(name)].append((name, path))
    used = [kind for kind in ("image", "text", "jsonl") if groups[kind]]
    if len(used) != 1:
        problem = f"mixes {' and '.join(used)} files" if used else "holds no PNG/JPEG, .txt or .jsonl file"
        raise ConfigError(f"{OPTION} {spec}: the data {problem}; point it at files of one kind")
    files = groups[used[0]]
    dataset = (ImageFiles(spec, files, options) if used[0] == "image"
               else TextDataset(spec, file_records(files, spec=spec), jsonl=used[0] == "jsonl"))
    if groups["other"]:
        dataset.notes.append(f"{spec}: ignored {len(groups['other'])} other files, e.g. {groups['other'][0][0]}")
    return dataset


def _file_kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(IMAGE_SUFFIXES):
        return "image"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    return "jsonl" if lower.endswith(JSONL_SUFFIXES) else "other"


def _open_images(spec: str, folder: str, options: ImageOptions) -> Dataset:
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{OPTION} {spec}: {root} is not a directory; give a folder of PNG/JPEG files, "
                          f"e.g. --dataset images:data/photos")
    images, others = walk_images(root)
    if not images:
        found = f" (found {len(others)} other files, e.g. {others[0]})" if others else ""
        raise ConfigError(f"{OPTION} {spec}: no PNG or JPEG file under {root}{found}; check the folder")
    dataset = ImageFiles(spec, [(relative, root / relative) for relative in images], options)
    if others:
        dataset.notes.append(f"{spec}: ignored {len(others)} files that are not PNG/JPEG, e.g. {others[0]}")
    return dataset


def _open_text(spec: str, file: str, options: ImageOptions, *, jsonl: bool = False) -> Dataset:
    path = Path(file).expanduser()
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"{OPTION} {spec}: {path} {what}; give a file with one document per line")
    return TextDataset(spec, file_records([(str(path), path)], spec=spec), jsonl=jsonl)


def _open_jsonl(spec: str, file: str, options: ImageOptions) -> Dataset:
    return _open_text(spec, file, options, jsonl=True)


def _open_builtin(spec: str, name: str, options: ImageOptions) -> Dataset:
    if name == "digits":
        return DigitsDataset(spec, options)
    if name == "pydoc":
        return TextDataset(spec, pydoc_records)
    raise ConfigError(f"{OPTION}: no built-in dataset {name!r}; use {' or '.join('builtin:' + b for b in BUILTINS)}")


def _open_s3(spec: str, options: ImageOptions, cache_dir: Path) -> Dataset:
    from loadgen.datasets.s3 import mirror

    entries, report = mirror(spec, cache_dir)
    dataset = open_files(spec, entries, options)
    dataset.extra_stats["s3"] = report
    dataset.notes.append(f"{spec}: {report['downloaded']} objects downloaded "
                         f"({report['bytes_downloaded'] / 2**20:.1f} MiB), {report['reused']} reused from "
                         f"{report['cache_dir']}")
    return dataset


_OPENERS: dict[str, Callable[[str, str, ImageOptions], Dataset]] = {
    "images": _open_images, "text": _open_text, "jsonl": _open_jsonl, "builtin": _open_builtin,
}
