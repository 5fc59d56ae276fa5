"""Following a run: status, logs, cancel and finding it again, with real cells.

The fake kubelet runs each Job's cell with this Python, so the logs and
exit codes are real. Faults cut the watch and log streams and expire the
watch history, as a flaky network and a busy API server do.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fixtures.kube import Kube, Kubelet

from dh_jupyter.cluster import errors, informer, watch
from dh_jupyter.errors import NotFoundError
from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec

TIMEOUT = 60


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their number but not their waiting, to keep tests quick."""
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    monkeypatch.setattr(watch, "RECONNECT_BACKOFF", (0.0, 0.05, 0.1))


def submit(kube: Kube, code: str, **spec: object) -> KubernetesRun:
    return KubernetesBackend(kube.config).submit(RunSpec.from_dict(spec), code)


def gated(gate: Path, before: str, after: str) -> str:
    """A cell that prints ``before``, waits for the file ``gate``, prints ``after``."""
    return (
        "import pathlib, time\n"
        f"print({before!r})\n"
        f"while not pathlib.Path({str(gate)!r}).exists():\n"
        "    time.sleep(0.02)\n"
        f"print({after!r})\n"
    )


def running(run: KubernetesRun) -> None:
    with run.tracker.following():
        assert run.tracker.wait_until(
            lambda _, status: status.phase is Phase.RUNNING, TIMEOUT
        ), run.status.describe()


def test_a_cell_that_succeeds_passes_through_running_to_succeeded(
    kube: Kube, kubelet: Kubelet
) -> None:
    run = submit(kube, "print('hello')\nprint('world')\n")
    seen: list[Status] = []

    final = run.wait(timeout=TIMEOUT, on_status=seen.append)

    assert final.phase is Phase.SUCCEEDED
    assert final.exit_code == 0
    assert seen[-1] == final
    phases = [status.phase for status in seen]
    assert Phase.RUNNING in phases or Phase.PENDING in phases or Phase.QUEUED in phases
    assert list(run.logs()) == ["hello", "world"]


def test_a_cell_that_fails_says_its_exit_code_and_keeps_its_traceback(
    kube: Kube, kubelet: Kubelet
) -> None:
    run = submit(kube, "print('working')\nraise SystemExit(3)\n")

    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.reason, final.hint, final.exit_code) == (
        Phase.FAILED,
        "the cell exited with code 3",
        "The end of its logs shows the error.",
        3,
    )
    assert list(run.logs()) == ["working"]


def test_a_retried_cell_marks_where_each_attempt_starts(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    marker = tmp_path / "tried"
    code = (
        "import pathlib, sys\n"
        f"first = not pathlib.Path({str(marker)!r}).exists()\n"
        f"pathlib.Path({str(marker)!r}).touch()\n"
        "print('first try' if first else 'second try')\n"
        "sys.exit(1 if first else 0)\n"
    )
    run = submit(kube, code, retries=1)

    lines = list(run.logs(follow=True))

    pods = kube.pods_of(run.name)
    assert lines == [
        "first try",
        f"--- attempt 2 (pod {pods[1]['metadata']['name']}) ---",
        "second try",
    ]
    assert run.wait(timeout=TIMEOUT).phase is Phase.SUCCEEDED


def test_a_cell_past_its_timeout_fails_as_deadline_exceeded(
    kube: Kube, kubelet: Kubelet
) -> None:
    run = submit(kube, "import time\ntime.sleep(60)\n", timeout=1)

    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.reason, final.hint) == (
        Phase.FAILED,
        "it ran longer than its timeout of 1 s",
        "Raise timeout, or make the cell finish sooner.",
    )


def test_cancel_deletes_the_job_its_pods_and_its_configmap(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    run = submit(kube, gated(tmp_path / "never", "started", "not reached"))
    running(run)

    run.cancel()
    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.reason) == (Phase.CANCELLED, "you cancelled it")
    assert kube.items("jobs") == []
    assert kube.items("pods") == []
    assert kube.items("configmaps") == []
    [delete] = kube.calls("delete", "jobs")
    assert delete.params["propagationPolicy"] == "Background"


def test_following_logs_ends_when_the_run_is_cancelled(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    run = submit(kube, gated(tmp_path / "never", "started", "not reached"))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.logs(follow=True)))
    reader.start()
    running(run)

    run.cancel()
    reader.join(TIMEOUT)

    assert not reader.is_alive()
    assert lines in (["started"], [])


def test_a_run_is_found_again_after_a_kernel_restart(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    first = submit(kube, gated(gate, "before restart", "after restart"))
    running(first)
    other = kube.get("jobs", first.name)
    assert other is not None
    kube.put(
        "jobs",
        {
            "metadata": {
                "name": "someone-elses",
                "labels": {**other["metadata"]["labels"], "dh-jupyter.io/user": "bob"},
            },
            "spec": {"suspend": True, "template": other["spec"]["template"]},
        },
    )

    # A restarted kernel has none of the first one's state.
    informer.stop_all()
    backend = KubernetesBackend(kube.config)
    listed = backend.runs()
    again = backend.get(first.name)
    gate.touch()

    assert [run.name for run in listed] == [first.name]
    assert again.wait(timeout=TIMEOUT).phase is Phase.SUCCEEDED
    assert list(again.logs()) == ["before restart", "after restart"]
    assert again.info.user == other["metadata"]["labels"]["dh-jupyter.io/user"]


def test_getting_a_run_that_does_not_exist_names_it(kube: Kube) -> None:
    with pytest.raises(NotFoundError) as raised:
        KubernetesBackend(kube.config).get("dhrun-gone-xxxxx")

    assert str(raised.value) == (
        'There is no run called "dhrun-gone-xxxxx" in namespace "dh-test"; '
        "%dhjobs lists yours, or dh_jupyter.runs.runs() from Python."
    )


def test_wait_with_a_timeout_returns_the_status_so_far(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    run = submit(kube, gated(gate, "a", "b"))
    running(run)

    status = run.wait(timeout=0.2)
    gate.touch()

    assert status.phase is Phase.RUNNING
    assert run.wait(timeout=TIMEOUT).phase is Phase.SUCCEEDED


def test_cut_watches_resume_from_where_they_were_without_listing_again(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    run = submit(kube, gated(gate, "a", "b"))
    running(run)
    lists = run.tracker.informer.lists()

    kube.cut_streams()
    gate.touch()
    final = run.wait(timeout=TIMEOUT)

    assert final.phase is Phase.SUCCEEDED
    assert run.tracker.informer.lists() == lists == 3
    assert len(kube.calls("watch", "jobs")) >= 1
    assert kube.created("jobs", run.name) == 1


def test_an_expired_watch_lists_again_and_sees_what_happened_meanwhile(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    run = submit(kube, gated(tmp_path / "never", "a", "b"))
    running(run)
    lists = run.tracker.informer.lists()

    # While the Job watch cannot reconnect, the history expires and the Job
    # is deleted: only a fresh list can tell.
    kube.fail("watch", "jobs", 503, times=1000)
    kube.forget_history()
    kube.cut_streams()
    kube.delete("jobs", run.name)
    kube.clear_faults()
    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.reason) == (
        Phase.CANCELLED,
        "its Job was deleted before it finished",
    )
    assert run.tracker.informer.lists() > lists


def test_a_cut_log_stream_resumes_without_repeating_or_losing_lines(
    kube: Kube, kubelet: Kubelet, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    code = (
        "import pathlib, time\n"
        "for i in range(20):\n"
        "    print(f'line {i}')\n"
        f"while not pathlib.Path({str(gate)!r}).exists():\n"
        "    time.sleep(0.02)\n"
        "for i in range(20, 40):\n"
        "    print(f'line {i}')\n"
    )
    run = submit(kube, code)
    lines: list[str] = []
    twenty = threading.Event()

    def read() -> None:
        for line in run.logs(follow=True):
            lines.append(line)
            if len(lines) == 20:
                twenty.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert twenty.wait(TIMEOUT)

    kube.cut_streams()
    gate.touch()
    reader.join(TIMEOUT)

    assert lines == [f"line {i}" for i in range(40)]
    assert len(kube.calls("log", "pods")) >= 2


def test_status_and_logs_can_be_followed_from_two_threads_at_once(
    kube: Kube, kubelet: Kubelet
) -> None:
    run = submit(
        kube, "import time\nfor i in range(5):\n    print(i)\n    time.sleep(0.05)\n"
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.logs(follow=True)))
    reader.start()

    final = run.wait(timeout=TIMEOUT)
    reader.join(TIMEOUT)

    assert final.phase is Phase.SUCCEEDED
    assert lines == ["0", "1", "2", "3", "4"]


def test_runs_submitted_while_the_watches_are_running_are_never_taken_for_deleted(
    kube: Kube, kubelet: Kubelet
) -> None:
    backend = KubernetesBackend(kube.config)
    assert backend.submit(RunSpec(), "print(0)").wait(timeout=TIMEOUT).phase is (
        Phase.SUCCEEDED
    )

    runs = [backend.submit(RunSpec(), f"print({i})") for i in range(5)]
    finals = [run.wait(timeout=TIMEOUT) for run in runs]

    assert [final.phase for final in finals] == [Phase.SUCCEEDED] * 5
