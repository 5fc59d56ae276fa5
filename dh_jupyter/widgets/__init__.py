"""The notebook widgets: ``ResourcePicker`` (a form for the run spec) and
``RunMonitor`` (one run's status, logs and Cancel).

Importing this package stays cheap: ipywidgets loads only when one of the
widgets is first used, so ``import dh_jupyter`` never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dh_jupyter.widgets.monitor import RunMonitor
    from dh_jupyter.widgets.picker import ResourcePicker

__all__ = ["ResourcePicker", "RunMonitor"]


def __getattr__(name: str) -> Any:
    if name == "ResourcePicker":
        from dh_jupyter.widgets.picker import ResourcePicker

        return ResourcePicker
    if name == "RunMonitor":
        from dh_jupyter.widgets.monitor import RunMonitor

        return RunMonitor
    raise AttributeError(f"module 'dh_jupyter.widgets' has no attribute {name!r}")
