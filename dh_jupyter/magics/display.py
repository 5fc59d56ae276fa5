"""How a run looks in a cell: the monitor widget, or plain text.

Widgets only render where a Jupyter front-end draws them; nbconvert,
papermill and a terminal show their text fallback, which for a monitor would
be a useless repr. So a run shows as the widget in a kernel that a Jupyter
server started for a notebook (it sets ``JPY_SESSION_NAME``), and as printed
status lines and logs everywhere else, unless ``c.DhJupyter.monitor`` says
otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone

from dh_jupyter.config import DhJupyter
from dh_jupyter.runs.base import Run, RunInfo
from dh_jupyter.runs.follow import follow
from dh_jupyter.runs.status import Status, span


def use_widget(config: DhJupyter) -> bool:
    """Whether to show the monitor widget rather than text."""
    if config.monitor != "auto":
        return config.monitor == "widget"
    from IPython import get_ipython

    shell = get_ipython()
    in_kernel = shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
    return in_kernel and bool(os.environ.get("JPY_SESSION_NAME"))


def follow_as_text(run: Run) -> Status:
    """Print status changes and log lines until the run finishes."""
    shown: list[tuple[str, str, str]] = []

    def on_status(status: Status) -> None:
        key = (status.phase.value, status.reason, status.hint)
        if shown and shown[-1] == key:
            return
        shown.append(key)
        print(f"[{run.name}] {status.describe()}", flush=True)

    def on_line(line: str) -> None:
        print(line, flush=True)

    final = follow(run, on_status, on_line)
    on_status(final)
    return final


def follow_as_widget(run: Run) -> Status:
    """Show the run monitor widget and block until the run finishes."""
    from IPython.display import display

    from dh_jupyter.widgets.monitor import RunMonitor

    monitor = RunMonitor(run)
    display(monitor)
    final: Status = monitor.follow()
    return final


def short_status(status: Status, width: int = 70) -> str:
    """The status line without the hint, cut to ``width`` for a table."""
    text = replace(status, hint="").describe()
    return text if len(text) <= width else text[: width - 1] + "…"


def resources_summary(resources: Mapping[str, Mapping[str, str]]) -> str:
    """``cpu 500m/2, mem 4Gi, gpu 1`` from either spelling of resources."""
    by_kind: dict[str, dict[str, str]] = {}
    for outer, inner in resources.items():
        for key, amount in inner.items():
            if outer in ("requests", "limits"):
                kind, side = key, outer
            else:
                kind, side = outer, key
            kind = {"memory": "mem"}.get(kind, kind)
            if kind.endswith("/gpu"):
                kind = "gpu"
            by_kind.setdefault(kind, {})[side] = amount
    parts = []
    for kind, sides in by_kind.items():
        request, limit = sides.get("requests"), sides.get("limits")
        if request and limit and request != limit:
            parts.append(f"{kind} {request}/{limit}")
        else:
            parts.append(f"{kind} {request or limit}")
    return ", ".join(parts) or "-"


def age(info: RunInfo, now: datetime | None = None) -> str:
    """How long ago the run was created, in words."""
    if info.created is None:
        return "-"
    created = info.created
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    seconds = ((now or datetime.now(timezone.utc)) - created).total_seconds()
    return span(max(0.0, seconds)) + " ago"


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    """A plain text table with aligned columns."""
    widths = [
        max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)
    ]
    for row in [headers, *rows]:
        line = "  ".join(
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
        )
        sys.stdout.write(line.rstrip() + "\n")
