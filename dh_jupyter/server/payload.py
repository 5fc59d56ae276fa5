"""A run as the JSON the panel reads: what it is, where it stands, how old.

Only the fields listed here leave the server. A run's spec (with its
environment variables and the names of its secrets) and anything from the
cluster's credentials stay out by construction, not by filtering.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from dh_jupyter.runs.base import Run
from dh_jupyter.runs.status import Status

BOUNDS = ("requests", "limits")


def run_payload(
    run: Run, now: datetime, gpu_resource: str = "nvidia.com/gpu"
) -> dict[str, Any]:
    """``run`` as a JSON-ready dict; ``age`` is in seconds at ``now``."""
    info = run.info
    created = _aware(info.created)
    return {
        "name": info.name,
        "namespace": info.namespace,
        "backend": info.backend,
        "user": info.user,
        "notebook": info.notebook,
        "created": _iso(created),
        "age": _seconds_between(created, now),
        "resources": resources_payload(info.resources, gpu_resource),
        "status": status_payload(run.status, now),
    }


def resources_payload(
    resources: dict[str, dict[str, str]], gpu_resource: str
) -> dict[str, dict[str, str]]:
    """Resources by kind in the run spec's words: ``{"mem": {"requests": "2Gi"}}``.

    Backends may keep them as a container has them (``{"requests":
    {"memory": "2Gi"}}``); the panel always gets the spec's shape, so it
    says "mem" and "gpu" as the ``%%dhrun`` flags do.
    """
    if not resources or not set(resources) <= set(BOUNDS):
        return {
            kind: {bound: str(value) for bound, value in bounds.items()}
            for kind, bounds in resources.items()
        }
    words = {"memory": "mem", gpu_resource: "gpu"}
    by_kind: dict[str, dict[str, str]] = {}
    for bound in BOUNDS:
        for name, amount in resources.get(bound, {}).items():
            by_kind.setdefault(words.get(name, name), {})[bound] = str(amount)
    return by_kind


def status_payload(status: Status, now: datetime) -> dict[str, Any]:
    """The phase, the plain-words description with its hint, and the timing."""
    status = replace(
        status, started=_aware(status.started), finished=_aware(status.finished)
    )
    return {
        "phase": status.phase.value,
        "done": status.phase.finished,
        "description": status.describe(now),
        "reason": status.reason,
        "hint": status.hint,
        "started": _iso(status.started),
        "finished": _iso(status.finished),
        "elapsed": status.elapsed(now),
        "exit_code": status.exit_code,
    }


def _aware(moment: datetime | None) -> datetime | None:
    # Times without a zone come from this machine's clock, in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _seconds_between(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    return max(0.0, (end - start).total_seconds())
