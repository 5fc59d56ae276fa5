"""The IPython surface: ``%%dhrun``, ``%dhjobs``, ``%dhlogs`` and ``%dhcancel``.

Registering costs little: the magics module imports neither ``kubernetes``
nor ``ipywidgets``; both load when a run first needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


def register(shell: InteractiveShell) -> None:
    """Register the magics on ``shell`` and say what is wrong in its settings."""
    from dh_jupyter.config import settings
    from dh_jupyter.magics.dhrun import DhRunMagics

    config = settings()
    shell.register_magics(DhRunMagics(shell))

    # A bad profile disables only itself; saying so now spares the surprise
    # at the first run that asks for it.
    for problem in config.problems():
        print(problem)
