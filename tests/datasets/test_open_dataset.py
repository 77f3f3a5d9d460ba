"""``--dataset`` specs (loadgen.datasets.open_dataset): every kind of bad input is one line
that names the option and the fix."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadgen.datasets import open_dataset
from loadgen.errors import ConfigError

from .conftest import write_file


def _error_cases(tmp_path: Path) -> list[tuple[str, dict, str]]:
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "only_text").mkdir()
    write_file(tmp_path / "only_text" / "readme.md", "hi")
    write_file(tmp_path / "empty.txt", "")
    write_file(tmp_path / "blank.txt", "\n  \r\n\n")
    all_bad = tmp_path / "all_bad"
    all_bad.mkdir()
    write_file(all_bad / "x.png", b"junk")
    return [
        ("images:" + str(tmp_path / "missing"), {}, "is not a directory"),
        ("images:" + str(tmp_path / "empty_dir"), {}, "no PNG or JPEG file under"),
        ("images:" + str(tmp_path / "only_text"), {}, r"found 1 other files, e.g. readme.md"),
        ("text:" + str(tmp_path / "missing.txt"), {}, "does not exist"),
        ("text:" + str(tmp_path), {}, "is a directory"),
        ("text:" + str(tmp_path / "empty.txt"), {}, "no documents"),
        ("jsonl:" + str(tmp_path / "blank.txt"), {}, "no documents"),
        ("pictures:x", {}, "cannot read 'pictures:x'; use random-image"),
        ("images:", {}, "cannot read 'images:'"),
        ("builtin:mnist", {}, "no built-in dataset 'mnist'; use builtin:digits or builtin:pydoc"),
        ("random-image", {"image_as": "blob"}, "--image-as blob: random-image sends tensors only"),
        ("random-image", {"image_as": "png"}, "--image-as: unknown value 'png'"),
        ("builtin:digits", {"image_shape": (8, 8, 2)}, "--image-shape 8,8,2: images become HxW"),
        ("s3://x", {}, "is not an S3 URL"),
    ]


def test_bad_input_gives_one_line_naming_the_option(tmp_path):
    for spec, kwargs, message in _error_cases(tmp_path):
        with pytest.raises(ConfigError) as caught:
            open_dataset(spec, **kwargs)
        text = str(caught.value)
        assert message in text or re.search(message, text), (spec, text)
        assert "\n" not in text and text.startswith(("--dataset", "--image-as", "--image-shape")), text
