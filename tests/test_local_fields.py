"""Each field the local backend honours, seen from inside the cell's process.

Every test submits through the public Python API,
``dh_jupyter.runs.submit(spec, code, backend="local")``, as a notebook would,
and reads what the cell itself printed: its environment, its cores, whether
it was stopped, and how its end was reported.
"""

from __future__ import annotations

import math
import os
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fixtures.local import finished, notes, output

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs import Phase
from dh_jupyter.runs.local import LocalRun
from dh_jupyter.runs.local_proc import alive

pytestmark = pytest.mark.usefixtures("local_settings")


def submit(spec: dict[str, Any], code: str) -> LocalRun:
    run = dh_jupyter.runs.submit(spec, textwrap.dedent(code), backend="local")
    assert isinstance(run, LocalRun)
    return run


def test_a_plain_cell_succeeds_and_its_output_is_in_the_logs() -> None:
    run = submit({}, "print('hello from the cell')")

    status = finished(run)

    assert status.phase is Phase.SUCCEEDED
    assert status.exit_code == 0
    assert output(run) == "hello from the cell"
    assert "running on this machine (local backend)" in notes(run)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"env": [{"name": "MODE", "value": "fast"}]}, {"MODE": "fast"}),
        ({"envs": [{"name": "MODE", "value": "slow"}]}, {"MODE": "slow"}),
        (
            {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "two words"}]},
            {"A": "1", "B": "two words"},
        ),
        # The spec's value wins over the kernel's own environment.
        ({"env": [{"name": "HOME", "value": "/elsewhere"}]}, {"HOME": "/elsewhere"}),
    ],
)
def test_environment_variables_are_visible_in_the_process(
    spec: dict[str, Any], expected: dict[str, str]
) -> None:
    run = submit(
        spec,
        f"""
        import json, os
        print(json.dumps({{k: os.environ.get(k) for k in {sorted(expected)!r}}}))
        """,
    )

    finished(run)

    assert output(run) == __import__("json").dumps(dict(sorted(expected.items())))


def test_the_cell_runs_with_the_kernels_python_and_working_folder() -> None:
    import sys

    run = submit({}, "import os, sys; print(sys.executable); print(os.getcwd())")

    finished(run)

    assert output(run).splitlines() == [sys.executable, os.getcwd()]


@pytest.mark.parametrize("limit", ["500m", "1", "1.5", "64"])
def test_a_cpu_limit_pins_the_process_to_that_many_whole_cores(limit: str) -> None:
    available = len(os.sched_getaffinity(0))
    expected = min(
        math.ceil(float(limit.removesuffix("m")) / 1000)
        if limit.endswith("m")
        else math.ceil(float(limit)),
        available,
    )
    run = submit(
        {"resources": {"cpu": {"limits": limit}}},
        """
        import os
        print(len(os.sched_getaffinity(0)))
        print(os.environ["OMP_NUM_THREADS"], os.environ["MKL_NUM_THREADS"],
              os.environ["OPENBLAS_NUM_THREADS"])
        """,
    )

    finished(run)

    assert output(run) == f"{expected}\n{expected} {expected} {expected}"
    said = notes(run)
    assert f"cpu limit {limit}:" in said
    if expected >= available:
        assert "so the run may use all of them" in said
    if limit in ("500m", "1.5") and expected <= available:
        # Rounding up is said, even when it reaches all of the cores.
        assert f"so {limit} was rounded up to {expected}" in said
    assert (
        f"OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS set to {expected}"
    ) in said


def test_thread_counts_the_user_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    run = submit(
        {
            "resources": {"cpu": {"limits": "1"}},
            "env": [{"name": "OMP_NUM_THREADS", "value": "4"}],
        },
        """
        import os
        print(os.environ["OMP_NUM_THREADS"], os.environ["MKL_NUM_THREADS"],
              os.environ["OPENBLAS_NUM_THREADS"])
        """,
    )

    finished(run)

    assert output(run) == "4 3 1"
    assert "OMP_NUM_THREADS, MKL_NUM_THREADS kept as you set them." in notes(run)


def test_a_child_process_inherits_the_pinned_cores() -> None:
    run = submit(
        {"resources": {"cpu": {"limits": "1"}}},
        """
        import subprocess, sys
        subprocess.run([sys.executable, "-c",
                        "import os; print(len(os.sched_getaffinity(0)))"], check=True)
        """,
    )

    finished(run)

    assert output(run) == "1"


HOG = """
import subprocess, sys, time
code = '''
import time
held = []
for _ in range(75):  # at most 600 MiB, should the watch ever fail
    held.append(b"x" * (8 * 2**20))
    time.sleep(0.005)
print("the hog finished")
'''
if {in_child}:
    subprocess.run([sys.executable, "-c", code], check=True)
else:
    exec(code)
"""


@pytest.mark.parametrize("in_child", [False, True], ids=["in-cell", "in-a-child"])
def test_a_memory_hog_is_stopped_and_reported_like_oomkilled(in_child: bool) -> None:
    run = submit(
        {"resources": {"mem": {"limits": "100Mi"}}}, HOG.format(in_child=in_child)
    )

    status = finished(run)

    assert status.phase is Phase.FAILED
    # The words a Kubernetes OOMKilled container gets.
    assert status.reason == (
        "the cell ran out of memory and was killed (its limit is 100Mi)"
    )
    assert status.hint == (
        'Ask for more memory: set resources.mem.limits to "200Mi" or more.'
    )
    assert status.exit_code == 128 + signal.SIGKILL
    assert "the hog finished" not in output(run)
    assert "more than the memory limit of 100Mi" in notes(run)


# A cell that fills an in-memory empty dir, 8 MiB at a time, then lingers
# (or ends at once): tmpfs files are memory, as a pod's memory cgroup counts.
SHM_FILLER = """
import os, time
with open(os.path.join({mount!r}, "fill"), "wb") as out:
    for _ in range({chunks}):
        out.write(b"x" * (8 * 2**20))
        out.flush()
        time.sleep({pause})
print("the filler finished", flush=True)
time.sleep({linger})
"""


@pytest.mark.parametrize(
    ("chunks", "pause", "linger"),
    [(100, 0.01, 30), (25, 0, 0)],
    ids=["while-it-runs", "a-quick-cell-that-ends-at-once"],
)
def test_files_in_an_in_memory_empty_dir_count_towards_the_memory_limit(
    tmp_path: Path, chunks: int, pause: float, linger: int
) -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("this machine has no /dev/shm")
    mount = tmp_path / "fast"
    run = submit(
        {
            "resources": {"mem": {"limits": "100Mi"}},
            "timeout": 120,
            "volumes": [
                {
                    "volume_type": "empty_dir",
                    "name": "fast",
                    "mount_path": str(mount),
                    "spec": {"medium": "Memory"},
                }
            ],
        },
        SHM_FILLER.format(mount=str(mount), chunks=chunks, pause=pause, linger=linger),
    )

    status = finished(run)

    assert status.phase is Phase.FAILED
    assert status.reason == (
        "the cell ran out of memory and was killed (its limit is 100Mi)"
    )
    assert "its processes and in-memory empty dirs used" in notes(run)
    assert "its files count towards the memory limit" in notes(run)
    if linger:
        assert "the filler finished" not in output(run)


def test_files_within_the_memory_limit_leave_the_cell_alone(tmp_path: Path) -> None:
    mount = tmp_path / "fast"
    run = submit(
        {
            "resources": {"mem": {"limits": "200Mi"}},
            "volumes": [
                {
                    "volume_type": "empty_dir",
                    "name": "fast",
                    "mount_path": str(mount),
                    "spec": {"medium": "Memory"},
                }
            ],
        },
        SHM_FILLER.format(mount=str(mount), chunks=4, pause=0, linger=0),
    )

    assert finished(run).phase is Phase.SUCCEEDED
    assert output(run) == "the filler finished"


def test_a_cell_within_its_memory_limit_is_left_alone() -> None:
    run = submit(
        {"resources": {"mem": {"limits": "300Mi"}}},
        "held = b'x' * (50 * 2**20); print('kept', len(held) // 2**20)",
    )

    status = finished(run)

    assert status.phase is Phase.SUCCEEDED
    assert output(run) == "kept 50"


def test_a_cell_past_its_timeout_is_stopped_as_deadline_exceeded() -> None:
    run = submit(
        {"timeout": 1},
        "import time\nprint('started', flush=True)\ntime.sleep(60)\nprint('late')",
    )

    status = finished(run)

    assert status.phase is Phase.FAILED
    # The words a Kubernetes Job past its activeDeadlineSeconds gets.
    assert status.reason == "it ran longer than its timeout of 1 s"
    assert status.hint == "Raise timeout, or make the cell finish sooner."
    assert output(run) == "started"


def test_cancel_stops_the_cell_and_its_children() -> None:
    run = submit(
        {"timeout": 120},
        """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print("child", child.pid, flush=True)
        time.sleep(60)
        """,
    )
    child_line = next(
        line for line in run.logs(follow=True) if line.startswith("child")
    )
    child_pid = int(child_line.split()[1])

    run.cancel()

    status = run.status
    assert status.phase is Phase.CANCELLED
    assert status.reason == "you cancelled it"
    assert not alive({"pid": child_pid})
    assert not alive(run.folder.state()["process"])
    assert "stopping the cell: you cancelled it." in notes(run)


def test_cancelling_a_finished_run_changes_nothing() -> None:
    run = submit({}, "print('done')")
    before = finished(run)

    run.cancel()

    assert run.status == before


@pytest.mark.parametrize(
    ("code", "exit_code", "reason", "hint"),
    [
        (
            "raise ValueError('boom')",
            1,
            "the cell exited with code 1",
            "The end of its logs shows the error.",
        ),
        (
            "import sys; sys.exit(3)",
            3,
            "the cell exited with code 3",
            "The end of its logs shows the error.",
        ),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
            139,
            "the cell was stopped by SIGSEGV (exit code 139)",
            "segmentation fault",
        ),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
            143,
            "the cell was stopped (exit code 143)",
            "It received SIGTERM from outside dh-jupyter.",
        ),
        (
            "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
            137,
            "the cell was killed (exit code 137)",
            "often the system's out-of-memory killer",
        ),
    ],
)
def test_a_failing_cell_is_reported_with_its_exit_code_and_a_hint(
    code: str, exit_code: int, reason: str, hint: str
) -> None:
    run = submit({}, code)

    status = finished(run)

    assert status.phase is Phase.FAILED
    assert status.exit_code == exit_code
    assert status.reason == reason
    assert hint in status.hint


def test_an_exception_leaves_its_traceback_in_the_logs() -> None:
    run = submit({}, "def f():\n    raise ValueError('boom')\nf()")

    finished(run)

    assert output(run).splitlines()[-1] == "ValueError: boom"
    assert "Traceback (most recent call last):" in output(run)


def test_sys_exit_zero_is_a_success() -> None:
    assert finished(submit({}, "import sys; sys.exit(0)")).phase is Phase.SUCCEEDED


def test_a_failed_attempt_is_retried_and_the_retry_is_marked(tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    run = submit(
        {"retries": 2},
        f"""
        from pathlib import Path
        counter = Path({str(counter)!r})
        seen = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(seen + 1))
        print("attempt", seen + 1)
        raise SystemExit(0 if seen else 4)
        """,
    )

    status = finished(run)

    assert status.phase is Phase.SUCCEEDED
    assert output(run).splitlines() == ["attempt 1", "attempt 2"]
    assert (
        "attempt 2 of 3 starts; attempt 1 ended: the cell exited with code 4."
        in notes(run)
    )


def test_a_run_whose_every_attempt_fails_says_how_its_last_attempt_ended() -> None:
    run = submit({"retries": 1}, "raise SystemExit(5)")

    status = finished(run)

    assert status.phase is Phase.FAILED
    # The words of a Job that failed more times than its backoffLimit allows.
    assert status.reason == "the cell exited with code 5 on attempt 2, its last"
    assert status.hint == "The end of its logs shows the error."
    assert status.exit_code == 5


def test_processes_the_cell_leaves_behind_are_stopped_when_it_ends() -> None:
    run = submit(
        {},
        """
        import subprocess, sys
        left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                start_new_session=True)
        print(left.pid)
        """,
    )

    finished(run)

    assert not alive({"pid": int(output(run))})


def test_output_is_streamed_while_the_cell_still_runs(tmp_path: Path) -> None:
    # The cell waits for a file the test only writes after it has read the
    # cell's first line, so that line can only have come while it ran.
    go = tmp_path / "go"
    run = submit(
        # The timeout only matters if the test fails before writing the file.
        {"timeout": 120},
        f"""
        import os, sys, time
        print("to stdout")
        print("to stderr", file=sys.stderr)
        while not os.path.exists({str(go)!r}):
            time.sleep(0.02)
        print("after")
        """,
    )
    lines = (line for line in run.logs(follow=True) if not line.startswith("[dh-"))
    seen = [next(lines), next(lines)]
    assert run.status.phase is Phase.RUNNING
    go.touch()

    seen.extend(lines)

    assert seen == ["to stdout", "to stderr", "after"]
    assert finished(run).phase is Phase.SUCCEEDED


def test_wait_reports_each_status_once_in_order() -> None:
    run = dh_jupyter.runs.submit({}, "import time; time.sleep(0.3)", backend="local")
    phases: list[Phase] = []

    run.wait(timeout=120, on_status=lambda status: phases.append(status.phase))

    assert phases[-1] is Phase.SUCCEEDED
    assert phases == sorted(set(phases), key=phases.index)
    assert set(phases) <= {Phase.PENDING, Phase.RUNNING, Phase.SUCCEEDED}


def test_a_run_uses_the_settings_of_the_shell(local_settings: DhJupyter) -> None:
    run = submit({}, "print('ok')")

    assert run.folder.path.parent == Path(local_settings.local_state_dir)
