"""The runs layer: a submitted cell's life, whatever runs it.

The Python API the magics, widgets and server handlers all use:
``submit(spec, code)`` returns a ``Run``; ``runs()`` lists the user's runs;
``get_run(name)`` finds one again after a kernel restart. Each takes
``config=``, a ``DhJupyter`` instance or a traitlets ``Config``; without it
the settings are ``dh_jupyter.config.settings()``: the shell's inside
IPython, the IPython profile's configuration files outside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dh_jupyter.runs.base import Backend, Run, RunInfo
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec

if TYPE_CHECKING:
    from traitlets.config import Config

    from dh_jupyter.config import DhJupyter

__all__ = ["Backend", "Phase", "Run", "RunInfo", "Status", "get_run", "runs", "submit"]


def submit(
    spec: RunSpec | Mapping[str, Any] | None = None,
    code: str = "",
    *,
    name: str | None = None,
    job_name: str | None = None,
    backend: str | None = None,
    config: DhJupyter | Config | None = None,
) -> Run:
    """Start ``code`` as a run shaped by ``spec`` and return its handle at once.

    ``name`` is the readable part of the run's name, as ``%%dhrun --name``
    is (``name="Train ResNet"`` makes ``dhrun-train-resnet-x7k2p``); the
    notebook's file name is used without it. ``job_name`` is instead the
    exact name. When the backend was chosen automatically, ``run.backend_reason`` says
    why (and it is logged once per process).
    """
    from dh_jupyter.manifest.identity import current_notebook
    from dh_jupyter.manifest.naming import run_name
    from dh_jupyter.runs.select import choose

    if not isinstance(spec, RunSpec):
        spec = RunSpec.from_dict(spec or {})
    exact = run_name(name, job_name, current_notebook())
    choice = choose(backend, _settings(config))
    choice.announce()
    run = choice.backend.submit(spec, code, name=exact)
    run.backend_reason = choice.reason
    return run


def runs(
    backend: str | None = None, *, config: DhJupyter | Config | None = None
) -> list[Run]:
    """The current user's runs, newest first."""
    from dh_jupyter.runs.select import choose

    return choose(backend, _settings(config)).backend.runs()


def get_run(
    name: str,
    backend: str | None = None,
    *,
    config: DhJupyter | Config | None = None,
) -> Run:
    """The run called ``name``."""
    from dh_jupyter.runs.select import choose

    return choose(backend, _settings(config)).backend.get(name)


def _settings(config: DhJupyter | Config | None) -> DhJupyter:
    from dh_jupyter.config import as_settings

    return as_settings(config)
