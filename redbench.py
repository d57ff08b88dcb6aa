"""Source-checkout bootstrap: `import redbench` from this folder, without installing.

The package `redbench` lives in bench/, with its subpackages redbench.methods in methods/ and
redbench.datasets in datasets/: the mapping of pyproject.toml's [tool.setuptools.package-dir],
which an installed copy (`pip install .` or `-e .`) gets from setuptools. When this folder is on
sys.path (run_bench.py, scripts/*.py and the tests put it there; loky, dask and torchrun workers
inherit it), this module is what `import redbench` finds: it becomes the package by taking
bench/ as its __path__, runs bench/__init__.py, and maps the two subpackages to their folders.
It is not part of the wheel. Run as a program (`python -m redbench` here), it is the redbench command.
"""
import importlib.abc
import importlib.util
import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
_FOLDERS = {"redbench.methods": os.path.join(_ROOT, "methods"), "redbench.datasets": os.path.join(_ROOT, "datasets")}


class _SubpackageFinder(importlib.abc.MetaPathFinder):
    """Finds redbench.methods and redbench.datasets in their own folders (submodules follow their __path__)."""
    root = _ROOT

    def find_spec(self, name, path=None, target=None):
        folder = _FOLDERS.get(name)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                                      submodule_search_locations=[folder])


if __name__ == "redbench":
    __path__ = [os.path.join(_ROOT, "bench")]
    if __spec__ is not None:
        __spec__.submodule_search_locations = __path__
    if not any(getattr(finder, "root", None) == _ROOT for finder in sys.meta_path):
        sys.meta_path.insert(0, _SubpackageFinder())
    _init = os.path.join(__path__[0], "__init__.py")
    with open(_init, encoding="utf-8") as _fh:
        exec(compile(_fh.read(), _init, "exec"))
elif __name__ == "__main__":        # `python -m redbench` in this folder finds this file first
    sys.path.insert(0, _ROOT)
    from redbench.cli import run
    run(prog="python -m redbench")
