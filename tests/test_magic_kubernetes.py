"""``%%dhrun`` against a Kubernetes API: the real client over HTTP to kmock.

The fake kubelet of ``fixtures.kube`` runs each Job's cell for real and
serves its output as the pod's logs, so these tests see what a user sees.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest
import yaml
from fixtures.kube import NOTEBOOK_IMAGE, Kube
from fixtures.kube_kubelet import Kubelet
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_code_cell, new_notebook

from dh_jupyter.cluster import connect
from dh_jupyter.cluster.client import Cluster
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import RunCancelledError, RunFailedError
from dh_jupyter.runs import kubernetes
from dh_jupyter.runs.base import Run
from dh_jupyter.runs.status import Phase


@pytest.fixture
def on_cluster(dh_settings: DhJupyter, kube: Kube) -> DhJupyter:
    """The shell's settings pointed at the emulator."""
    dh_settings.backend = "kubernetes"
    return dh_settings


def test_a_cell_runs_as_a_job_and_streams_its_logs(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    kubelet: Kubelet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic(
        "dhrun",
        "--cpu 500m:1 --env WHO=cluster --name hello",
        "import os\nprint('hello from', os.environ['WHO'])\n",
    )

    out = capsys.readouterr().out
    assert "hello from cluster" in out
    assert re.search(r"^\[dhrun-hello-\w{5}\] succeeded in ", out, re.M)
    [job] = kube.items("jobs")
    assert job["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "500m"},
        "limits": {"cpu": "1"},
    }
    assert kube.created("jobs", job["metadata"]["name"]) == 1
    assert kube.token not in out


def test_a_failing_job_fails_the_cell(
    shell: InteractiveShell, on_cluster: DhJupyter, kube: Kube, kubelet: Kubelet
) -> None:
    with pytest.raises(RunFailedError, match=r"the cell exited with code 4"):
        shell.run_cell_magic("dhrun", "--name broken", "raise SystemExit(4)\n")


def test_line_magics_find_the_jobs_again(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    kubelet: Kubelet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic("dhrun", "--mem 1Gi --name listed", "print('listed')\n")
    capsys.readouterr()

    shell.run_line_magic("dhjobs", "")
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "RESOURCES", "AGE"]
    assert re.match(r"dhrun-listed-\w{5} +succeeded in .* mem 1Gi ", rows[1])

    name = rows[1].split()[0]
    shell.run_line_magic("dhlogs", name)
    assert "listed" in capsys.readouterr().out.splitlines()

    # It has finished: cancelling it would only delete its Job and logs.
    shell.run_line_magic("dhcancel", name)
    assert capsys.readouterr().out == f"{name}: already succeeded; nothing to cancel.\n"
    assert kube.get("jobs", name) is not None
    assert kube.calls("delete", "jobs") == []


def test_a_notebook_in_a_real_kernel_runs_cells_on_the_cluster(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    notebook = new_notebook(
        cells=[
            new_code_cell(
                '%load_ext dh_jupyter\n%config DhJupyter.backend = "kubernetes"'
            ),
            new_code_cell("%%dhrun --gpu 1 --name in-kernel\nprint(21 * 2)"),
            new_code_cell("%dhjobs"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )

    # The kernel inherits KUBECONFIG, so it reaches the same emulator.
    nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    run_cell, jobs_cell = notebook.cells[1], notebook.cells[2]
    out = "".join(o.get("text", "") for o in run_cell.outputs)
    assert "42" in out.splitlines()
    assert "succeeded in" in out
    listing = "".join(o.get("text", "") for o in jobs_cell.outputs)
    assert "gpu 1" in listing
    assert kube.token not in nbformat.writes(notebook)


def printed_job(out: str) -> dict[str, Any]:
    """The Job of what ``--dry-run`` printed."""
    _, job = yaml.safe_load_all(out)
    return dict(job)


@pytest.mark.usefixtures("in_a_pod")
def test_dry_run_shows_the_image_and_namespace_a_submit_uses(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    kubelet: Kubelet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell_magic("dhrun", "--name same --dry-run", "print(1)\n")
    shown = printed_job(capsys.readouterr().out)
    assert kube.items("jobs") == []

    shell.run_cell_magic("dhrun", "--name same", "print(1)\n")
    [made] = kube.items("jobs")

    for job in (shown, made):
        assert job["metadata"]["namespace"] == "dh-test"
        assert job["spec"]["template"]["spec"]["containers"][0]["image"] == (
            NOTEBOOK_IMAGE
        )


def test_dry_run_without_a_cluster_says_the_image_is_resolved_at_submit(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))

    shell.run_cell_magic("dhrun", "--dry-run", "print(1)\n")

    out = capsys.readouterr().out
    comment = " ".join(line[2:] for line in out.splitlines() if line.startswith("# "))
    assert comment.startswith(
        "The cluster could not be reached (No Kubernetes credentials were found"
    )
    assert comment.endswith("the image and namespace will be resolved at submit.")
    assert "namespace" not in printed_job(out)["metadata"]


def interrupt_when(ready: Callable[[], bool], timeout: float = 60) -> None:
    """Press the stop button (SIGINT to this process) once ``ready()`` is true."""

    def watch() -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                # Let the magic get from submitting to following.
                time.sleep(0.5)
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def a_pod_runs(kube: Kube) -> Callable[[], bool]:
    def ready() -> bool:
        pods = kube.items("pods")
        return any(p.get("status", {}).get("phase") == "Running" for p in pods)

    return ready


SLOW_CELL = "import time\nprint('started', flush=True)\ntime.sleep(60)\n"


def test_the_stop_button_deletes_the_job_and_says_so(
    shell: InteractiveShell, on_cluster: DhJupyter, kube: Kube, kubelet: Kubelet
) -> None:
    interrupt_when(a_pod_runs(kube))

    with pytest.raises(RunCancelledError) as caught:
        shell.run_cell_magic("dhrun", "--name stopped", SLOW_CELL)

    found = re.match(
        r"Cancelled (dhrun-stopped-\w{5}) because the cell was interrupted",
        str(caught.value),
    )
    assert found
    assert kube.get("jobs", found.group(1)) is None
    assert kube.get("configmaps", found.group(1)) is None


def test_the_stop_button_detaches_from_the_job_when_interrupt_does_not_cancel(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    kubelet: Kubelet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    on_cluster.interrupt_cancels = False
    interrupt_when(a_pod_runs(kube))

    result = shell.run_cell(f"%%dhrun --name left\n{SLOW_CELL}")

    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    [job] = kube.items("jobs")
    name = job["metadata"]["name"]
    assert f"it goes on. Follow it again with %dhlogs {name} --follow" in (
        capsys.readouterr().out
    )
    assert not job.get("status", {}).get("conditions")
    assert kube.calls("delete", "jobs") == []

    shell.run_line_magic("dhcancel", name)
    assert capsys.readouterr().out == f"Cancelled {name}.\n"
    assert kube.get("jobs", name) is None


def test_detach_leaves_the_job_running_and_returns_its_run(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    kubelet: Kubelet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shell.run_cell("%%dhrun --detach --out job --name away\nprint(6 * 7)\n")

    run = shell.user_ns["_"]
    assert shell.user_ns.pop("job") is run
    assert isinstance(run, Run)
    assert capsys.readouterr().out.startswith(
        f"Submitted {run.name}; it goes on while you work."
    )
    assert run.wait(timeout=60).phase is Phase.SUCCEEDED
    assert "42" in list(run.logs())
    assert kube.get("jobs", run.name) is not None


def test_an_interrupt_between_creating_the_job_and_following_it_deletes_it(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(self: Cluster, *args: Any, **kwargs: Any) -> Any:
        # The stop button, pressed while the Job is made its ConfigMap's owner.
        raise KeyboardInterrupt

    monkeypatch.setattr(Cluster, "patch", interrupted)

    with pytest.raises(
        RunCancelledError,
        match=r"^Cancelled (dhrun-owner-\w{5}) because the cell was interrupted "
        r"while it was being submitted\.$",
    ) as caught:
        shell.run_cell_magic("dhrun", "--name owner", "print(1)\n")

    name = str(caught.value).split()[1]
    assert kube.created("jobs", name) == 1
    assert kube.get("jobs", name) is None
    assert kube.get("configmaps", name) is None


def test_an_interrupt_while_connecting_says_nothing_was_submitted(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    presses = [KeyboardInterrupt()]

    def interrupted(config: DhJupyter) -> connect.Connection:
        # The stop button, pressed once while the kubernetes client loads.
        if presses:
            raise presses.pop()
        return connect.connect(config)

    monkeypatch.setattr(kubernetes, "connect", interrupted)

    result = shell.run_cell("%%dhrun --name early\nprint(1)\n")

    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert re.search(
        r"^The cell was interrupted before dhrun-early-\w{5} was submitted; "
        r"nothing runs\.$",
        capsys.readouterr().out,
        re.M,
    )
    assert kube.items("jobs") == []
    assert kube.items("configmaps") == []
