"""``upload_to_s3``, ``download_from_s3``: transfers delegated to :mod:`loadgen.cloud.s3`
(checksummed, boto3's credential chain; needs the ``aws`` extra).

A step names its place as ``url: s3://BUCKET/PREFIX`` or as the original stress test's
``bucket:`` and ``key:``; relative directories are relative to the run's results directory.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from loadgen.errors import CloudError, ConfigError
from loadgen.scenarios.methods.base import Method, StepRun, StepSource
from loadgen.scenarios.model import ScenarioError
from loadgen.scenarios.params import Param, text

_PLACE = {"url": Param(text), "bucket": Param(text), "key": Param(text), "region": Param(text, "")}


def finish(kwargs: dict, source: StepSource) -> dict:
    """Exactly one of ``url`` and ``bucket`` (+ ``key``); the latter becomes ``url``."""
    if (kwargs["url"] is None) == (kwargs["bucket"] is None):
        raise ScenarioError(source.where, "give exactly one of `url: s3://BUCKET/PREFIX` or `bucket:` (with `key:`)")
    if kwargs["url"] is None:
        key = (kwargs["key"] or "").strip("/")
        kwargs = {**kwargs, "url": f"s3://{kwargs['bucket']}/{key}".rstrip("/")}
    return kwargs


# loadgen.cloud.s3 words its fixes for `loadgen s3` (its options); in a scenario they are step keys
_STEP_WORDING = (("give e.g. --region ", "give e.g. region: "), ("--region:", "region:"),
                 ("check --region,", "check region,"), ("or pass --overwrite", "or give another local_directory"))


def s3_transfer(method: str, kwargs: Mapping[str, Any], *, run_dir: Path, out: Callable[[str], Any]) -> str:
    """Run ``upload_to_s3`` / ``download_from_s3``; relative directories are relative to the
    run's results directory. Returns the transfer's summary line (the caller prints it;
    ``out`` gets only the retry lines)."""
    try:
        from loadgen.cloud import s3
    except ImportError as exc:  # pragma: no cover - the module ships with loadgen
        raise ConfigError(f"{method}: S3 transfers are not available ({exc}); install loadgen[aws]")

    def progress(text: str) -> None:
        if not text.startswith(("uploaded ", "downloaded ")):  # the summary line, returned instead
            out(text)

    try:
        if method == "upload_to_s3":
            report = s3.upload_to_s3(run_dir / (kwargs["directory"] or "."), kwargs["url"], region=kwargs["region"],
                                     out=progress)
        else:
            report = s3.download_from_s3(kwargs["url"], run_dir / kwargs["local_directory"], region=kwargs["region"],
                                         out=progress)
    except (ConfigError, CloudError) as exc:
        text = str(exc)
        for cli, step in _STEP_WORDING:
            text = text.replace(cli, step)
        if text == str(exc):
            raise
        raise (ConfigError if isinstance(exc, ConfigError) else CloudError)(text) from None
    return report.line()


def _upload(ctx: StepRun) -> None:
    ctx.console.line("  " + s3_transfer("upload_to_s3", ctx.step.kwargs, run_dir=ctx.run_dir, out=ctx.console.line))


def _download(ctx: StepRun) -> None:
    ctx.console.line("  " + s3_transfer("download_from_s3", ctx.step.kwargs, run_dir=ctx.run_dir,
                                        out=ctx.console.line))


UPLOAD = Method(params={"directory": Param(text), **_PLACE}, finish=finish, run=_upload)
DOWNLOAD = Method(params={**_PLACE, "local_directory": Param(text, ".")}, finish=finish, run=_download)
