"""Whole notebooks using the magics, executed in real kernels with nbclient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def execute(path: Path, cwd: Path) -> Any:
    """Run every cell of ``path`` in a fresh kernel; return the notebook."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return notebook


def texts(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_tour_of_the_magic_runs_unchanged_in_a_real_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel inherits this process's environment: keep its runs private.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))

    notebook = execute(NOTEBOOKS / "dhrun-tour.ipynb", tmp_path)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    dry_run, greet, broken, detach, wait, jobs, logs, cancel = code[1:]
    assert "kind: Job" in texts(dry_run)
    assert "# The local backend runs this cell on this machine" in texts(dry_run)
    assert "hello world step 2" in texts(greet)
    assert "[dhrun-greet-the-world-" in texts(greet)
    assert "succeeded in" in texts(greet)
    assert [o.ename for o in broken.outputs if o.output_type == "error"] == [
        "RunFailedError"
    ]
    assert "the cell exited with code 3" in texts(broken)
    assert "Submitted dhrun-later-" in texts(detach)
    assert texts(wait).startswith("succeeded in")
    assert texts(jobs).splitlines()[0].split() == ["NAME", "STATUS", "RESOURCES", "AGE"]
    assert len(texts(jobs).splitlines()) == 4
    assert "499999500000" in texts(logs)
    assert texts(cancel).endswith(": already succeeded; nothing to cancel.\n")
