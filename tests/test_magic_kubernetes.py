"""``%%dhrun`` against a Kubernetes API: the real client over HTTP to kmock.

The fake kubelet of ``fixtures.kube`` runs each Job's cell for real and
serves its output as the pod's logs, so these tests see what a user sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbclient
import nbformat
import pytest
from fixtures.kube import Kube
from fixtures.kube_kubelet import Kubelet
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_code_cell, new_notebook

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import RunFailedError


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

    shell.run_line_magic("dhcancel", name)
    assert capsys.readouterr().out == f"Cancelled {name}.\n"
    assert kube.get("jobs", name) is None


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
