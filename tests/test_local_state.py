"""Local runs are found again: listed, re-attached, settled when lost, expired.

A run's folder is all any process needs: a new backend object (a restarted
kernel), another Python process (the Jupyter server) or the same kernel
later must all see the same status and logs, and be able to cancel. A run
whose supervisor vanished must not read "running" forever.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.local import finished, output

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import ConflictError, NotFoundError
from dh_jupyter.runs import Phase
from dh_jupyter.runs.local import LocalBackend, LocalRun, state_dir
from dh_jupyter.runs.local_proc import alive, identity, tagged
from dh_jupyter.spec import RunSpec, SpecError


def wait_until_running(run: LocalRun) -> None:
    status = run.wait(timeout=0)
    end = time.monotonic() + 60
    while status.phase is not Phase.RUNNING and time.monotonic() < end:
        time.sleep(0.05)
        status = run.status
    assert status.phase is Phase.RUNNING, status.describe()


def test_runs_are_listed_newest_first_finished_ones_included(
    local_settings: DhJupyter,
) -> None:
    names = []
    for index in range(3):
        run = dh_jupyter.runs.submit({}, f"print({index})", backend="local")
        finished(run)
        names.append(run.name)

    listed = dh_jupyter.runs.runs(backend="local")

    assert [run.name for run in listed] == names[::-1]
    assert {run.status.phase for run in listed} == {Phase.SUCCEEDED}


def test_a_new_backend_reattaches_to_status_and_logs_of_a_running_run(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    started = dh_jupyter.runs.submit(
        {"timeout": 120},
        f"import os, time\nprint('before')\nwhile not os.path.exists({str(go)!r}):\n"
        "    time.sleep(0.02)\nprint('after')\n",
        backend="local",
    )
    assert isinstance(started, LocalRun)
    wait_until_running(started)

    # What a restarted kernel does: a fresh backend, the run found by name.
    again = LocalBackend(local_settings).get(started.name)
    lines = (line for line in again.logs(follow=True) if not line.startswith("["))
    assert next(lines) == "before"
    go.touch()

    assert list(lines) == ["after"]
    assert finished(again).phase is Phase.SUCCEEDED
    assert again.info == started.info


def test_the_record_says_who_when_and_what(local_settings: DhJupyter) -> None:
    run = dh_jupyter.runs.submit(
        {"resources": {"cpu": {"requests": "500m", "limits": "1"}}},
        "pass",
        backend="local",
    )
    finished(run)

    info = run.info
    assert info.backend == "local"
    assert info.namespace == ""
    assert info.created is not None
    assert info.created.tzinfo is not None
    assert info.resources == {"requests": {"cpu": "500m"}, "limits": {"cpu": "1"}}
    assert info.user


def test_the_status_file_is_plain_json_for_other_processes(
    local_settings: DhJupyter,
) -> None:
    run = dh_jupyter.runs.submit({}, "raise SystemExit(2)", backend="local")
    assert isinstance(run, LocalRun)
    finished(run)

    state = json.loads((run.folder.path / "status.json").read_text())

    assert state["phase"] == "failed"
    assert state["exit_code"] == 2
    assert state["reason"] == "the cell exited with code 2"
    assert {"started", "finished", "hint", "supervisor", "process"} <= set(state)


def test_another_process_lists_and_cancels_a_run(local_settings: DhJupyter) -> None:
    run = dh_jupyter.runs.submit(
        {"timeout": 120}, "import time; time.sleep(120)", backend="local"
    )
    assert isinstance(run, LocalRun)
    wait_until_running(run)
    # What the Jupyter server extension does, from its own process.
    script = (
        "import sys\n"
        "from dh_jupyter.config import DhJupyter\n"
        "from dh_jupyter.runs.local import LocalBackend\n"
        "backend = LocalBackend(DhJupyter(local_state_dir=sys.argv[1]))\n"
        "print([r.name for r in backend.runs()])\n"
        "backend.get(sys.argv[2]).cancel()\n"
    )

    listed = subprocess.run(
        [sys.executable, "-c", script, local_settings.local_state_dir, run.name],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert listed.stdout.strip() == repr([run.name])
    assert run.status.phase is Phase.CANCELLED


def test_a_run_lives_in_a_session_of_its_own_so_it_outlives_the_kernel(
    local_settings: DhJupyter,
) -> None:
    run = dh_jupyter.runs.submit(
        {"timeout": 120}, "import time; time.sleep(120)", backend="local"
    )
    assert isinstance(run, LocalRun)
    supervisor = run.folder.state()["supervisor"]["pid"]

    assert os.getsid(supervisor) == supervisor
    assert os.getsid(supervisor) != os.getsid(0)
    run.cancel()


def test_a_run_whose_supervisor_was_killed_is_reported_failed_and_stopped(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    local_settings.local_volumes = {"pvc:data": str(data)}
    mount = tmp_path / "mnt"
    run = dh_jupyter.runs.submit(
        {
            "timeout": 120,
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "d",
                    "mount_path": str(mount),
                    "spec": {"claim_name": "data"},
                }
            ],
        },
        "import time; time.sleep(120)",
        backend="local",
    )
    assert isinstance(run, LocalRun)
    wait_until_running(run)
    state = run.folder.state()

    os.kill(state["supervisor"]["pid"], signal.SIGKILL)
    status = LocalBackend(local_settings).get(run.name).wait(timeout=60)

    assert status.phase is Phase.FAILED
    assert status.reason == (
        f"the process that ran it on this machine (pid {state['supervisor']['pid']}) "
        "ended without recording how the cell ended"
    )
    assert "supervisor.log may say more" in status.hint
    assert not alive(state["process"])
    assert not mount.exists()


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="PR_SET_PDEATHSIG and /proc/<pid>/environ are Linux's",
)


def wait_until_gone(process: dict[str, object], seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while alive(process) and time.monotonic() < end:
        time.sleep(0.05)
    return not alive(process)


@linux_only
def test_the_cell_dies_with_its_supervisor_before_anyone_looks(
    local_settings: DhJupyter,
) -> None:
    run = dh_jupyter.runs.submit(
        {"timeout": 120}, "import time; time.sleep(120)", backend="local"
    )
    assert isinstance(run, LocalRun)
    wait_until_running(run)
    state = run.folder.state()

    os.kill(state["supervisor"]["pid"], signal.SIGKILL)

    # Nothing reads the run's status here, so nothing settles it: the cell
    # ends only because its supervisor did.
    assert wait_until_gone(state["process"])
    assert not run.folder.status().phase.finished


@linux_only
def test_processes_the_cell_moved_to_a_session_of_their_own_are_stopped_when_lost(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    marker = tmp_path / "grandchild"
    run = dh_jupyter.runs.submit(
        {"timeout": 120},
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(\n"
        "    [sys.executable, '-c', 'import time; time.sleep(120)'],\n"
        "    start_new_session=True,\n"
        ")\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(120)\n",
        backend="local",
    )
    assert isinstance(run, LocalRun)
    end = time.monotonic() + 60
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < end, "the cell did not start its child"
        time.sleep(0.05)
    grandchild = identity(int(marker.read_text()))
    state = run.folder.state()

    try:
        os.kill(state["supervisor"]["pid"], signal.SIGKILL)
        status = LocalBackend(local_settings).get(run.name).wait(timeout=60)

        assert status.phase is Phase.FAILED
        assert wait_until_gone(grandchild, seconds=5)
        assert tagged(run.name) == []
    finally:
        if alive(grandchild):
            os.kill(grandchild["pid"], signal.SIGKILL)


def test_a_finished_run_is_removed_once_its_ttl_has_passed(
    local_settings: DhJupyter,
) -> None:
    expiring = dh_jupyter.runs.submit({"ttl": 0}, "pass", backend="local")
    kept = dh_jupyter.runs.submit({"ttl": 3600}, "pass", backend="local")
    finished(expiring)
    finished(kept)
    time.sleep(0.01)

    listed = [run.name for run in dh_jupyter.runs.runs(backend="local")]

    assert listed == [kept.name]
    assert not (Path(local_settings.local_state_dir) / expiring.name).exists()


def test_a_handle_to_a_removed_run_says_it_is_gone(local_settings: DhJupyter) -> None:
    run = dh_jupyter.runs.submit({"ttl": 0}, "pass", backend="local")
    finished(run)
    time.sleep(0.01)
    dh_jupyter.runs.runs(backend="local")

    with pytest.raises(NotFoundError) as caught:
        run.status  # noqa: B018

    assert str(caught.value) == (
        f'The local run "{run.name}" is gone: its ttl passed, or its folder in '
        f"{local_settings.local_state_dir} was deleted."
    )


def test_the_configured_ttl_applies_when_the_spec_sets_none(
    local_settings: DhJupyter,
) -> None:
    local_settings.ttl = 0
    run = dh_jupyter.runs.submit({}, "pass", backend="local")
    finished(run)
    time.sleep(0.01)

    assert dh_jupyter.runs.runs(backend="local") == []


def test_only_the_current_users_runs_are_listed(
    local_settings: DhJupyter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "someone-else")
    theirs = dh_jupyter.runs.submit({}, "pass", backend="local")
    finished(theirs)
    monkeypatch.setenv("JUPYTERHUB_USER", "me")
    mine = dh_jupyter.runs.submit({}, "pass", backend="local")
    finished(mine)

    assert [run.name for run in dh_jupyter.runs.runs(backend="local")] == [mine.name]


def test_get_names_the_run_it_cannot_find(local_settings: DhJupyter) -> None:
    with pytest.raises(NotFoundError) as caught:
        dh_jupyter.runs.get_run("dhrun-nothing-xxxxx", backend="local")

    assert str(caught.value) == (
        'No local run is called "dhrun-nothing-xxxxx" (in '
        f"{local_settings.local_state_dir}); %dhjobs lists the runs there."
    )


def test_a_name_already_taken_is_refused(local_settings: DhJupyter) -> None:
    first = dh_jupyter.runs.submit({}, "pass", backend="local", job_name="my-run")
    finished(first)

    with pytest.raises(ConflictError) as caught:
        dh_jupyter.runs.submit({}, "pass", backend="local", job_name="my-run")

    assert str(caught.value) == (
        'A local run called "my-run" already exists; choose another name, or '
        "leave the name out to get a fresh one."
    )
    assert output(first) == ""


def test_a_bad_name_is_refused_with_the_name_rule(local_settings: DhJupyter) -> None:
    with pytest.raises(SpecError) as caught:
        dh_jupyter.runs.submit({}, "pass", backend="local", job_name="My Run")

    assert caught.value.field == "job_name"
    assert caught.value.problem.startswith('"My Run" is not a valid name;')


def test_a_readable_name_becomes_the_middle_of_a_fresh_name(
    local_settings: DhJupyter,
) -> None:
    run = dh_jupyter.runs.submit({}, "pass", backend="local", name="Train ResNet")
    finished(run)

    assert re.fullmatch(r"dhrun-train-resnet-[a-z0-9]{5}", run.name)


def test_the_state_folder_defaults_to_jupyters_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))

    assert state_dir(DhJupyter()) == tmp_path / "data" / "dh-jupyter" / "runs"
    assert state_dir(DhJupyter(local_state_dir="~/runs")) == Path.home() / "runs"


def test_a_large_cell_runs_whole(local_settings: DhJupyter) -> None:
    # 600 KiB of source, more than a ConfigMap could carry to a cluster.
    line = "    '" + "x" * 120 + "',\n"
    code = "values = [\n" + line * 5000 + "]\nprint(len(values))\n"
    assert len(code) > 600 * 1024
    run = LocalBackend(local_settings).submit(RunSpec(), code)

    finished(run)

    assert output(run) == "5000"
