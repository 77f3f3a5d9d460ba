"""Build hook: the locustfiles and the demo Flows ship inside the package.

A checkout keeps them where users and the docs name them (``locustfiles/``,
``scenarios/flows/``); a wheel carries a copy under ``loadgen/shipped/``, where
:func:`loadgen.home.project_root` finds them in an installed package, so that
``locust -f "$(loadgen locustfile image)"`` works after ``pip install 'jina-loadgen[locust]'``.
Everything else is declared in setup.cfg.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("locustfiles", "scenarios/flows")  # copied to loadgen/shipped/<same path>


class BuildPyWithShippedFiles(build_py):
    """``build_py`` plus a copy of :data:`SHIPPED` (an editable install reads the checkout)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for relative in SHIPPED:
            source = ROOT / relative
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing: build from a complete checkout or sdist")
            shutil.copytree(source, Path(self.build_lib) / "loadgen" / "shipped" / relative, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithShippedFiles})
