"""One watch per kind: list once, follow, resume after cuts, re-list after 410."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster import errors, watch
from dh_jupyter.cluster.client import Cluster
from dh_jupyter.cluster.connect import connect
from dh_jupyter.cluster.watch import Watch

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
