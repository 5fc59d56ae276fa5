"""One watch per kind: list once, follow, resume after cuts, re-list after 410.

Also what a watch must survive without a busy loop or a silent death: a line
cut half-way, a server (or proxy) that ends every watch at once, and a
refusal that retrying cannot cure.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster import errors, watch
from dh_jupyter.cluster.client import Cluster
from dh_jupyter.cluster.connect import connect
from dh_jupyter.cluster.watch import Watch
from dh_jupyter.errors import ClusterError, CredentialsError, PermissionDeniedError

TIMEOUT = 15


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    monkeypatch.setattr(watch, "RECONNECT_BACKOFF", (0.0, 0.05, 0.1))


class Recorder:
    """Collects (type, name) pairs and lets a test wait for one."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def __call__(self, kind: str, obj: dict[str, Any]) -> None:
        with self.changed:
            self.seen.append((kind, obj["metadata"]["name"]))
            self.changed.notify_all()

    def expect(self, event: tuple[str, str]) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: event in self.seen, TIMEOUT), self.seen


@pytest.fixture
def recorded(kube: Kube) -> Iterator[tuple[Watch, Recorder]]:
    recorder = Recorder()
    configmaps = Watch(Cluster(connect(kube.config)), "configmaps", "dh-test", recorder)
    configmaps.start()
    assert configmaps.synced.wait(TIMEOUT)
    yield configmaps, recorder
    configmaps.stop()


def test_a_watch_lists_once_then_follows_every_change(
    kube: Kube, recorded: tuple[Watch, Recorder]
) -> None:
    configmaps, recorder = recorded

    kube.put("configmaps", {"metadata": {"name": "a"}})
    kube.patch("configmaps", "a", {"data": {"k": "v"}})
    kube.delete("configmaps", "a")
    recorder.expect(("DELETED", "a"))

    assert recorder.seen == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    assert configmaps.lists == 1
    assert len(kube.calls("list", "configmaps")) == 1


def test_a_cut_watch_resumes_from_the_last_version_it_saw(
    kube: Kube, recorded: tuple[Watch, Recorder]
) -> None:
    configmaps, recorder = recorded
    made = kube.put("configmaps", {"metadata": {"name": "a"}})
    recorder.expect(("ADDED", "a"))

    kube.cut_streams()
    kube.put("configmaps", {"metadata": {"name": "b"}})
    recorder.expect(("ADDED", "b"))

    assert recorder.seen == [("ADDED", "a"), ("ADDED", "b")]
    assert configmaps.lists == 1
    first, resumed = kube.calls("watch", "configmaps")
    assert resumed.params["resourceVersion"] == made["metadata"]["resourceVersion"]
    assert int(first.params["resourceVersion"]) < int(resumed.params["resourceVersion"])


def test_a_410_lists_again_and_reports_what_was_deleted_meanwhile(
    kube: Kube, recorded: tuple[Watch, Recorder]
) -> None:
    configmaps, recorder = recorded
    kube.put("configmaps", {"metadata": {"name": "a"}})
    recorder.expect(("ADDED", "a"))

    kube.fail("watch", "configmaps", 503, times=1000)
    kube.forget_history()
    kube.cut_streams()
    kube.delete("configmaps", "a")
    kube.put("configmaps", {"metadata": {"name": "b"}})
    kube.clear_faults()
    recorder.expect(("DELETED", "a"))
    recorder.expect(("ADDED", "b"))

    assert configmaps.lists == 2
    assert recorder.seen.count(("ADDED", "a")) == 1


def test_a_custom_resource_that_is_not_installed_ends_its_watch_quietly(
    kube: Kube,
) -> None:
    workloads = Watch(
        Cluster(connect(kube.config)), "workloads", "dh-test", Recorder(), optional=True
    )

    workloads.start()

    assert workloads.synced.wait(TIMEOUT)
    assert workloads.absent
    workloads.stop()


def test_stopping_a_watch_ends_its_thread_while_it_waits_for_events(
    recorded: tuple[Watch, Recorder],
) -> None:
    configmaps, _ = recorded

    configmaps.stop(wait=TIMEOUT)

    assert configmaps.stopped
    assert not configmaps.running


def test_a_watch_line_cut_half_way_reconnects_from_the_last_version(
    kube: Kube,
    recorded: tuple[Watch, Recorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    configmaps, recorder = recorded
    made = kube.put("configmaps", {"metadata": {"name": "a"}})
    recorder.expect(("ADDED", "a"))
    kube.answer("watch", "configmaps", b'{"type": "ADDED", "object": {"metadata": {"na')

    with caplog.at_level(logging.INFO, "dh_jupyter"):
        kube.cut_streams()
        kube.put("configmaps", {"metadata": {"name": "b"}})
        recorder.expect(("ADDED", "b"))

    assert configmaps.running
    assert recorder.seen == [("ADDED", "a"), ("ADDED", "b")]
    *_, cut, resumed = kube.calls("watch", "configmaps")
    version = made["metadata"]["resourceVersion"]
    assert cut.params["resourceVersion"] == resumed.params["resourceVersion"] == version
    said = (
        "The watch of configmaps in dh-test stopped (The API sent a line that is not "
        "a whole watch event (45 bytes; cut off or garbled on the way).); "
        "reconnecting in "
    )
    assert [message for message in caplog.messages if message.startswith(said)]


def test_a_watch_that_the_server_ends_at_once_is_not_reopened_in_a_busy_loop(
    kube: Kube, recorded: tuple[Watch, Recorder]
) -> None:
    configmaps, recorder = recorded
    kube.answer("watch", "configmaps", b"", times=100_000)

    kube.cut_streams()
    time.sleep(1.5)
    kube.clear_faults()

    # At once, then after growing pauses; a busy loop makes hundreds.
    assert len(kube.calls("watch", "configmaps")) <= 6
    kube.put("configmaps", {"metadata": {"name": "after"}})
    recorder.expect(("ADDED", "after"))
    assert configmaps.running


def test_a_pause_after_a_clean_end_starts_small_again_after_an_event(
    kube: Kube, recorded: tuple[Watch, Recorder]
) -> None:
    configmaps, recorder = recorded
    event = json.dumps(
        {"type": "ADDED", "object": {"metadata": {"name": "x", "resourceVersion": "1"}}}
    )
    kube.answer("watch", "configmaps", b"", times=2)
    kube.answer("watch", "configmaps", event.encode() + b"\n", times=100_000)

    kube.cut_streams()
    recorder.expect(("ADDED", "x"))
    before = len(kube.calls("watch", "configmaps"))
    time.sleep(1.5)
    more = len(kube.calls("watch", "configmaps")) - before
    kube.clear_faults()

    # Two ends with nothing grew the pause; each end that brought an event
    # brings it back to the shortest, and never to none.
    assert 3 <= more <= int(1.5 / watch.END_BACKOFF[0]) + 2
    assert configmaps.running


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, CredentialsError), (403, PermissionDeniedError)],
)
def test_a_refused_watch_ends_and_keeps_the_refusal(
    kube: Kube, status: int, error: type[ClusterError]
) -> None:
    refused: list[Watch] = []
    kube.fail("watch", "configmaps", status, times=1000)
    configmaps = Watch(
        Cluster(connect(kube.config)),
        "configmaps",
        "dh-test",
        Recorder(),
        on_fail=refused.append,
    )

    configmaps.start()

    assert configmaps.ready.wait(TIMEOUT)
    configmaps.stop(wait=TIMEOUT)
    assert refused == [configmaps]
    assert type(configmaps.failed) is error
    assert configmaps.synced.is_set()
    assert len(kube.calls("watch", "configmaps")) == 1
