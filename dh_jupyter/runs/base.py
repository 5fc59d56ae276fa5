"""The interface every backend's runs share.

The magics, the widgets and the server handlers talk to a ``Run`` and a
``Backend`` only, so a cell behaves the same whether it ran on a cluster or
in a local process. A backend is chosen in ``dh_jupyter.runs.select``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from dh_jupyter.runs.status import Status
from dh_jupyter.spec import RunSpec

StatusCallback = Callable[[Status], None]


@dataclass(frozen=True)
class RunInfo:
    """What is known of a run without following it: for lists and tables."""

    name: str
    namespace: str
    backend: str
    user: str = ""
    notebook: str = ""
    created: datetime | None = None
    resources: dict[str, dict[str, str]] = field(default_factory=dict)


class Run(abc.ABC):
    """One submitted cell: its status, its logs, and a way to stop it."""

    # Why the backend was chosen, when "auto" chose it ("" otherwise); set by
    # ``dh_jupyter.runs.submit``, so the Python API can say it ran locally.
    backend_reason: str = ""

    @property
    @abc.abstractmethod
    def info(self) -> RunInfo:
        """Name, namespace, owner, notebook, creation time and resources."""

    @property
    def name(self) -> str:
        """The run's name (the Job's name on a cluster)."""
        return self.info.name

    @property
    @abc.abstractmethod
    def status(self) -> Status:
        """The latest status known, without waiting."""

    @abc.abstractmethod
    def wait(
        self,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
    ) -> Status:
        """Block until the run finishes (or ``timeout`` seconds pass).

        ``on_status`` is called with every new status as it happens, from
        the calling thread. Returns the last status; it does not raise for a
        failed run, the caller decides.
        """

    @abc.abstractmethod
    def logs(self, follow: bool = False) -> Iterator[str]:
        """The run's output, line by line (without the trailing newline).

        With ``follow`` the iterator keeps yielding lines as they are written
        and ends when the run finishes. A retried attempt starts with a line
        that says so.
        """

    @abc.abstractmethod
    def cancel(self) -> None:
        """Stop the run and delete what it made; it ends as cancelled."""

    def delete(self) -> None:
        """Stop the run if it is going, then remove it and its logs.

        The runs panel's Delete. A backend whose ``cancel`` already removes
        everything (a Job and what it owns) keeps this default; one that
        keeps finished runs around (their logs, for a while) overrides it.
        """
        self.cancel()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.status.describe()}>"


class Backend(abc.ABC):
    """A place runs happen: a Kubernetes cluster, or this machine."""

    name: str = ""

    @abc.abstractmethod
    def submit(self, spec: RunSpec, code: str, *, name: str | None = None) -> Run:
        """Start ``code`` as a run shaped by ``spec`` and return at once.

        ``name`` is the exact run name; a fresh one is made when it is None.
        """

    @abc.abstractmethod
    def runs(self) -> list[Run]:
        """The current user's runs, newest first, including finished ones."""

    @abc.abstractmethod
    def get(self, name: str) -> Run:
        """The run called ``name``; ``NotFoundError`` if there is none."""
