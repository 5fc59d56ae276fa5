"""The local backend: a cell runs in a process on this machine, no cluster needed.

A first try on a laptop, a CI job, a notebook opened where no cluster is
configured: the same spec and cell run here with the same status words, the
same logs and the same failure semantics as a Kubernetes Job. What the spec
means on this machine (honoured, refused, or said ignored) is decided in
``local_plan``; the run itself is kept by a supervisor process
(``local_supervisor``) and lives in a folder under the state directory
(``local_state``), so a run is found again by name after a kernel restart,
and the Jupyter server lists the same runs.

Runs outlive the kernel that started them, like Jobs outlive a notebook
pod: restarting a kernel to free memory must not kill an hour of training,
and the runs panel can still follow and cancel it. A run cannot be
forgotten running forever: its timeout applies, ``%dhcancel`` and the panel
stop it, and a run whose supervisor vanished (killed, machine restarted) is
found out by its pid and start time and reported failed, with what is left
of it stopped. Finished runs are removed ``ttl`` seconds after they end.

The cell runs with the kernel's Python and the kernel's working folder, in
the kernel's environment (minus what only makes sense inside a kernel)
with the spec's variables on top; its own folder, holding ``cell.py``, is
first on ``sys.path``, as ``/var/run/dh-jupyter`` is in a Job, so a cell
that works here imports the same modules on a cluster.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dh_jupyter
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import ConflictError, NotFoundError, RunError
from dh_jupyter.manifest.identity import current_notebook, current_user
from dh_jupyter.manifest.job import container_resources
from dh_jupyter.manifest.naming import job_name
from dh_jupyter.runs import local_mounts, local_proc, local_status
from dh_jupyter.runs.base import Backend, Run, RunInfo, StatusCallback
from dh_jupyter.runs.local_machine import Machine
from dh_jupyter.runs.local_plan import make_plan
from dh_jupyter.runs.local_state import Plan, RunFolder, now, parse_time
from dh_jupyter.runs.local_supervisor import GRACE_SECONDS
from dh_jupyter.runs.status import Status
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.names import dns_label

log = logging.getLogger(__name__)

# Status and logs are files, read again after these pauses: short at first,
# so a quick cell's end shows at once, then longer, so a long run costs
# next to nothing to follow.
_QUICK_POLL = 0.02
_QUICK_SECONDS = 2.0
_POLL = 0.1
# The supervisor is started this way so it finds this very dh_jupyter,
# whatever the kernel's working folder and whether or not it is installed.
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from dh_jupyter.runs.local_supervisor import main; sys.exit(main(sys.argv[2]))"
)


def state_dir(config: DhJupyter) -> Path:
    """Where local runs are kept: the configured folder, or Jupyter's data folder."""
    if config.local_state_dir:
        return Path(config.local_state_dir).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "dh-jupyter" / "runs"


class LocalBackend(Backend):
    """Runs cells as processes on this machine; see the module's docstring."""

    name = "local"

    def __init__(self, config: DhJupyter) -> None:
        if os.name != "posix":
            raise RunError(
                "The local backend needs Linux or macOS; on this system, run cells "
                'on a cluster: c.DhJupyter.backend = "kubernetes".'
            )
        self.config = config
        self.root = state_dir(config)

    def submit(self, spec: RunSpec, code: str, *, name: str | None = None) -> LocalRun:
        """Start ``code`` in a supervised process shaped by ``spec``; return at once."""
        notebook = current_notebook()
        name = name or job_name(Path(notebook).stem)
        if problem := dns_label(name):
            raise SpecError("name", problem)
        if (self.root / name).exists():
            raise _taken(name)

        process: subprocess.Popen[bytes] | None = None
        folder: RunFolder | None = None
        try:
            # One submit at a time decides who holds which GPU, until its
            # record (which says so) is written.
            with self._allocating():
                plan = make_plan(
                    spec,
                    self.config,
                    folder=self.root / name,
                    machine=Machine.here(),
                    busy=self._busy_cores(),
                    busy_gpus=self._busy_gpus(),
                )
                try:
                    folder = RunFolder.create(self.root, name)
                except FileExistsError:
                    raise _taken(name) from None
                folder.code_path.write_text(code, encoding="utf-8")
                folder.write_info(
                    {
                        "name": name,
                        "backend": self.name,
                        "user": current_user(),
                        "notebook": notebook,
                        "created": now().isoformat(),
                        "resources": container_resources(
                            spec, self.config.gpu_resource
                        ),
                        "ttl": spec.ttl if spec.ttl is not None else self.config.ttl,
                        "spec": spec.to_dict(),
                        "plan": plan.record(),
                    }
                )
            folder.update(local_status.starting())
            folder.append_log(*plan.notes)
            local_mounts.acquire(folder, plan.mounts)
            with folder.locked():
                process = _launch(folder, plan)
                folder.update_locked(supervisor=local_proc.identity(process.pid))
        except BaseException:
            # Nothing of a run that could not start is left behind.
            if process is not None:
                _stop_supervisor(process)
            if folder is not None:
                local_mounts.release(folder)
                shutil.rmtree(folder.path, ignore_errors=True)
            raise
        log.info("Started the local run %s (supervisor %s).", name, process.pid)
        return LocalRun(folder, process)

    def runs(self) -> list[Run]:
        """This user's local runs, newest first; expired ones are removed."""
        if not self.root.is_dir():
            return []
        user = current_user()
        found: list[LocalRun] = []
        for path in self.root.iterdir():
            folder = RunFolder(path)
            if not folder.exists():
                continue
            try:
                run = LocalRun(folder)
                if run.info.user != user:
                    continue
                if run.expired():
                    run.remove()
                    continue
            except FileNotFoundError:
                # Removed meanwhile, by another process listing expired runs.
                continue
            found.append(run)
        found.sort(key=lambda run: run.info.created or now(), reverse=True)
        return list(found)

    def get(self, name: str) -> LocalRun:
        """The local run called ``name``, with its status and logs as they are now."""
        folder = RunFolder(self.root / name)
        if not name or "/" in name or not folder.exists():
            raise NotFoundError(
                f'No local run is called "{name}" (in {self.root}); %dhjobs lists '
                "the runs there."
            )
        return LocalRun(folder)

    def _busy_cores(self) -> dict[int, int]:
        """How many live local runs are pinned to each core."""
        busy: dict[int, int] = {}
        for folder in self._live():
            for core in folder.info()["plan"].get("cores") or ():
                busy[core] = busy.get(core, 0) + 1
        return busy

    def _busy_gpus(self) -> dict[str, str]:
        """The live local run holding each GPU that one holds."""
        return {
            gpu: folder.name
            for folder in self._live()
            for gpu in folder.info()["plan"].get("gpus") or ()
        }

    def _live(self) -> Iterator[RunFolder]:
        """The folders of the runs that still hold what they were given."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            folder = RunFolder(path)
            try:
                if not (folder.exists() and folder.holds_resources()):
                    continue
                folder.info()
            except FileNotFoundError:
                # Removed meanwhile, by another process listing expired runs.
                continue
            yield folder

    @contextlib.contextmanager
    def _allocating(self) -> Iterator[None]:
        """Hold the state folder's lock for handing out cores and GPUs."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.root / "allocate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class LocalRun(Run):
    """One local run, read from its folder each time it is asked."""

    def __init__(
        self, folder: RunFolder, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.folder = folder
        # Only the kernel that started the supervisor holds it, to reap it.
        self._process = process
        record = folder.info()
        self._info = RunInfo(
            name=record["name"],
            namespace="",
            backend=LocalBackend.name,
            user=record["user"],
            notebook=record["notebook"],
            created=parse_time(record["created"]),
            resources=record["resources"],
        )

    @property
    def info(self) -> RunInfo:
        return self._info

    @property
    def notes(self) -> list[str]:
        """How the spec was honoured here: the ``[dh-jupyter]`` lines of the logs."""
        return list(self.folder.info()["plan"]["notes"])

    @property
    def status(self) -> Status:
        if self._process is not None:
            self._process.poll()
        self._check_kept()
        status = self.folder.status()
        if not status.phase.finished and self.folder.lost():
            status = self._settle_lost()
        return status

    def wait(
        self,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
    ) -> Status:
        began = time.monotonic()
        end = None if timeout is None else began + timeout
        last: Status | None = None
        while True:
            status = self.status
            if on_status is not None and status != last:
                on_status(status)
            last = status
            if status.phase.finished:
                return status
            if end is not None and time.monotonic() >= end:
                return status
            pause = _pause(began)
            if end is not None:
                pause = min(pause, end - time.monotonic())
            time.sleep(max(0.0, pause))

    def logs(self, follow: bool = False) -> Iterator[str]:
        self._check_kept()
        began = time.monotonic()
        with open(self.folder.log_path, "rb") as output:
            pending = b""
            while True:
                chunk = output.read(65536)
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    yield from (_text(line) for line in lines)
                    continue
                if not follow:
                    break
                if self.status.phase.finished:
                    # Read once more: the last lines may land just before the end.
                    rest = output.read()
                    if not rest:
                        break
                    pending += rest
                    continue
                time.sleep(_pause(began))
            if pending:
                yield _text(pending)

    def cancel(self) -> None:
        """Stop the run: its supervisor stops the cell and records it cancelled."""
        if self.status.phase.finished:
            return
        self.folder.request_cancel()
        supervisor = self.folder.state().get("supervisor")
        if local_proc.alive(supervisor):
            assert supervisor is not None
            local_proc.send([int(supervisor["pid"])], signal.SIGTERM)
        end = time.monotonic() + GRACE_SECONDS + 5
        while time.monotonic() < end:
            if self.status.phase.finished:
                return
            time.sleep(_POLL)
        # The supervisor did not answer: stop everything and record it here.
        log.warning("The supervisor of %s did not stop; killing it.", self.name)
        if local_proc.alive(supervisor):
            assert supervisor is not None
            local_proc.send([int(supervisor["pid"])], signal.SIGKILL)
        self._settle_lost()

    def expired(self) -> bool:
        """Whether the run ended more than its ``ttl`` ago."""
        status = self.folder.status()
        if not status.phase.finished or status.finished is None:
            return False
        ttl = timedelta(seconds=int(self.folder.info().get("ttl", 0)))
        return status.finished + ttl < now()

    def delete(self) -> None:
        """Stop the run if it is going, then delete its folder and logs."""
        self.cancel()

        self._remove_folder()
        log.info("Deleted the local run %s and its logs.", self.name)

    def remove(self) -> None:
        """Delete the folder of a run whose ttl has passed."""
        self._remove_folder()
        log.info("Removed the local run %s: its ttl has passed.", self.name)

    def _remove_folder(self) -> None:
        local_mounts.release(self.folder)
        shutil.rmtree(self.folder.path, ignore_errors=True)

    def _check_kept(self) -> None:
        if not self.folder.exists():
            raise NotFoundError(
                f'The local run "{self.name}" is gone: its ttl passed, or its '
                f"folder in {self.folder.root} was deleted."
            )

    def _settle_lost(self) -> Status:
        """Record the end of a run nothing supervises any more, and stop its cell."""
        with self.folder.locked():
            state = self.folder.state()
            cell = state.get("process")
            if local_proc.alive(cell):
                assert cell is not None
                # No one enforces its limits now, so it cannot go on.
                local_proc.send_group(int(cell["pid"]), signal.SIGKILL)
                local_proc.send([int(cell["pid"])], signal.SIGKILL)
            # Nor can what it started, in its own session or not.
            _kill_tagged(self.name)
            started = parse_time(state.get("started"))
            if self.folder.cancel_requested():
                status = local_status.cancelled(started, now())
            else:
                pid = (state.get("supervisor") or {}).get("pid", "unknown")
                diagnostics = self.folder.path / "supervisor.log"
                status = local_status.lost(pid, diagnostics, started, now())
            # As the supervisor does: nothing of the run is left once it reads ended.
            local_mounts.release(self.folder)
            self.folder.update_locked(status)
        return self.folder.status()


def _launch(folder: RunFolder, plan: Plan) -> subprocess.Popen[bytes]:
    """Start the supervisor of ``folder`` in a session of its own."""
    package_parent = str(Path(dh_jupyter.__file__).resolve().parent.parent)
    with open(folder.path / "supervisor.log", "ab") as diagnostics:
        return subprocess.Popen(
            [sys.executable, "-c", _BOOT, package_parent, str(folder.path)],
            cwd=plan.cwd,
            env=dict(plan.env),
            stdin=subprocess.DEVNULL,
            stdout=diagnostics,
            stderr=subprocess.STDOUT,
            # Its own session: a kernel restart or interrupt does not reach it.
            start_new_session=True,
        )


def _kill_tagged(name: str) -> None:
    """SIGKILL every process carrying the run's tag, until none is left."""
    for _ in range(20):
        found = local_proc.tagged(name)
        if not found:
            return
        local_proc.send(found, signal.SIGKILL)
        # A process forking meanwhile may leave a child just made; look again.
        time.sleep(0.02)
    log.warning("Some processes of the local run %s did not end after SIGKILL.", name)


def _stop_supervisor(process: subprocess.Popen[bytes]) -> None:
    """Stop a supervisor whose run could not be recorded; it stops its cell."""
    process.terminate()
    try:
        process.wait(timeout=GRACE_SECONDS + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pause(began: float) -> float:
    quick = time.monotonic() - began < _QUICK_SECONDS
    return _QUICK_POLL if quick else _POLL


def _taken(name: str) -> ConflictError:
    return ConflictError(
        f'A local run called "{name}" already exists; choose another name, or '
        "leave the name out to get a fresh one."
    )


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r")
