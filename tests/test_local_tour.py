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


def text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_local_tour_runs_end_to_end_with_jupyter_execute(tmp_path: Path) -> None:
    executed = tmp_path / "local-tour.ipynb"
    env = {
        **os.environ,
        # A fresh machine: no cluster, and no runs from earlier executions.
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
    }
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
    _, greet, caught, _, mounted, jobs, logs = cells
    assert "hello from 1 core\n" in text(greet)
    assert "so 500m was rounded up to 1." in text(greet)
    assert "succeeded in" in text(greet)
    failed, reason, hint = text(caught).splitlines()
    assert failed == "failed"
    assert reason == "the cell ran out of memory and was killed (its limit is 128Mi)"
    assert hint == 'Ask for more memory: set resources.mem.limits to "256Mi" or more.'
    assert "sum: 10\ntoken is set: True\n" in text(mounted)
    assert "not-a-real-token" not in text(mounted)
    rows = text(jobs).splitlines()
    assert [row.split()[1] for row in rows[1:]] == ["succeeded", "failed", "succeeded"]
    assert "more than the memory limit of 128Mi." in text(logs)
