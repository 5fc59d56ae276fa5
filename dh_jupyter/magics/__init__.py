"""The IPython surface: ``%%dhrun``, ``%dhjobs``, ``%dhlogs`` and ``%dhcancel``.

Registering costs little: the magics module imports neither ``kubernetes``
nor ``ipywidgets``; both load when a run first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


def register(shell: InteractiveShell) -> None:
    """Register the magics on ``shell`` and its ``DhJupyter`` settings."""
    from dh_jupyter.config import settings
    from dh_jupyter.magics.dhrun import DhRunMagics

    settings()
    shell.register_magics(DhRunMagics(shell))
