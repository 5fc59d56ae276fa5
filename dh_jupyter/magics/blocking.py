"""A run that behaves like a local cell: submitted, followed, and stopped.

The stop button raises ``KeyboardInterrupt`` wherever the cell happens to
be. Whenever that is, no run is left going that nobody knows of: while it
is being submitted the run is cancelled (or nothing was made yet, and the
cell says so); while it is followed, it is cancelled or, with
``c.DhJupyter.interrupt_cancels = False``, left going with the command that
follows it. Either way the cell ends as failed or interrupted, so "Run all"
stops there, as it does after a failed or cancelled run.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import (
    DhJupyterError,
    NotFoundError,
    RunCancelledError,
    RunFailedError,
)
from dh_jupyter.magics import display
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec, SpecError


def submit(backend: Backend, spec: RunSpec, cell: str, name: str) -> Run:
    """Submit the cell as the run ``name``; an interrupt leaves nothing running."""
    try:
        return backend.submit(spec, cell, name=name)
    except SpecError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        # The run's name was made here, so it can be found even though the
        # backend never handed the run back.
        _withdraw(backend, name)
        raise


def follow(run: Run, config: DhJupyter) -> None:
    """Show the run until it ends; raise unless it succeeded."""
    try:
        if display.use_widget(config):
            final = display.follow_as_widget(run)
        else:
            final = display.follow_as_text(run)
    except KeyboardInterrupt:
        if not config.interrupt_cancels:
            print(
                f"Stopped following {run.name}; it goes on. Follow it again with "
                f"%dhlogs {run.name} --follow, or stop it with %dhcancel {run.name}."
            )
            # Re-raised so the cell ends as interrupted and "Run all" stops.
            raise
        run.cancel()
        raise RunCancelledError(
            f"Cancelled {run.name} because the cell was interrupted."
        ) from None
    _raise_unless_succeeded(run, final)


def _withdraw(backend: Backend, name: str) -> None:
    """Cancel the run ``name`` if the interrupted submit made it; say what happened."""
    try:
        run = backend.get(name)
    except NotFoundError:
        print(f"The cell was interrupted before {name} was submitted; nothing runs.")
        return
    except DhJupyterError as error:
        print(
            f"The cell was interrupted while {name} was being submitted, and "
            f"whether it was created is unknown ({error}); look for it with "
            f"%dhjobs and stop it with %dhcancel {name}."
        )
        return
    run.cancel()
    raise RunCancelledError(
        f"Cancelled {name} because the cell was interrupted while it was being "
        "submitted."
    ) from None


def _raise_unless_succeeded(run: Run, final: Status) -> None:
    if final.phase is Phase.SUCCEEDED:
        return
    if final.phase is Phase.CANCELLED:
        raise RunCancelledError(f"{run.name} was {final.describe()}")
    raise RunFailedError(f"{run.name} {final.describe()}")
