"""``%%dhrun`` runs cells like local cells: blocking, streaming, failing, cancelling.

Driven through a real IPython shell with the local backend, whose runs are
real processes; the same magics against a cluster are in
``test_magic_kubernetes.py``, and whole notebooks in real kernels in
``test_magic_notebooks.py``.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import NotFoundError, RunCancelledError, RunFailedError
from dh_jupyter.magics.dhrun import DhRunMagics
from dh_jupyter.runs.base import Run
from dh_jupyter.runs.local import LocalBackend
from dh_jupyter.runs.status import Phase

pytestmark = pytest.mark.usefixtures("local_settings")


def test_a_blocking_run_shows_its_status_and_logs_and_succeeds(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic(
        "dhrun",
        "--env GREETING=hello --name greet",
        "import os\nfor i in range(3):\n    print(os.environ['GREETING'], i)\n",
    )

    out = capsys.readouterr().out
    assert "hello 0\nhello 1\nhello 2\n" in out
    assert re.search(r"^\[dhrun-greet-\w{5}\] succeeded in [\d.]+ s$", out, re.M)


def test_a_failed_run_fails_the_cell_with_the_reason(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RunFailedError) as caught:
        shell.run_cell_magic("dhrun", "--name broken", "raise SystemExit(3)\n")

    assert re.match(
        r"dhrun-broken-\w{5} failed in [\d.]+ s: the cell exited with code 3",
        str(caught.value),
    )
    assert caught.value._render_traceback_() == [f"RunFailedError: {caught.value}"]


def interrupt_after(seconds: float) -> threading.Timer:
    """Press the notebook's stop button (SIGINT to this process) later."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def only_run(config: DhJupyter) -> Run:
    runs = LocalBackend(config).runs()
    assert len(runs) == 1
    return runs[0]


def test_the_stop_button_cancels_the_run_and_says_so(
    shell: InteractiveShell, local_settings: DhJupyter
) -> None:
    interrupt_after(1.5)

    with pytest.raises(RunCancelledError, match=r"because the cell was interrupted"):
        shell.run_cell_magic(
            "dhrun",
            "--name slow",
            "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
        )

    run = only_run(local_settings)
    assert run.wait(timeout=30).phase is Phase.CANCELLED


def test_the_stop_button_detaches_when_interrupt_does_not_cancel(
    shell: InteractiveShell,
    local_settings: DhJupyter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local_settings.interrupt_cancels = False
    interrupt_after(1.5)

    shell.run_cell_magic("dhrun", "--name slow", "import time\ntime.sleep(60)\n")

    run = only_run(local_settings)
    assert "it goes on. Follow it again with %dhlogs" in capsys.readouterr().out
    assert not run.status.phase.finished
    run.cancel()


def test_detach_returns_the_run_in_underscore_and_in_out(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("%%dhrun --detach --out job\nprint(6 * 7)\n")

    run = shell.user_ns["_"]
    assert shell.user_ns.pop("job") is run
    assert isinstance(run, Run)
    assert run.wait(timeout=60).phase is Phase.SUCCEEDED
    assert "42" in list(run.logs())
    assert (
        f"Submitted {run.name}; it goes on while you work." in capsys.readouterr().out
    )


def test_line_magics_list_show_logs_and_cancel(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic("dhrun", "--cpu 1 --mem 256Mi --name first", "print('one')\n")
    slow = shell.run_cell_magic("dhrun", "--detach --name second", "input()\n")
    assert isinstance(slow, Run)
    capsys.readouterr()

    shell.run_line_magic("dhjobs", "")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "RESOURCES", "AGE"]
    assert table[1].startswith(slow.name)
    assert re.match(r"dhrun-first-\w{5} +succeeded in .* cpu 1, mem 256Mi ", table[2])

    first = table[2].split()[0]
    shell.run_line_magic("dhlogs", first)
    assert "one" in capsys.readouterr().out.splitlines()

    shell.run_line_magic("dhcancel", slow.name)
    assert capsys.readouterr().out == f"Cancelled {slow.name}.\n"
    assert slow.wait(timeout=30).phase is Phase.CANCELLED


def test_line_magics_refuse_unknown_runs_and_flags(shell: InteractiveShell) -> None:
    with pytest.raises(
        UsageError,
        match=r"--follw is not a %%dhrun flag; did you "
        r"mean --follow\?",
    ):
        shell.run_line_magic("dhlogs", "x --follw")
    with pytest.raises(NotFoundError, match=r'No local run is called "dhrun-nothing-'):
        shell.run_line_magic("dhcancel", "dhrun-nothing-here")


def test_auto_backend_says_once_that_cells_run_locally(
    shell: InteractiveShell,
    local_settings: DhJupyter,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(DhRunMagics, "_announced", False)
    local_settings.backend = "auto"

    shell.run_cell_magic("dhrun", "", "print('a')\n")
    shell.run_cell_magic("dhrun", "", "print('b')\n")

    out = capsys.readouterr().out
    assert out.count("No Kubernetes cluster is configured") == 1
    assert "cells run on this machine with the local backend." in out
