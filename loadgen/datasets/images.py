"""Image datasets: files (``images:DIR``, S3 objects) and the shipped digits; decoding with
Pillow, imported only when an image is read (the ``data`` extra)."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
from array import array
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from loadgen.datasets.base import OPTION, Dataset, ImageOptions, size_stats, top
from loadgen.documents import Document
from loadgen.errors import ConfigError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: How many skipped files, and how many distinct source shapes, :meth:`Dataset.stats` names.
EXAMPLES = 5
SHAPES_SHOWN = 10


class ImageDataset(Dataset):
    """Images addressed by index; a subclass says how to read item ``i``'s encoded bytes.

    An unreadable image is skipped and counted (``skipped``, first few named in
    :meth:`stats`) -- in a folder of photos a few broken files are common and should not
    stop a run -- unless ``options.strict``, which raises :class:`ConfigError` naming it.
    """

    def __init__(self, spec: str, keys: Sequence[str], options: ImageOptions):
        super().__init__(spec)
        self.keys = keys
        self.options = options
        self.skipped: dict[str, str] = {}  # key -> reason, in the order found

    def read(self, index: int) -> bytes:
        """The encoded (PNG/JPEG) bytes of item ``index``."""
        raise NotImplementedError

    def size(self, index: int) -> int:
        """Encoded bytes of item ``index``."""
        return len(self.read(index))

    def fields(self, index: int) -> Optional[dict[str, Any]]:
        """Document fields sent with item ``index`` (None: none)."""
        return None

    def header(self, index: int) -> tuple[int, ...]:
        """The tensor shape item ``index`` has without resizing, from its header only."""
        with pillow().open(io.BytesIO(self.read(index))) as img:
            return native_shape(img)

    def _share(self, worker_index: int, workers: int) -> Iterator[Document]:
        for index in range(worker_index, len(self.keys), workers):
            doc = self._document(index)
            if doc is not None:
                yield doc

    def _document(self, index: int) -> Optional[Document]:
        key = self.keys[index]
        try:
            data = self.read(index)
            if self.options.image_as == "blob":
                check_image(data)
                return Document(id=self.doc_id(key), blob=data, fields=self.fields(index))
            return Document(id=self.doc_id(key), tensor=decode_image(data, self.options.shape),
                            fields=self.fields(index))
        except ConfigError:
            raise  # Pillow missing: not a property of this file
        except image_errors() as exc:
            self._skip(key, exc)
        return None

    def _skip(self, key: str, exc: BaseException) -> None:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        if self.options.strict:
            raise ConfigError(f"{OPTION} {self.spec}: {key} is not a readable image ({reason}); "
                              f"fix or remove the file") from None
        self.skipped.setdefault(key, reason)

    def _live_stats(self) -> dict[str, Any]:
        examples = [f"{key}: {why}" for key, why in list(self.skipped.items())[:EXAMPLES]]
        return {"skipped": len(self.skipped), "skipped_examples": examples}

    def _empty_share_hint(self) -> str:
        if self.skipped:
            key, why = next(iter(self.skipped.items()))
            return f"every image of its share is unreadable, e.g. {key}: {why}"
        return super()._empty_share_hint()

    def _compute_stats(self) -> dict[str, Any]:
        readable, sizes, shapes = [], array("q"), Counter()
        for index, key in enumerate(self.keys):
            try:
                shape = self.header(index)
            except ConfigError:
                raise
            except image_errors() as exc:
                self._skip(key, exc)
                continue
            readable.append(index)
            sizes.append(self.size(index))
            shapes["x".join(map(str, shape))] += 1
        if not readable:
            raise ConfigError(f"{OPTION} {self.spec}: none of the {len(self.keys)} image files is readable, e.g. "
                              f"{next(iter(self.skipped))}: {next(iter(self.skipped.values()))}; check the files")
        sent = self.options.shape if self.options.image_as == "tensor" else None
        return {"count": len(readable), **size_stats(sizes), "duplicates": self._duplicates(readable, sizes),
                "image_as": self.options.image_as, "tensor_shape": list(sent) if sent else None,
                "source_shapes": top(shapes, SHAPES_SHOWN)}

    def _duplicates(self, indices: list[int], sizes: Sequence[int]) -> int:
        # Only items of equal size can be equal: hash those, not every file.
        by_size: dict[int, list[int]] = {}
        for index, size in zip(indices, sizes):
            by_size.setdefault(size, []).append(index)
        duplicates = 0
        for group in (g for g in by_size.values() if len(g) > 1):
            digests = {hashlib.blake2b(self.read(i), digest_size=16).digest() for i in group}
            duplicates += len(group) - len(digests)
        return duplicates


class ImageFiles(ImageDataset):
    """Image files: ``images:DIR`` or the image objects of an S3 prefix.

    :param entries: ``(key, path)`` pairs in reading order; ``key`` names the item in
        messages and ids (a path relative to the folder, or an S3 URL).
    """

    def __init__(self, spec: str, entries: Sequence[tuple[str, Path]], options: ImageOptions):
        super().__init__(spec, [key for key, _ in entries], options)
        self.paths = [path for _, path in entries]

    def read(self, index: int) -> bytes:
        return self.paths[index].read_bytes()

    def size(self, index: int) -> int:
        return self.paths[index].stat().st_size

    def header(self, index: int) -> tuple[int, ...]:
        with pillow().open(self.paths[index]) as img:  # reads the header, not the pixels
            return native_shape(img)


class DigitsDataset(ImageDataset):
    """``builtin:digits``: 1797 8x8 grayscale handwritten digits (pixels 0..16 scaled to
    0..255), each with an integer ``label`` field; as a blob, an image is a PNG."""

    def __init__(self, spec: str, options: ImageOptions):
        table = digits_table()
        self.pixels = np.round(table[:, :64].reshape(-1, 8, 8) * (255 / 16)).astype(np.uint8)
        self.labels = table[:, 64].astype(int)
        self._png: list[Optional[bytes]] = [None] * len(table)  # about 220 KiB once all are made
        super().__init__(spec, [f"digits/{i:04d}" for i in range(len(table))], options)

    def read(self, index: int) -> bytes:
        if self._png[index] is None:
            out = io.BytesIO()
            pillow().fromarray(self.pixels[index]).save(out, format="PNG")
            self._png[index] = out.getvalue()
        return self._png[index]

    def header(self, index: int) -> tuple[int, ...]:
        return self.pixels[index].shape

    def fields(self, index: int) -> dict[str, Any]:
        return {"label": int(self.labels[index])}


def digits_table() -> np.ndarray:
    """The shipped ``digits.csv.gz``: one row per image, 64 pixels (0..16) then the label."""
    with resources.files("loadgen.data").joinpath("digits.csv.gz").open("rb") as raw, gzip.open(raw) as stream:
        return np.loadtxt(stream, delimiter=",", dtype=np.uint8, ndmin=2)


def walk_images(root: Path) -> tuple[list[str], list[str]]:
    """Relative POSIX paths of the images under ``root`` and of the other files, sorted;
    hidden files and folders (``.DS_Store``, macOS ``._x.jpg``, ``.git``) are left out."""
    images, others = [], []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                relative = Path(folder, name).relative_to(root).as_posix()
                (images if name.lower().endswith(IMAGE_SUFFIXES) else others).append(relative)
    return sorted(images), sorted(others)


def target_mode(shape: Sequence[int]) -> str:
    """The Pillow mode that gives tensors of ``shape``: ``L``, ``RGB`` or ``RGBA``.

    :raises ConfigError: naming ``--image-shape`` for any other shape.
    """
    if len(shape) == 2 or (len(shape) == 3 and shape[2] == 1):
        return "L"
    if len(shape) == 3 and shape[2] in (3, 4):
        return "RGB" if shape[2] == 3 else "RGBA"
    raise ConfigError(f"--image-shape {','.join(map(str, shape))}: images become HxW, HxWx1, HxWx3 or HxWx4 "
                      f"tensors; use e.g. 224,224,3")


def native_shape(img: Any) -> tuple[int, ...]:
    """The tensor shape of a Pillow image sent without resizing: ``(H, W)`` or ``(H, W, 3)``."""
    width, height = img.size
    return (height, width) if _native_mode(img) == "L" else (height, width, 3)


def _native_mode(img: Any) -> str:
    return "L" if img.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"


def decode_image(data: bytes, shape: Optional[Sequence[int]] = None) -> np.ndarray:
    """Decode PNG/JPEG ``data`` into a uint8 tensor, stretched to ``shape`` if given.

    A JPEG is decoded at the smallest DCT scale that still covers ``shape`` (Pillow's
    ``draft``), which makes shrinking a large photo several times cheaper.

    :raises OSError: (or ValueError, SyntaxError) when ``data`` is not a readable image.
    """
    with pillow().open(io.BytesIO(data)) as img:
        mode = target_mode(shape) if shape else _native_mode(img)
        if shape:
            img.draft(mode, (shape[1], shape[0]))
        pixels = img.convert(mode)
        if shape and pixels.size != (shape[1], shape[0]):
            pixels = pixels.resize((shape[1], shape[0]), pillow().Resampling.BILINEAR)
        array_ = np.asarray(pixels, dtype=np.uint8)
    return array_.reshape(tuple(shape)) if shape else array_


def check_image(data: bytes) -> None:
    """Check that ``data`` is a readable image (header and, for PNG, chunk CRCs) without
    decoding it: blobs are sent as they are, and a broken one would fail in the Flow.

    :raises OSError: (or ValueError, SyntaxError) when it is not.
    """
    with pillow().open(io.BytesIO(data)) as img:
        img.verify()


def image_errors() -> tuple[type[BaseException], ...]:
    """What Pillow raises for a broken file: OSError (truncated, unidentified), ValueError
    or SyntaxError (bad PNG chunks), DecompressionBombError (absurd dimensions)."""
    return OSError, ValueError, SyntaxError, pillow().DecompressionBombError


def pillow() -> Any:
    """``PIL.Image``.

    :raises ConfigError: when Pillow is not installed.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ConfigError(f"{OPTION}: reading images needs Pillow: pip install 'jina-loadgen[data]' "
                          f"(or `make setup`)") from None
    return Image
