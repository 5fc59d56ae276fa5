"""The runs layer: a submitted cell's life, whatever runs it.

The Python API the magics, widgets and server handlers all use:
``submit(spec, code)`` returns a ``Run``; ``runs()`` lists the user's runs;
``get_run(name)`` finds one again after a kernel restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dh_jupyter.runs.base import Backend, Run, RunInfo
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec

__all__ = ["Backend", "Phase", "Run", "RunInfo", "Status", "get_run", "runs", "submit"]


def submit(
    spec: RunSpec | Mapping[str, Any] | None = None,
    code: str = "",
    *,
    name: str | None = None,
    backend: str | None = None,
) -> Run:
    """Start ``code`` as a run shaped by ``spec`` and return its handle at once."""
    from dh_jupyter.runs.select import choose

    if not isinstance(spec, RunSpec):
        spec = RunSpec.from_dict(spec or {})
    return choose(backend).backend.submit(spec, code, name=name)


def runs(backend: str | None = None) -> list[Run]:
    """The current user's runs, newest first."""
    from dh_jupyter.runs.select import choose

    return choose(backend).backend.runs()


def get_run(name: str, backend: str | None = None) -> Run:
    """The run called ``name``."""
    from dh_jupyter.runs.select import choose

    return choose(backend).backend.get(name)
