"""The local tour runs end to end with the command the README gives.

``notebooks/local-tour.ipynb`` is the README's "run the main job on a fresh
machine" example, so it is executed here exactly as a user (and CI) runs it,
with ``jupyter execute``, and each cell's output is checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

TOUR = Path(__file__).parent.parent / "notebooks" / "local-tour.ipynb"
# A run another notebook left in the default state folder.
OTHER_RUN = """
import os
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs.local import LocalBackend
from dh_jupyter.spec import RunSpec

config = DhJupyter(local_state_dir=os.environ["DH_TEST_RUNS"])
LocalBackend(config).submit(RunSpec.from_dict({}), "pass").wait(timeout=60)
"""


def text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_local_tour_runs_end_to_end_with_jupyter_execute(tmp_path: Path) -> None:
    executed = tmp_path / "local-tour.ipynb"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # Runs of other notebooks, in Jupyter's data folder: the tour must not list them.
    data = tmp_path / "data"
    other = data / "dh-jupyter" / "runs"
    env = {
        **os.environ,
        # A fresh machine: no cluster; the tour's folder made where we look.
        "JUPYTER_DATA_DIR": str(data),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "TMPDIR": str(scratch),
    }
    subprocess.run(
        [sys.executable, "-c", OTHER_RUN],
        env={**env, "DH_TEST_RUNS": str(other)},
        check=True,
        timeout=120,
    )
    jupyter = Path(sys.executable).with_name("jupyter")

    subprocess.run(
        [str(jupyter), "execute", f"--output={executed}", str(TOUR)],
        cwd=TOUR.parent.parent,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )

    cells = [
        c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"
    ]
    _, greet, caught, _, mounted, jobs, logs, cleanup = cells
    assert "hello from 1 core\n" in text(greet)
    assert "so 500m was rounded up to 1." in text(greet)
    # The end is said after the cell's output.
    assert text(greet).index("hello from 1 core") < text(greet).index("succeeded in")
    failed, reason, hint = text(caught).splitlines()
    assert failed == "failed"
    assert reason == "the cell ran out of memory and was killed (its limit is 128Mi)"
    assert hint == 'Ask for more memory: set resources.mem.limits to "256Mi" or more.'
    assert "sum: 10\ntoken is set: True\n" in text(mounted)
    assert text(mounted).index("sum: 10") < text(mounted).index("succeeded in")
    assert "not-a-real-token" not in text(mounted)
    rows = text(jobs).splitlines()
    # Only the tour's own runs, not the one already in Jupyter's data folder.
    assert [row.split()[1] for row in rows[1:]] == ["succeeded", "failed", "succeeded"]
    assert len(list(other.iterdir())) > 0
    assert "more than the memory limit of 128Mi." in text(logs)
    assert text(cleanup) == "Removed the tour's folder: True\n"
    assert list(scratch.glob("dh-tour-*")) == []
