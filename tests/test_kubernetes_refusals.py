"""When the cluster refuses while a run is followed or cancelled.

A refusal that retrying cannot cure (401, 403) must reach whoever waits on
the run as the one-sentence error, never as a run that looks queued
forever; and whatever went wrong, no watch may be left retrying for a run
nobody follows any more. A cancel the API refused leaves the run as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster import errors, informer, watch
from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    CredentialsError,
    PermissionDeniedError,
)
from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun
from dh_jupyter.runs.status import Phase
from dh_jupyter.spec import RunSpec

TIMEOUT = 15


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their number but not their waiting, to keep tests quick."""
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    monkeypatch.setattr(watch, "RECONNECT_BACKOFF", (0.0, 0.05, 0.1))


def submit(kube: Kube) -> KubernetesRun:
    return KubernetesBackend(kube.config).submit(RunSpec(), "print(1)")


def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    """Whether ``check()`` holds within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


REFUSED_WATCHES = [
    pytest.param(
        "jobs",
        403,
        PermissionDeniedError,
        'You may not watch jobs in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: ["batch"], resources: '
        '["jobs"], verbs: ["watch"]} bound to your account in that namespace.',
        id="403 on the jobs",
    ),
    pytest.param(
        "events",
        403,
        PermissionDeniedError,
        'You may not watch events in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: [""], resources: '
        '["events"], verbs: ["watch"]} bound to your account in that namespace.',
        id="403 on the events",
    ),
    pytest.param(
        "pods",
        401,
        CredentialsError,
        "The cluster rejected your credentials (HTTP 401) when asked to watch pods "
        'in namespace "dh-test"; log in again or refresh the token in your '
        "kubeconfig.",
        id="401 on the pods",
    ),
]


@pytest.mark.parametrize(("kind", "status", "error", "message"), REFUSED_WATCHES)
def test_a_refused_watch_is_raised_by_wait_instead_of_a_queued_run(
    kube: Kube, kind: str, status: int, error: type[ClusterError], message: str
) -> None:
    run = submit(kube)
    kube.fail("watch", kind, status, times=1000)

    started = time.monotonic()
    with pytest.raises(ClusterError) as raised:
        run.wait(timeout=3)

    assert time.monotonic() - started < 3
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert raised.value.__cause__ is None
    assert len(kube.calls("watch", kind)) == 1


def test_a_refused_watch_is_raised_by_status_as_long_as_it_is_refused(
    kube: Kube,
) -> None:
    run = submit(kube)
    kube.fail("watch", "jobs", 403, times=1000)
    with pytest.raises(PermissionDeniedError):
        run.wait(timeout=3)

    with pytest.raises(PermissionDeniedError) as raised:
        _ = run.status

    assert str(raised.value).startswith('You may not watch jobs in namespace "dh-test"')
    # Each follow tries the watch again, once: the permission may have come.
    assert len(kube.calls("watch", "jobs")) == 2
    kube.clear_faults()
    assert run.status.phase is Phase.QUEUED


def test_a_watch_refused_while_a_run_is_waited_on_wakes_the_waiter(
    kube: Kube,
) -> None:
    run = submit(kube)
    assert run.status.phase is Phase.QUEUED
    kube.fail("watch", "pods", 403, times=1000)

    # The pods watch is cut, and its reconnection is refused.
    kube.cut_streams()
    with pytest.raises(PermissionDeniedError) as raised:
        run.wait(timeout=TIMEOUT)

    assert str(raised.value).startswith('You may not watch pods in namespace "dh-test"')


@pytest.mark.parametrize(
    ("status", "error", "linger"),
    [
        pytest.param(403, PermissionDeniedError, informer.LINGER, id="403 at once"),
        pytest.param(500, ClusterUnavailableError, 0.2, id="500 after the linger"),
    ],
)
def test_a_first_sync_that_fails_leaves_no_watch_behind(
    kube: Kube,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    error: type[ClusterError],
    linger: float,
) -> None:
    monkeypatch.setattr(informer, "LINGER", linger)
    run = submit(kube)
    kube.fail("list", "events", status, times=1000)

    with pytest.raises(ClusterError) as raised:
        _ = run.status

    assert type(raised.value) is error
    shared = run.tracker.informer
    assert eventually(lambda: shared.open_watches() == 0), shared.open_watches()
    listed = len(kube.calls("list", "events"))
    time.sleep(0.5)
    assert len(kube.calls("list", "events")) == listed


def test_a_refused_cancel_leaves_the_run_going(kube: Kube) -> None:
    run = submit(kube)
    assert run.status.phase is Phase.QUEUED
    kube.fail("delete", "jobs", 403)

    with pytest.raises(PermissionDeniedError) as raised:
        run.cancel()

    assert str(raised.value).startswith(
        'You may not delete jobs in namespace "dh-test"'
    )
    assert run.status.phase is Phase.QUEUED
    assert not run.tracker.finished
    assert kube.get("jobs", run.name) is not None
    assert kube.get("configmaps", run.name) is not None


def test_a_cancel_that_succeeds_after_a_refused_one_ends_the_run_cancelled(
    kube: Kube,
) -> None:
    run = submit(kube)
    kube.fail("delete", "jobs", 403)
    with pytest.raises(PermissionDeniedError):
        run.cancel()

    run.cancel()

    final = run.wait(timeout=TIMEOUT)
    assert (final.phase, final.reason) == (Phase.CANCELLED, "you cancelled it")
    assert kube.get("jobs", run.name) is None


def test_a_cancelled_run_whose_configmap_cannot_be_deleted_is_still_cancelled(
    kube: Kube, caplog: pytest.LogCaptureFixture
) -> None:
    run = submit(kube)
    kube.fail("delete", "configmaps", 403)

    run.cancel()

    assert run.status.phase is Phase.CANCELLED
    assert kube.get("jobs", run.name) is None
    assert f"The run {run.name} is cancelled, but its ConfigMap was not deleted" in (
        caplog.text
    )
