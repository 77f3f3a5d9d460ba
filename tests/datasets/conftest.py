"""Shared data of the dataset tests: an image folder with every kind of trouble, and small
helpers to write files and read ids."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

RNG = np.random.default_rng(42)


def save_image(path: Path, array: np.ndarray, fmt: str, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path, format=fmt)


def noise(h: int, w: int, c: int | None = 3) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w) if c is None else (h, w, c), dtype=np.uint8)


@pytest.fixture
def image_dir(tmp_path) -> Path:
    """Mixed sizes and modes, nested folders, one corrupt and one truncated file, hidden
    files and a text file that are not images."""
    root = tmp_path / "photos"
    save_image(root / "a.png", noise(12, 20), "PNG")
    save_image(root / "b.JPG", noise(30, 16), "JPEG")
    save_image(root / "gray.png", noise(9, 7, None), "PNG")
    save_image(root / "sub" / "rgba.png", noise(10, 10, 4), "PNG")
    save_image(root / "sub" / "palette.png", noise(8, 8), "PNG", mode="P")
    save_image(root / "sub" / "deeper" / "c.jpeg", noise(40, 24), "JPEG")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    jpeg = io.BytesIO()
    Image.fromarray(noise(64, 64)).save(jpeg, format="JPEG")
    (root / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 3])
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "._a.png").write_bytes(b"\0\5\26\7 AppleDouble")
    (root / "notes.txt").write_text("not an image\n")
    return root


GOOD = ["a.png", "b.JPG", "gray.png", "sub/deeper/c.jpeg", "sub/palette.png", "sub/rgba.png"]
BAD = ["sub/broken.png", "truncated.jpg"]


def write_file(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


ABC = "a\nb\nc\n"


def doc_ids(docs) -> list[str]:
    return [d.id for d in docs]
