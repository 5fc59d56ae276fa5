"""A local run's folder: the files that let any process find and follow it.

Each local run lives in one folder under the state directory
(``c.DhJupyter.local_state_dir``), named like the run:

- ``run.json``: written once at submit: who, when, the spec, the plan the
  supervisor follows, and the notes on how the spec was honoured;
- ``status.json``: the run's current status, replaced as a whole;
- ``output.log``: the cell's stdout and stderr, as written, and dh-jupyter's
  own lines (prefixed ``[dh-jupyter]``);
- ``cell.py``: the cell's code; ``supervisor.log``: the supervisor's own
  diagnostics; ``cancel``: present once someone asked to cancel.

Several processes share a folder: the kernel that submitted the run, the
supervisor that runs it, a restarted kernel, the Jupyter server. Only
``status.json`` changes after submit; writers take the folder's lock and a
finished status is never changed again, so readers need no lock. No file
here ever holds a secret's value.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dh_jupyter.runs import local_proc
from dh_jupyter.runs.status import Phase, Status

LOG_PREFIX = "[dh-jupyter] "
# How long a run may be recorded without a supervisor before it counts as
# lost: the kernel records the supervisor within milliseconds of creating
# the folder, so only a kernel that died in between leaves it missing.
_LAUNCH_WINDOW = 60.0


@dataclass(frozen=True)
class Mount:
    """A local folder made visible at a volume's mount path.

    An empty dir's folder is the run's own (``scratch``): made at the start,
    removed at the end, and watched against its ``size_limit`` (in bytes,
    ``size_text`` as written) and, ``in_memory``, against the memory limit.
    """

    field: str
    link: str
    target: str
    fix: str
    scratch: bool = False
    volume: str = ""
    size_limit: int | None = None
    size_text: str = ""
    in_memory: bool = False


@dataclass(frozen=True)
class Plan:
    """How the supervisor runs the cell. ``env`` may hold secret values."""

    python: str
    cwd: str
    env: Mapping[str, str] = field(repr=False)
    cores: tuple[int, ...] | None = None
    # The GPUs the run holds (CUDA_VISIBLE_DEVICES entries), so others do not.
    gpus: tuple[str, ...] = ()
    memory_limit: int | None = None
    memory_text: str | None = None
    timeout: int | None = None
    retries: int = 0
    mounts: tuple[Mount, ...] = ()
    notes: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """What ``run.json`` keeps of the plan: all but the environment."""
        kept = asdict(self)
        del kept["env"]
        return kept

    @classmethod
    def from_record(cls, record: Mapping[str, Any], env: Mapping[str, str]) -> Plan:
        """The plan ``record`` describes, run with ``env``."""
        values = dict(record)
        values["mounts"] = tuple(Mount(**mount) for mount in values["mounts"])
        values["notes"] = tuple(values["notes"])
        values["cores"] = tuple(values["cores"]) if values["cores"] else None
        values["gpus"] = tuple(values.get("gpus") or ())
        return cls(env=env, **values)


class RunFolder:
    """The folder of one local run, and the only code that touches its files."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._info: dict[str, Any] | None = None

    @classmethod
    def create(cls, root: Path, name: str) -> RunFolder:
        """Make the folder of a new run; ``FileExistsError`` if the name is taken."""
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = root / name
        path.mkdir(mode=0o700)
        return cls(path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def log_path(self) -> Path:
        return self.path / "output.log"

    @property
    def code_path(self) -> Path:
        return self.path / "cell.py"

    def exists(self) -> bool:
        """Whether this is a run's folder (its record was written)."""
        return (self.path / "run.json").is_file()

    # The record written at submit.

    def write_info(self, info: dict[str, Any]) -> None:
        """Write ``run.json``, once, when the run is submitted."""
        _write_json(self.path / "run.json", info)
        self._info = info

    def info(self) -> dict[str, Any]:
        """The run's record: name, user, notebook, created, spec, plan, notes."""
        if self._info is None:
            self._info = _read_json(self.path / "run.json")
        return self._info

    # The status, changed by the supervisor and by whoever settles a lost run.

    def state(self) -> dict[str, Any]:
        """The raw content of ``status.json``; a pending status if not written."""
        try:
            return _read_json(self.path / "status.json")
        except FileNotFoundError:
            return {"phase": Phase.PENDING.value}

    def status(self) -> Status:
        """The status as recorded, without checking that its processes live."""
        return status_from_json(self.state())

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock: one writer of ``status.json`` at a time."""
        with open(self.path / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, status: Status | None = None, **fields: Any) -> bool:
        """Record ``status`` and ``fields`` unless the run already finished.

        Returns whether anything was written. Call it with the lock held
        when reading and writing must be one step; it takes the lock itself
        otherwise.
        """
        with self.locked():
            return self.update_locked(status, **fields)

    def update_locked(self, status: Status | None = None, **fields: Any) -> bool:
        """``update`` for a caller that already holds the lock."""
        state = self.state()
        if Phase(state["phase"]).finished:
            return False
        if status is not None:
            state.update(status_to_json(status))
        state.update(fields)
        _write_json(self.path / "status.json", state)
        return True

    # Cancelling, asked by anyone, acted on by the supervisor.

    def request_cancel(self) -> None:
        """Leave the mark the supervisor looks for before and during the run."""
        (self.path / "cancel").touch()

    def cancel_requested(self) -> bool:
        return (self.path / "cancel").exists()

    # Whether the processes the status speaks of are still there.

    def lost(self) -> bool:
        """Whether the run is unfinished but nothing is left to finish it."""
        state = self.state()
        if Phase(state["phase"]).finished:
            return False
        supervisor = state.get("supervisor")
        if supervisor:
            return not local_proc.alive(supervisor)
        try:
            age = time.time() - (self.path / "run.json").stat().st_mtime
        except FileNotFoundError:
            # Removed meanwhile (its ttl passed): nothing is left to settle.
            return False
        return age > _LAUNCH_WINDOW

    def holds_resources(self) -> bool:
        """Whether the run may still use its mounts (unfinished and not lost)."""
        if not self.exists():
            return False
        return not self.status().phase.finished and not self.lost()

    def append_log(self, *lines: str) -> None:
        """Add dh-jupyter's own lines to the run's output."""
        with open(self.log_path, "a", encoding="utf-8") as output:
            output.writelines(f"{LOG_PREFIX}{line}\n" for line in lines)


def status_to_json(status: Status) -> dict[str, Any]:
    """A ``Status`` as the JSON fields of ``status.json``."""
    return {
        "phase": status.phase.value,
        "reason": status.reason,
        "hint": status.hint,
        "started": _time_text(status.started),
        "finished": _time_text(status.finished),
        "exit_code": status.exit_code,
    }


def status_from_json(state: dict[str, Any]) -> Status:
    """The ``Status`` recorded in ``state``."""
    return Status(
        phase=Phase(state["phase"]),
        reason=state.get("reason", ""),
        hint=state.get("hint", ""),
        started=parse_time(state.get("started")),
        finished=parse_time(state.get("finished")),
        exit_code=state.get("exit_code"),
    )


def now() -> datetime:
    """The current time, timezone-aware, as every recorded time is."""
    return datetime.now(timezone.utc)


def _time_text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def parse_time(text: object) -> datetime | None:
    """A recorded ISO time back as a datetime; None when none was recorded."""
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def _read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        value: dict[str, Any] = json.load(handle)
    return value


def _write_json(path: Path, value: dict[str, Any]) -> None:
    # Write beside it and rename, so a reader never sees half a file.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1)
    os.replace(partial, path)
