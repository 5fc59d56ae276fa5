"""A run spec and a cell's code become a ``batch/v1`` Job, as plain dicts.

The cell's source travels in a ConfigMap named like the Job and mounted into
its pod, because a container argument is capped at 128 KiB by Linux while
cells of half a megabyte must work. The cluster layer makes the Job the
ConfigMap's owner once the Job has a uid, so deleting the Job deletes the
code too. Everything here is a pure function of its arguments: no
``kubernetes`` import, no network. The dicts returned share nothing with
the spec, so a caller may change them freely.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from typing import Any

from dh_jupyter.errors import CellTooLargeError
from dh_jupyter.manifest import naming
from dh_jupyter.manifest.identity import current_notebook, current_user
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.labels import GPU_PRODUCT_LABEL, gpu_type_conflict
from dh_jupyter.spec.parse import RESERVED_PATH
from dh_jupyter.spec.render import toleration_to_dict

CODE_FILE = "cell.py"
CODE_VOLUME = "dh-jupyter-cell"
CONTAINER = "cell"
# A ConfigMap holds at most 1 MiB in all; leave room for its metadata.
MAX_CODE_BYTES = 1000 * 1024


def default_image() -> str:
    """A slim Python image of the kernel's own Python version."""
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


@dataclass(frozen=True)
class JobDefaults:
    """What an administrator decides for every Job; see ``dh_jupyter.config``."""

    image: str = ""
    namespace: str = ""
    ttl: int = 24 * 3600
    gpu_resource: str = "nvidia.com/gpu"
    gpu_product_label: str = GPU_PRODUCT_LABEL


def build_manifests(
    spec: RunSpec,
    code: str,
    *,
    name: str | None = None,
    job_name: str | None = None,
    user: str | None = None,
    notebook: str | None = None,
    defaults: JobDefaults = JobDefaults(),
) -> list[dict[str, Any]]:
    """The objects of one run, in the order to create them: ConfigMap, Job.

    ``name`` is the readable part of the Job's name, as ``%%dhrun --name``
    is: ``name="Train ResNet"`` makes ``dhrun-train-resnet-x7k2p``. Without
    it the notebook's file name is the readable part (``train.ipynb`` makes
    ``dhrun-train-…``), or ``cell`` when the kernel has no notebook.
    ``job_name`` is instead an exact name made earlier, for callers that
    must know it before building (a retried create asks for the same name);
    give one or the other. ``user`` and ``notebook`` label every object so
    the run can be found again, and default to this kernel's.
    """
    size = len(code.encode("utf-8"))
    if size > MAX_CODE_BYTES:
        raise CellTooLargeError(
            f"The cell is {size // 1024} KiB, more than the {MAX_CODE_BYTES // 1024} "
            "KiB a Job can carry; move the code into a module on a volume and "
            "import it from a short cell."
        )
    user = current_user() if user is None else user
    notebook = current_notebook() if notebook is None else notebook
    name = naming.run_name(name, job_name, notebook)

    labels = {
        naming.MANAGED_BY: naming.MANAGER,
        naming.USER_LABEL: naming.label_value(user),
        naming.NOTEBOOK_LABEL: naming.label_value(notebook.rsplit("/", 1)[-1]),
        naming.RUN_LABEL: name,
    }
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    namespace = spec.namespace or defaults.namespace
    if namespace:
        metadata["namespace"] = namespace
    if notebook:
        metadata["annotations"] = {naming.NOTEBOOK_ANNOTATION: notebook}

    code_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _copy(metadata),
        "data": {CODE_FILE: code},
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _job_metadata(metadata, spec),
        "spec": _job_spec(spec, name, labels, defaults),
    }
    return [code_map, job]


def build_job(
    spec: RunSpec,
    code: str,
    *,
    name: str | None = None,
    job_name: str | None = None,
) -> dict[str, Any]:
    """The ``batch/v1`` Job of one run, as a plain dict.

    ``name`` is the readable part of the Job's name (``dhrun-<name>-<random>``;
    the notebook's file name when not given) and ``job_name`` an exact name,
    as in ``build_manifests``. The cell's code ships in a ConfigMap of the
    same name, which ``build_manifests`` returns together with this Job.
    """
    return build_manifests(spec, code, name=name, job_name=job_name)[-1]


def _copy(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in metadata.items()
    }


def _job_metadata(metadata: dict[str, Any], spec: RunSpec) -> dict[str, Any]:
    result = _copy(metadata)
    if spec.queue:
        # Kueue admits the Job through the LocalQueue named by this label.
        result["labels"][naming.QUEUE_LABEL] = spec.queue
    return result


def _job_spec(
    spec: RunSpec, name: str, labels: dict[str, str], defaults: JobDefaults
) -> dict[str, Any]:
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.retries or 0,
        "ttlSecondsAfterFinished": spec.ttl if spec.ttl is not None else defaults.ttl,
        "template": {
            "metadata": {"labels": {**spec.labels, **labels}},
            "spec": _pod_spec(spec, name, defaults),
        },
    }
    if spec.timeout is not None:
        job_spec["activeDeadlineSeconds"] = spec.timeout
    return job_spec


def _pod_spec(spec: RunSpec, name: str, defaults: JobDefaults) -> dict[str, Any]:
    volumes = [_volume(v.volume_type, v.name, dict(v.spec)) for v in spec.volumes]
    volumes.append({"name": CODE_VOLUME, "configMap": {"name": name}})
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [_container(spec, defaults)],
        "volumes": volumes,
    }

    node_selector = dict(spec.node_selector)
    label = defaults.gpu_product_label
    # The spec checked the default label; only the Job knows the configured one.
    if problem := gpu_type_conflict(spec.gpu_type, node_selector, label):
        raise SpecError("gpu_type", problem)
    if spec.gpu_type:
        node_selector[label] = spec.gpu_type
    if node_selector:
        pod["nodeSelector"] = node_selector
    if spec.tolerations:
        pod["tolerations"] = [toleration_to_dict(t) for t in spec.tolerations]
    if spec.affinity is not None:
        pod["affinity"] = copy.deepcopy(dict(spec.affinity))
    if spec.service_account:
        pod["serviceAccountName"] = spec.service_account
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": s} for s in spec.image_pull_secrets]
    if spec.priority_class:
        pod["priorityClassName"] = spec.priority_class
    return pod


def _container(spec: RunSpec, defaults: JobDefaults) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = []
    for volume in spec.volumes:
        mount: dict[str, Any] = {"name": volume.name, "mountPath": volume.mount_path}
        if volume.spec.get("read_only"):
            mount["readOnly"] = True
        mounts.append(mount)
    mounts.append({"name": CODE_VOLUME, "mountPath": RESERVED_PATH, "readOnly": True})

    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image or defaults.image or default_image(),
        # Unbuffered, so logs reach the user as the cell prints them.
        "command": ["python", "-u", f"{RESERVED_PATH}/{CODE_FILE}"],
        "volumeMounts": mounts,
    }
    resources = container_resources(spec, defaults.gpu_resource)
    if resources:
        container["resources"] = resources
    if spec.env:
        container["env"] = [{"name": k, "value": v} for k, v in spec.env.items()]
    if spec.secrets:
        container["envFrom"] = [{"secretRef": {"name": s}} for s in spec.secrets]
    return container


def container_resources(spec: RunSpec, gpu_resource: str) -> dict[str, dict[str, str]]:
    """The container's ``resources``: requests and limits in Kubernetes names."""
    names = {"cpu": "cpu", "mem": "memory", "gpu": gpu_resource}
    result: dict[str, dict[str, str]] = {}
    for kind, resource_name in names.items():
        resource = getattr(spec.resources, kind)
        for key in ("requests", "limits"):
            amount = getattr(resource, key)
            if amount is not None:
                result.setdefault(key, {})[resource_name] = amount
    return result


def _volume(volume_type: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    if volume_type == "persistent_volume_claim":
        source: dict[str, Any] = {"claimName": spec["claim_name"]}
        if spec.get("read_only"):
            source["readOnly"] = True
        return {"name": name, "persistentVolumeClaim": source}
    if volume_type == "config_map":
        return {"name": name, "configMap": {"name": spec["name"]}}
    if volume_type == "secret":
        return {"name": name, "secret": {"secretName": spec["secret_name"]}}
    empty_dir = {
        key: spec[snake]
        for key, snake in (("medium", "medium"), ("sizeLimit", "size_limit"))
        if spec.get(snake)
    }
    return {"name": name, "emptyDir": empty_dir}
