"""A run that names no image uses the configured one, else the notebook pod's."""

from __future__ import annotations

import pytest
from fixtures.kube import NOTEBOOK_IMAGE, Kube

from dh_jupyter.cluster import errors
from dh_jupyter.manifest.job import default_image
from dh_jupyter.runs.kubernetes import KubernetesBackend
from dh_jupyter.spec import RunSpec


def image_of(kube: Kube, spec: RunSpec) -> str:
    run = KubernetesBackend(kube.config).submit(spec, "print(1)")
    job = kube.get("jobs", run.name)
    assert job is not None
    return str(job["spec"]["template"]["spec"]["containers"][0]["image"])


@pytest.mark.usefixtures("in_a_pod")
def test_in_a_pod_a_run_uses_the_notebook_containers_image(kube: Kube) -> None:
    assert image_of(kube, RunSpec()) == NOTEBOOK_IMAGE


@pytest.mark.usefixtures("in_a_pod")
def test_the_spec_and_the_configuration_come_before_the_pods_image(
    kube: Kube,
) -> None:
    assert image_of(kube, RunSpec(image="python:3.13")) == "python:3.13"

    kube.config.default_image = "registry.local/base:1"
    assert image_of(kube, RunSpec()) == "registry.local/base:1"


def test_outside_a_pod_a_run_uses_the_kernels_python_version(kube: Kube) -> None:
    assert image_of(kube, RunSpec()) == default_image()


@pytest.mark.usefixtures("in_a_pod")
def test_an_unreadable_pod_falls_back_to_the_python_image(kube: Kube) -> None:
    kube.delete("pods", "jupyter-ada")

    assert image_of(kube, RunSpec()) == default_image()


@pytest.mark.usefixtures("in_a_pod")
def test_a_pod_unreachable_for_a_moment_is_asked_again_by_the_next_run(
    kube: Kube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    kube.fail("get", "pods", 503, times=4)

    assert image_of(kube, RunSpec()) == default_image()
    assert image_of(kube, RunSpec()) == NOTEBOOK_IMAGE
