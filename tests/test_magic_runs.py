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
from typing import Any

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


def test_the_stop_button_detaches_and_still_interrupts_the_cell(
    shell: InteractiveShell,
    local_settings: DhJupyter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local_settings.interrupt_cancels = False
    interrupt_after(1.5)

    result = shell.run_cell("%%dhrun --name slow\nimport time\ntime.sleep(60)\n")

    # An interrupted cell, as "Run all" sees it: the notebook stops here.
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    run = only_run(local_settings)
    assert (
        f"Stopped following {run.name}; it goes on. Follow it again with "
        f"%dhlogs {run.name} --follow, or stop it with %dhcancel {run.name}."
    ) in capsys.readouterr().out
    assert not run.status.phase.finished
    run.cancel()


def test_the_stop_button_stops_following_logs_and_leaves_the_run_going(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    run = shell.run_cell_magic("dhrun", "--detach", "import time\ntime.sleep(60)\n")
    assert isinstance(run, Run)
    interrupt_after(1.5)

    result = shell.run_cell(f"%dhlogs {run.name} --follow")

    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert f"Stopped following {run.name}; the run goes on." in capsys.readouterr().out
    assert not run.status.phase.finished


def test_an_interrupt_after_the_run_started_submitting_cancels_it(
    shell: InteractiveShell,
    local_settings: DhJupyter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submit = LocalBackend.submit

    def interrupted(self: LocalBackend, *args: Any, **kwargs: Any) -> Run:
        # The stop button, pressed just as the run was made.
        submit(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalBackend, "submit", interrupted)

    with pytest.raises(
        RunCancelledError,
        match=r"^Cancelled dhrun-late-\w{5} because the cell was interrupted while "
        r"it was being submitted\.$",
    ):
        shell.run_cell_magic("dhrun", "--name late", "import time\ntime.sleep(60)\n")

    assert only_run(local_settings).status.phase is Phase.CANCELLED


def test_an_interrupt_before_anything_was_submitted_says_so(
    shell: InteractiveShell,
    local_settings: DhJupyter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupted(self: LocalBackend, *args: Any, **kwargs: Any) -> Run:
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalBackend, "submit", interrupted)

    result = shell.run_cell("%%dhrun --name early\nprint(1)\n")

    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert re.search(
        r"^The cell was interrupted before dhrun-early-\w{5} was submitted; "
        r"nothing runs\.$",
        capsys.readouterr().out,
        re.M,
    )
    assert LocalBackend(local_settings).runs() == []


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


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED])
def test_cancelling_a_finished_run_changes_nothing_and_says_so(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], phase: Phase
) -> None:
    code = {Phase.SUCCEEDED: "print(1)\n", Phase.FAILED: "raise SystemExit(1)\n"}
    run = shell.run_cell_magic(
        "dhrun", "--detach", code.get(phase, "import time\ntime.sleep(60)\n")
    )
    assert isinstance(run, Run)
    if phase is Phase.CANCELLED:
        run.cancel()
    assert run.wait(timeout=60).phase is phase
    capsys.readouterr()

    shell.run_line_magic("dhcancel", f"'{run.name}'")

    assert capsys.readouterr().out == (
        f"{run.name}: already {phase.value}; nothing to cancel.\n"
    )
    shell.run_line_magic("dhjobs", "")
    [row] = capsys.readouterr().out.splitlines()[1:]
    assert re.match(rf"{run.name} +{phase.value}\b", row)


LINE_MISTAKES = [
    ("dhlogs", "x --follw", "--follw is not a %dhlogs flag; did you mean --follow?"),
    ("dhlogs", "x -follow", "-follow is not a %dhlogs flag; did you mean --follow?"),
    (
        "dhlogs",
        "x --follow=yes",
        "--follow takes no value; write --follow alone.",
    ),
    (
        "dhlogs",
        "",
        "%dhlogs needs the run's name, for example %dhlogs dhrun-train-x7k2p; "
        "%dhjobs lists your runs.",
    ),
    (
        "dhcancel",
        "dhrun-a-xxxxx dhrun-b-xxxxx",
        '"dhrun-b-xxxxx" is not a %dhcancel flag nor the value of one; see '
        "%dhcancel? for what it takes.",
    ),
    (
        "dhcancel",
        "'dhrun-a-xxxxx",
        "The ' quote in this %dhcancel line is never closed; close it, as in "
        "--name 'Train ResNet'.",
    ),
    (
        "dhjobs",
        "--backend",
        "--backend needs a value, for example --backend local.",
    ),
    ("dhjobs", "--all", "--all is not a %dhjobs flag; see %dhjobs? for the flags."),
]


@pytest.mark.parametrize(
    ("magic", "line", "message"),
    LINE_MISTAKES,
    ids=[f"%{m} {line}" for m, line, _ in LINE_MISTAKES],
)
def test_line_magics_refuse_bad_lines_in_one_sentence(
    shell: InteractiveShell, magic: str, line: str, message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic(magic, line)

    assert str(caught.value) == message


def test_line_magics_refuse_unknown_runs(shell: InteractiveShell) -> None:
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
