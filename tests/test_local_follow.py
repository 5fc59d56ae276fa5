"""Following a local run: its end is said after its last output, never before.

``dh_jupyter.runs.follow`` reads a run's status and its logs from two
threads; the end of a run is often seen first. These tests follow real local
runs, once with the logs read as fast as they come and once through a slow
reader (as a log stream over a busy network is), and check the order in
which the callbacks are called.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs import follow as following
from dh_jupyter.runs.follow import follow
from dh_jupyter.runs.local import LocalRun
from dh_jupyter.runs.status import Phase, Status

CELL = """
for number in range(3):
    print("line", number, flush=True)
"""


class SlowlyRead(LocalRun):
    """A local run whose logs arrive a while after they are written."""

    def logs(self, follow: bool = False) -> Iterator[str]:
        for line in super().logs(follow=follow):
            time.sleep(0.3)
            yield line


def events_of(run: LocalRun) -> list[str]:
    """What ``follow`` called, in order: each line, and each finished status."""
    seen: list[str] = []

    def on_status(status: Status) -> None:
        if status.phase.finished:
            seen.append(f"status: {status.phase.value}")

    def on_line(line: str) -> None:
        if not line.startswith("[dh-jupyter] "):
            seen.append(line)

    final = follow(run, on_status, on_line)
    assert final.phase is Phase.SUCCEEDED
    return seen


def test_the_end_is_said_after_the_last_line_when_logs_lag_behind(
    local_settings: DhJupyter,
) -> None:
    started = dh_jupyter.runs.submit({}, textwrap.dedent(CELL))
    assert isinstance(started, LocalRun)
    run = SlowlyRead(started.folder)

    assert events_of(run) == ["line 0", "line 1", "line 2", "status: succeeded"]


@pytest.mark.parametrize("attempt", range(5))
def test_the_end_is_said_after_the_last_line_of_a_quick_cell(
    local_settings: DhJupyter, attempt: int
) -> None:
    run = dh_jupyter.runs.submit({}, textwrap.dedent(CELL))
    assert isinstance(run, LocalRun)

    assert events_of(run) == ["line 0", "line 1", "line 2", "status: succeeded"]


def test_a_log_stream_that_never_ends_holds_the_end_back_only_for_the_grace(
    local_settings: DhJupyter, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_over = threading.Event()

    class EndlessLogs(LocalRun):
        def logs(self, follow: bool = False) -> Iterator[str]:
            yield from super().logs(follow=follow)
            # A stream that stays open after the run ended, until the test ends.
            test_over.wait(60)

    monkeypatch.setattr(following, "LOG_GRACE_SECONDS", 0.5)
    started = dh_jupyter.runs.submit({}, textwrap.dedent(CELL))
    assert isinstance(started, LocalRun)

    try:
        seen = events_of(EndlessLogs(started.folder))
    finally:
        test_over.set()

    assert seen == ["line 0", "line 1", "line 2", "status: succeeded"]
