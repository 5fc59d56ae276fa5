"""Where a run is in its life, said in plain words.

Every backend reduces what it sees (watch events, a process's exit) to one
``Status``: a phase from a short fixed list, the reason in words a notebook
user understands, and the hint that fixes it. Surfaces only ever show a
``Status``; they never interpret Kubernetes objects themselves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone


class Phase(str, enum.Enum):
    """The phases of a run, in the order a run usually passes them."""

    QUEUED = "queued"
    PENDING = "pending"
    PULLING = "pulling image"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether a run in this phase will not change any more."""
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)


@dataclass(frozen=True)
class Status:
    """A run's phase with its explanation and timing.

    ``reason`` says what is happening ("no node has a free nvidia.com/gpu"),
    ``hint`` what the user can do about it ("ask for fewer GPUs, or wait").
    """

    phase: Phase
    reason: str = ""
    hint: str = ""
    started: datetime | None = None
    finished: datetime | None = None
    exit_code: int | None = None

    def elapsed(self, now: datetime | None = None) -> float | None:
        """Seconds since the run started (until it finished), if it started."""
        if self.started is None:
            return None
        end = self.finished or now or datetime.now(timezone.utc)
        return max(0.0, (end - self.started).total_seconds())

    def describe(self, now: datetime | None = None) -> str:
        """One line for the user: ``running 00:42``, ``succeeded in 3 min 12 s``."""
        elapsed = self.elapsed(now)
        if self.phase is Phase.RUNNING and elapsed is not None:
            text = f"running {clock(elapsed)}"
        elif self.phase.finished and elapsed is not None:
            text = f"{self.phase.value} in {span(elapsed)}"
        elif self.phase is Phase.PENDING:
            text = "waiting"
        else:
            text = self.phase.value
        if self.reason:
            text += f": {self.reason}"
        if self.hint:
            text += f". {self.hint}"
        return text


def clock(seconds: float) -> str:
    """``42`` → ``00:42``; ``3725`` → ``1:02:05``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def span(seconds: float) -> str:
    """``192`` → ``3 min 12 s``; ``4.2`` → ``4.2 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)
