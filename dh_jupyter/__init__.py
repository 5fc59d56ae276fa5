"""Run a notebook cell as a Kubernetes Job with exactly the resources it needs.

``run = dh_jupyter.submit(spec, code)`` starts a run and ``run.status``,
``run.wait()``, ``run.logs(follow=True)`` and ``run.cancel()`` follow it;
``dh_jupyter.get_run(name)`` finds one again and ``dh_jupyter.runs.runs()``
lists them (``dh_jupyter.runs`` is the runs subpackage, so it cannot be
called itself).

Importing the package is cheap: the spec layer is pure Python, and the
``kubernetes`` client, IPython magics and widgets load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dh_jupyter.errors import DhJupyterError
from dh_jupyter.manifest import build_job, build_manifests
from dh_jupyter.spec import RunSpec, SpecError

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from dh_jupyter.runs import get_run, submit

__version__ = "0.1.0"

__all__ = [
    "DhJupyterError",
    "RunSpec",
    "SpecError",
    "__version__",
    "build_job",
    "build_manifests",
    "get_run",
    "submit",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "dh-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    # The runs API lives in dh_jupyter.server, imported only when enabled.
    return [{"module": "dh_jupyter.server"}]


def load_ipython_extension(shell: InteractiveShell) -> None:
    """``%load_ext dh_jupyter``: register the magics without loading Kubernetes."""
    from dh_jupyter.magics import register

    register(shell)


def __getattr__(name: str) -> Any:
    # The picker needs ipywidgets, which importing the package must not load.
    if name == "ResourcePicker":
        from dh_jupyter.widgets.picker import ResourcePicker

        return ResourcePicker
    # The runs API: its backends import the kubernetes client on first use,
    # and ``dh_jupyter.runs.runs()`` works after a bare ``import dh_jupyter``.
    if name in ("runs", "submit", "get_run"):
        import importlib

        runs = importlib.import_module("dh_jupyter.runs")
        return runs if name == "runs" else getattr(runs, name)
    raise AttributeError(f"module 'dh_jupyter' has no attribute {name!r}")
