"""The picker walk-through notebook runs from top to bottom in a real kernel.

``notebooks/picker.ipynb`` is documentation users run; executing it here
(headless, with the local backend it configures itself) keeps it true.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "picker.ipynb"


def _text(cell: Any) -> str:
    """Everything a code cell printed or returned, as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Kernels that import this checkout and keep local runs under tmp_path."""
    # The local backend keeps its runs in Jupyter's data folder.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return tmp_path


def test_the_picker_walk_through_runs_top_to_bottom(kernel_env: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(kernel_env)}},
    ).execute()

    texts = [_text(cell) for cell in notebook.cells if cell.cell_type == "code"]
    everything = "\n".join(texts)
    shown = next(c for c in notebook.cells if "picker = ResourcePicker" in c.source)
    assert "application/vnd.jupyter.widget-view+json" in str(shown.outputs)
    assert "'env': [{'name': 'GREETING', 'value': 'a picked spec'}]" in everything
    assert 'did you mean "64G" or "64Gi"?' in everything
    assert "Fix 1 problem to submit" in everything
    assert "nvidia.com/gpu" in everything
    assert "running with" in everything
    assert texts[-1].startswith("succeeded in")
    assert "hello from the picker" in texts[-1]


def test_dhrun_updates_the_monitor_widget_while_the_cell_runs(
    kernel_env: Path,
) -> None:
    notebook = new_notebook(
        cells=[
            new_code_cell(
                "%load_ext dh_jupyter\n"
                '%config DhJupyter.backend = "local"\n'
                '%config DhJupyter.monitor = "widget"'
            ),
            new_code_cell("%%dhrun\nprint('followed in a widget')"),
        ]
    )

    nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(kernel_env)}},
    ).execute()

    # nbclient keeps the last state of every widget the kernel updated.
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"][
        "state"
    ]
    html = [
        model["state"].get("value", "")
        for model in states.values()
        if model["model_name"] == "HTMLModel"
    ]
    assert any("succeeded in" in text for text in html)
    assert any("followed in a widget" in text for text in html)
