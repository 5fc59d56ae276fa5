"""The run monitor, driven through its traits and a scripted run.

The scripted run plays statuses and log lines like a backend would, from
the runs layer's interface only, so these tests say what the monitor shows
for each kind of run without a cluster or a process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import comm
import ipywidgets as widgets
import pytest
from traitlets import TraitError

from dh_jupyter.errors import ClusterUnavailableError
from dh_jupyter.runs.base import Run, RunInfo, StatusCallback
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.widgets.logview import PAGE_LINES
from dh_jupyter.widgets.monitor import DONE_STEP, RunMonitor

START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class ScriptedRun(Run):
    """A run that passes through ``phases`` and prints ``lines``.

    With ``hold`` it stays running until ``cancel()`` (or ``release()``).
    """

    def __init__(
        self,
        phases: tuple[Phase, ...] = (Phase.PENDING, Phase.RUNNING, Phase.SUCCEEDED),
        lines: tuple[str, ...] = ("hello", "world"),
        *,
        hold: bool = False,
        fail_with: Exception | None = None,
    ) -> None:
        self._phases = phases
        self._lines = lines
        self._hold = threading.Event() if hold else None
        self._fail_with = fail_with
        self._status = Status(Phase.QUEUED)
        self._ended = threading.Event()
        self.cancelled = False

    @property
    def info(self) -> RunInfo:
        return RunInfo("dhrun-test-abcde", "dh-test", "scripted", created=START)

    @property
    def status(self) -> Status:
        return self._status

    def _become(self, phase: Phase, on_status: StatusCallback | None) -> None:
        finished = START + timedelta(seconds=192) if phase.finished else None
        self._status = Status(phase, started=START, finished=finished)
        if on_status is not None:
            on_status(self._status)

    def wait(
        self, timeout: float | None = None, on_status: StatusCallback | None = None
    ) -> Status:
        if self._fail_with is not None:
            raise self._fail_with
        for phase in self._phases:
            if phase.finished and self._hold is not None:
                self._hold.wait(30)
                if self.cancelled:
                    phase = Phase.CANCELLED
            self._become(phase, on_status)
        self._ended.set()
        return self._status

    def logs(self, follow: bool = False) -> Iterator[str]:
        yield from self._lines
        if follow:
            self._ended.wait(30)

    def cancel(self) -> None:
        self.cancelled = True
        self.release()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()


def test_following_a_run_returns_its_final_status_and_shows_it() -> None:
    monitor = RunMonitor(ScriptedRun())

    final = monitor.follow()

    assert final.phase is Phase.SUCCEEDED
    assert monitor.status == final
    assert monitor.finished
    assert "succeeded in 3 min 12 s" in monitor._status_line.value
    assert monitor._progress.value == DONE_STEP
    assert monitor._progress.bar_style == "success"
    assert monitor.cancel_button.disabled
    assert not monitor.following


@pytest.mark.parametrize(
    ("phases", "style"),
    [
        ((Phase.RUNNING, Phase.FAILED), "danger"),
        ((Phase.PENDING, Phase.CANCELLED), "warning"),
        ((Phase.PULLING, Phase.RUNNING, Phase.SUCCEEDED), "success"),
    ],
)
def test_the_progress_bar_ends_in_the_colour_of_the_outcome(
    phases: tuple[Phase, ...], style: str
) -> None:
    monitor = RunMonitor(ScriptedRun(phases))

    monitor.follow()

    assert monitor._progress.bar_style == style
    assert monitor._progress.description == phases[-1].value


def test_every_status_on_the_way_is_shown_with_its_progress() -> None:
    monitor = RunMonitor(ScriptedRun())
    seen: list[tuple[str, int]] = []
    monitor.observe(
        lambda change: seen.append(
            (change["new"].phase.value, monitor._progress.value)
        ),
        "status",
    )

    monitor.follow()

    phases = [phase for phase, _ in seen]
    assert phases[-3:] == ["pending", "running", "succeeded"]
    steps = [step for _, step in seen]
    assert steps == sorted(steps)


def test_the_logs_show_the_last_lines_and_the_full_log_is_one_click_away() -> None:
    lines = tuple(f"line {n}" for n in range(50))
    monitor = RunMonitor(ScriptedRun(lines=lines), max_lines=10)

    monitor.follow()

    shown = monitor._logs.html
    assert "line 49" in shown
    assert "line 39" not in shown
    assert "40 earlier lines" in shown
    assert monitor.line_count == 50

    monitor.full_log.value = True

    assert "line 0\n" in monitor._logs.html
    assert monitor.full_log.description == "Last 10 lines"
    assert monitor.logs == list(lines)


@contextlib.contextmanager
def sent() -> Iterator[list[int]]:
    """The sizes of the widget messages sent meanwhile (updates and new widgets)."""
    sizes: list[int] = []
    send, create = widgets.Widget._send, comm.create_comm

    def counted_send(widget: Any, msg: Any, buffers: Any = None) -> None:
        sizes.append(len(json.dumps(msg["state"])))
        send(widget, msg, buffers)

    def counted_create(**kwargs: Any) -> Any:
        sizes.append(len(json.dumps(kwargs.get("data", {}).get("state", {}))))
        return create(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(widgets.Widget, "_send", counted_send)
        patch.setattr(comm, "create_comm", counted_create)
        yield sizes


def test_a_full_log_repaint_sends_only_the_newest_page_however_long_the_log() -> None:
    # 99,000 lines of 72 characters: 7.1 MB of log, every line kept.
    lines = tuple(f"{n:08d} " + "x" * 63 for n in range(99_000))
    monitor = RunMonitor(ScriptedRun(lines=lines))
    monitor.follow()
    with sent() as opening:
        monitor.full_log.value = True
    assert sum(opening) > 7_000_000

    for repaint in range(3):
        with sent() as sizes:
            monitor.add_line(f"new line {repaint}")
            monitor._paint_logs()

        assert 0 < sum(sizes) < (PAGE_LINES + 10) * 80
    html = monitor._logs.html
    assert "00000000 " in html
    assert "new line 2" in html
    assert html.count("x" * 63) == 99_000


def test_the_full_log_grows_page_by_page_and_keeps_every_line_in_order() -> None:
    monitor = RunMonitor(ScriptedRun(lines=()), max_lines=5)
    monitor.follow()
    monitor.full_log.value = True

    for n in range(PAGE_LINES * 2 + 7):
        monitor.add_line(f"line {n}")
    monitor._paint_logs()

    pages = monitor._logs.pages.children
    assert len(pages) == 3
    text = "\n".join(
        page.value.removeprefix('<pre style="margin: 0">').removesuffix("</pre>")
        for page in pages
    )
    assert text.splitlines() == [f"line {n}" for n in range(PAGE_LINES * 2 + 7)]

    monitor.full_log.value = False

    assert "line 1006" in monitor._logs.html
    assert "line 1001" not in monitor._logs.html
    assert f"({PAGE_LINES * 2 + 2} earlier lines" in monitor._logs.html


def test_log_lines_are_escaped_so_they_cannot_inject_html() -> None:
    monitor = RunMonitor(ScriptedRun(lines=("<script>alert(1)</script>",)))

    monitor.follow()

    assert "<script>" not in monitor._logs.html
    assert "&lt;script&gt;" in monitor._logs.html


def test_start_follows_in_the_background_and_cancel_stops_the_run() -> None:
    run = ScriptedRun(hold=True)
    monitor = RunMonitor(run)

    monitor.start()
    assert monitor.join(timeout=0.2) is None
    monitor.cancel_button.click()
    final = monitor.join(timeout=30)

    assert run.cancelled
    assert final is not None
    assert final.phase is Phase.CANCELLED
    assert "cancelled" in monitor._status_line.value
    assert monitor.cancel_button.disabled
    assert monitor.cancel_button.description == "Cancel"


def test_a_cancel_click_queued_during_the_cell_spares_the_finished_run() -> None:
    run = ScriptedRun()
    monitor = RunMonitor(run)
    seen: list[tuple[Phase, bool, str]] = []
    monitor.observe(
        lambda change: seen.append(
            (
                change["new"].phase,
                monitor.cancel_button.disabled,
                monitor._status_line.value,
            )
        ),
        "status",
    )

    monitor.follow()
    # The kernel handles a click made during the blocking cell only now.
    monitor.cancel_button.click()

    assert not run.cancelled
    assert "The run already succeeded; there is nothing to cancel" in (
        monitor._status_line.value
    )
    assert monitor.cancel_button.disabled
    going = [(disabled, line) for phase, disabled, line in seen if not phase.finished]
    assert going
    assert all(disabled for disabled, _ in going)
    assert all("press the notebook's stop button (■)" in line for _, line in going)


@pytest.mark.parametrize("phase", [Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED])
def test_cancelling_a_finished_run_does_nothing_but_say_so(phase: Phase) -> None:
    run = ScriptedRun((Phase.RUNNING, phase))
    monitor = RunMonitor(run)
    monitor.follow()

    monitor.cancel()

    assert not run.cancelled
    assert f"The run already {phase.value}" in monitor._status_line.value


def test_a_run_that_ended_unwatched_is_not_cancelled_either() -> None:
    run = ScriptedRun()
    run._status = Status(Phase.RUNNING, started=START)
    monitor = RunMonitor(run)
    assert not monitor.cancel_button.disabled
    run._status = Status(Phase.FAILED, started=START, finished=START)

    monitor.cancel_button.click()

    assert not run.cancelled
    assert "The run already failed" in monitor._status_line.value


def test_cancel_stays_clickable_while_start_follows_in_the_background() -> None:
    run = ScriptedRun(hold=True)
    monitor = RunMonitor(run)

    monitor.start()
    try:
        assert monitor.join(timeout=0.2) is None
        assert not monitor.cancel_button.disabled
        assert "stop button" not in monitor._status_line.value
    finally:
        run.release()
    monitor.join(timeout=30)


def test_an_interrupt_while_following_reaches_the_caller_and_the_run_goes_on() -> None:
    run = ScriptedRun(hold=True)
    monitor = RunMonitor(run)
    # The notebook's stop button sends SIGINT to the kernel's main thread.
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    try:
        with pytest.raises(KeyboardInterrupt):
            monitor.follow()
    finally:
        timer.cancel()
        run.release()

    assert not run.cancelled
    assert not monitor.following
    assert "Stopped following the run (interrupted)." in monitor._status_line.value
    # The cell is free again, and the run goes on: Cancel works once more.
    assert not monitor.cancel_button.disabled


def test_a_runs_layer_error_is_shown_and_raised() -> None:
    error = ClusterUnavailableError("The cluster did not answer; try again later.")
    monitor = RunMonitor(ScriptedRun(fail_with=error))

    with pytest.raises(ClusterUnavailableError):
        monitor.follow()

    assert "The cluster did not answer; try again later." in (
        monitor._status_line.value
    )


def test_the_elapsed_time_runs_from_submission_to_the_end() -> None:
    monitor = RunMonitor(ScriptedRun())

    monitor.follow()

    assert monitor._elapsed.value == "03:12 elapsed"


@pytest.mark.parametrize("bad", [0, -5])
def test_showing_fewer_than_one_line_is_refused_with_the_fix(bad: int) -> None:
    monitor = RunMonitor(ScriptedRun())

    with pytest.raises(TraitError, match="show at least 1 line"):
        monitor.max_lines = bad


def test_dhrun_shows_the_monitor_and_follows_the_run_to_its_end(
    shell: Any, dh_settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dh_settings.backend = "local"
    dh_settings.local_state_dir = str(tmp_path)
    dh_settings.monitor = "widget"
    shown: list[RunMonitor] = []
    original = RunMonitor.follow

    def spy(monitor: RunMonitor) -> Status:
        shown.append(monitor)
        return original(monitor)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunMonitor, "follow", spy)
        shell.run_cell_magic("dhrun", "--name widget", "print('in the monitor')")

    assert len(shown) == 1
    monitor = shown[0]
    assert monitor.status is not None
    assert monitor.status.phase is Phase.SUCCEEDED
    assert "in the monitor" in monitor.logs
    assert "RunMonitor" in capsys.readouterr().out
