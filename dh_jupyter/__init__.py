"""Run a notebook cell as a Kubernetes Job with exactly the resources it needs.

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

__version__ = "0.1.0"

__all__ = [
    "DhJupyterError",
    "RunSpec",
    "SpecError",
    "__version__",
    "build_job",
    "build_manifests",
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
    raise AttributeError(f"module 'dh_jupyter' has no attribute {name!r}")
