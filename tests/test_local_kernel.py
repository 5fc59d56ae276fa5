"""The local backend from real kernels: the Python API, ``%%dhrun``, restarts.

Each test writes a small notebook, runs it in a fresh ``python3`` kernel with
nbclient, and reads the cells' outputs, as CI reads a user's notebook. The
kernel inherits this process's environment, so ``JUPYTER_DATA_DIR`` points
its local runs at the test's own folder and ``KUBECONFIG`` at a file that
does not exist, so "auto" means this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

from dh_jupyter.config import DhJupyter
from dh_jupyter.runs import Phase
from dh_jupyter.runs.local import LocalBackend, LocalRun, state_dir
from dh_jupyter.runs.local_proc import alive

RAISES = ["raises-exception"]
HOG = (
    "import time\n"
    "held = []\n"
    "for _ in range(75):\n"
    "    held.append(b'x' * (8 * 2**20))\n"
    "    time.sleep(0.005)\n"
    "print('the hog finished')\n"
)


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private Jupyter data folder and no cluster, for the kernels started here."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield tmp_path
    # No cell may outlive its test, whatever the test did.
    for run in LocalBackend(DhJupyter()).runs():
        if not run.status.phase.finished:
            run.cancel()


def notebook(*cells: str | tuple[str, list[str]]) -> Any:
    made = nbformat.v4.new_notebook()
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        made.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
    return made


def execute(made: Any, cwd: Path, **options: Any) -> list[Any]:
    """Run ``made`` in a fresh kernel (shut down after); its code cells."""
    client = nbclient.NotebookClient(
        made,
        kernel_name="python3",
        timeout=options.pop("timeout", 180),
        resources={"metadata": {"path": str(cwd)}},
        **options,
    )
    client.execute()
    return list(made.cells)


def text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def error(cell: Any) -> tuple[str, str]:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0].ename, errors[0].evalue


def test_the_python_api_runs_local_cells_in_a_real_kernel(kernel_env: Path) -> None:
    def submit(spec: str, code: str) -> str:
        return (
            f"run = dh_jupyter.runs.submit({spec}, {code!r}, backend='local')\n"
            "status = run.wait()\n"
            "print(status.phase.value, '|', status.reason)\n"
            "print('\\n'.join(l for l in run.logs() if not l.startswith('[dh-')))"
        )

    cells = execute(
        notebook(
            "import dh_jupyter.runs",
            submit(
                "{'env': [{'name': 'MODE', 'value': 'fast'}]}",
                "import os; print(os.environ['MODE'])",
            ),
            submit(
                "{'resources': {'cpu': {'limits': '1'}}}",
                "import os; print(len(os.sched_getaffinity(0)))",
            ),
            submit("{'resources': {'mem': {'limits': '100Mi'}}}", HOG),
            submit("{'timeout': 1}", "import time; time.sleep(60)"),
            submit("{}", "raise SystemExit(3)"),
            "print([r.status.phase.value for r in dh_jupyter.runs.runs('local')])",
        ),
        kernel_env,
    )

    env, cpu, hog, timeout, exit_code, listing = cells[1:]
    assert text(env) == "succeeded | \nfast\n"
    assert text(cpu) == "succeeded | \n1\n"
    assert text(hog).startswith(
        "failed | the cell ran out of memory and was killed (its limit is 100Mi)"
    )
    assert "the hog finished" not in text(hog)
    assert text(timeout) == ("failed | it ran longer than its timeout of 1 s\n\n")
    assert text(exit_code) == "failed | the cell exited with code 3\n\n"
    assert text(listing) == (
        "['failed', 'failed', 'failed', 'succeeded', 'succeeded']\n"
    )


def test_dhrun_runs_cells_locally_with_every_honoured_field(kernel_env: Path) -> None:
    data = kernel_env / "datasets"
    data.mkdir()
    (data / "hello.txt").write_text("hello from the claim")
    secret = kernel_env / "api.env"
    secret.write_text("API_TOKEN=never-printed\n")
    mount = kernel_env / "mnt" / "data"
    scratch = kernel_env / "scratch"

    cells = execute(
        notebook(
            "%load_ext dh_jupyter\n"
            '%config DhJupyter.monitor = "text"\n'
            f'%config DhJupyter.local_volumes = {{"pvc:datasets": "{data}"}}\n'
            f'%config DhJupyter.local_secrets = {{"api": "{secret}"}}',
            "%%dhrun --env MODE=fast --cpu :1\n"
            "import os\n"
            "print(os.environ['MODE'], len(os.sched_getaffinity(0)))",
            "%%dhrun --backend local\nprint('second')",
            (f"%%dhrun --backend local --mem :100Mi\n{HOG}", RAISES),
            (
                "%%dhrun --backend local --timeout 1\nimport time; time.sleep(60)",
                RAISES,
            ),
            ("%%dhrun --backend local\nraise SystemExit(3)", RAISES),
            f"%%dhrun --backend local --volume pvc:datasets:{mount} --secret api\n"
            "import os\n"
            f"print(open('{mount}/hello.txt').read())\n"
            "print(os.environ['API_TOKEN'] == 'never-printed')",
            ("%%dhrun --backend local --gpu 1\nprint('never')", RAISES),
            (
                "%%dhrun --backend local --toleration gpu:NoSchedule --queue team-a\n"
                "print('ran anyway')"
            ),
            (
                f"%%dhrun --backend local --volume pvc:datasets:{mount}:ro\n"
                "print('never')",
                RAISES,
            ),
            (
                f"%%dhrun --backend local --volume emptydir:{scratch}:10Mi\n"
                f"open('{scratch}/big', 'wb').write(b'x' * 30 * 2**20)",
                RAISES,
            ),
        ),
        kernel_env,
    )

    first, second, hog, timeout, broken, mounted, gpu, ignored = cells[1:9]
    read_only, evicted = cells[9:]
    assert text(first).startswith(
        "No Kubernetes cluster is configured (no service account, no kubeconfig), "
        "so cells run on this machine with the local backend.\n"
    )
    assert "[dh-jupyter] cpu limit 1: pinned to 1 core" in text(first)
    assert "\nfast 1\n" in text(first)
    # The end is said after the cell's last output, not before it.
    assert text(first).index("\nfast 1\n") < text(first).index("succeeded in")
    assert text(second).index("second\n") < text(second).index("succeeded in")
    assert "No Kubernetes cluster" not in text(second)

    assert error(hog)[0] == "RunFailedError"
    assert (
        "the cell ran out of memory and was killed (its limit is 100Mi)"
        in (error(hog)[1])
    )
    assert "the hog finished" not in text(hog)
    assert error(timeout)[0] == "RunFailedError"
    assert "it ran longer than its timeout of 1 s" in error(timeout)[1]
    assert error(broken)[0] == "RunFailedError"
    assert "the cell exited with code 3" in error(broken)[1]

    assert "hello from the claim\nTrue\n" in text(mounted)
    assert "never-printed" not in text(mounted)
    assert not mount.exists()

    # IPython shows a UsageError as one line on stderr, without a traceback.
    assert text(gpu) == (
        'UsageError: resources.gpu.limits: "1" GPU asked for, but this machine has '
        "no GPU that dh-jupyter can find (it looks for NVIDIA GPUs); drop the GPU "
        "request or run it on a cluster (--backend kubernetes).\n"
    )
    assert (
        "[dh-jupyter] ignored here: tolerations, queue; they choose or order the "
        "cluster's nodes, and this machine is the only one."
    ) in text(ignored)
    assert "ran anyway" in text(ignored)

    assert text(read_only) == (
        "UsageError: volumes[0].spec.read_only: true cannot be honoured here: the "
        f"local backend shows {data} through a link and cannot make it read-only "
        'for the cell, so the cell could change your files; remove read_only (":ro")'
        " to let it write there, or run it on a cluster (--backend kubernetes).\n"
    )
    assert error(evicted)[0] == "RunFailedError"
    assert "failed in" in error(evicted)[1]
    assert ": it was evicted: usage of the empty_dir volume " in error(evicted)[1]
    assert (
        'exceeds its size_limit "10Mi". Give it more room: set ' in (error(evicted)[1])
    )


def test_dhjobs_dhlogs_and_dhcancel_work_on_local_runs(kernel_env: Path) -> None:
    cells = execute(
        notebook(
            '%load_ext dh_jupyter\n%config DhJupyter.backend = "local"',
            "%%dhrun --detach --out done\nprint('finished output')",
            "print(done.wait().phase.value)",
            "%%dhrun --detach --out going --timeout 120\n"
            "import time\nprint('working', flush=True)\ntime.sleep(120)",
            "import time\n"
            "while going.status.phase.value != 'running':\n"
            "    time.sleep(0.05)",
            "%dhjobs",
            "%dhlogs {done.name}",
            "%dhcancel {going.name}",
            "print(going.status.describe())",
        ),
        kernel_env,
    )

    _, done, _, _, jobs, logs, cancel, after = cells[1:]
    assert text(done) == "succeeded\n"
    rows = text(jobs).splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "RESOURCES", "AGE"]
    assert rows[1].split()[1] == "running"
    assert rows[2].split()[1] == "succeeded"
    assert len(rows) == 3
    assert "finished output" in text(logs)
    assert text(cancel).startswith("Cancelled dhrun-")
    assert text(after).startswith("cancelled in ")


def test_the_stop_button_cancels_a_local_run(kernel_env: Path) -> None:
    cells = execute(
        notebook(
            '%load_ext dh_jupyter\n%config DhJupyter.monitor = "text"',
            (
                "%%dhrun --backend local --timeout 120\n"
                "import time\nprint('started', flush=True)\ntime.sleep(120)",
                RAISES,
            ),
        ),
        kernel_env,
        # nbclient interrupts the kernel when a cell passes this timeout,
        # exactly as the notebook's stop button does.
        timeout=15,
        interrupt_on_timeout=True,
    )

    assert error(cells[1])[0] == "RunCancelledError"
    assert "because the cell was interrupted" in error(cells[1])[1]
    (run,) = LocalBackend(DhJupyter()).runs()
    assert isinstance(run, LocalRun)
    assert run.status.phase is Phase.CANCELLED
    assert not alive(run.folder.state()["process"])


def test_a_run_outlives_its_kernel_and_a_new_kernel_follows_it(
    kernel_env: Path,
) -> None:
    go = kernel_env / "go"
    first = execute(
        notebook(
            '%load_ext dh_jupyter\n%config DhJupyter.backend = "local"',
            "%%dhrun --detach --out run --timeout 120\n"
            "import os, time\n"
            "print('before the restart', flush=True)\n"
            f"while not os.path.exists('{go}'):\n"
            "    time.sleep(0.02)\n"
            "print('after the restart')",
            "print(run.name)",
        ),
        kernel_env,
    )
    name = text(first[2]).strip()

    # The first kernel has shut down; the run has not.
    run = LocalBackend(DhJupyter()).get(name)
    assert not run.status.phase.finished
    assert alive(run.folder.state()["supervisor"])
    go.touch()

    second = execute(
        notebook(
            '%load_ext dh_jupyter\n%config DhJupyter.backend = "local"',
            f"%dhlogs {name} --follow",
            "import dh_jupyter.runs\n"
            f"print(dh_jupyter.runs.get_run('{name}').status.phase.value)",
        ),
        kernel_env,
    )

    assert "before the restart\nafter the restart\n" in text(second[1])
    assert text(second[2]) == "succeeded\n"


def test_the_runs_a_kernel_made_are_where_the_server_looks(kernel_env: Path) -> None:
    execute(
        notebook(
            "import dh_jupyter.runs\n"
            "dh_jupyter.runs.submit({}, 'pass', backend='local').wait()"
        ),
        kernel_env,
    )
    # The server extension builds its backend from the same settings.
    listed = LocalBackend(DhJupyter()).runs()

    (run,) = listed
    assert isinstance(run, LocalRun)
    assert run.status.phase is Phase.SUCCEEDED
    assert run.folder.path.parent == state_dir(DhJupyter())
