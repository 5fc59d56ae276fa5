"""What ``%%dhrun --dry-run`` prints: the objects a real submit would create.

They are built with the defaults the chosen backend itself uses, so the YAML
shows what a submit makes: on a cluster, the notebook pod's image and the
context's namespace. Nothing is created; finding those defaults may read the
notebook's pod, as a submit does. Where they cannot be found, or do not
apply, the YAML opens with a comment saying so.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.manifest import JobDefaults, build_manifests
from dh_jupyter.runs.base import Backend
from dh_jupyter.spec import RunSpec, SpecError

if TYPE_CHECKING:
    from dh_jupyter.runs.kubernetes import KubernetesBackend


def job_yaml(
    backend: Backend,
    spec: RunSpec,
    cell: str,
    name: str,
    config: DhJupyter,
    notes: Sequence[str] = (),
) -> str:
    """The cell's ConfigMap and Job as YAML, as ``backend`` would submit them.

    ``notes`` open the YAML as comments, with what is said about the defaults.
    """
    import yaml

    defaults, namespace, said = _defaults(backend, spec, config)

    try:
        manifests = build_manifests(spec, cell, job_name=name, defaults=defaults)
    except SpecError as error:
        raise UsageError(str(error)) from None

    # The backend puts its namespace on the objects when it submits them.
    if namespace:
        for manifest in manifests:
            manifest["metadata"]["namespace"] = namespace

    comments = "".join(
        f"# {line}\n" for note in [*notes, *said] for line in textwrap.wrap(note, 86)
    )
    return comments + yaml.safe_dump_all(manifests, sort_keys=False)


def _defaults(
    backend: Backend, spec: RunSpec, config: DhJupyter
) -> tuple[JobDefaults, str, list[str]]:
    """The Job defaults and namespace ``backend`` would use, and notes about them."""
    kubernetes = _kubernetes(backend)
    if kubernetes is None:
        return (
            config.job_defaults(),
            "",
            [
                f"The {backend.name} backend runs this cell on this machine; this "
                "is the Job a cluster would get."
            ],
        )
    try:
        return kubernetes.job_defaults(spec), kubernetes.namespace(spec), []
    except DhJupyterError as error:
        # Showing the Job still helps; only what the cluster decides is open.
        return (
            config.job_defaults(),
            "",
            [
                f"The cluster could not be reached ({_first_line(error)}), so the "
                "image and namespace below are only the configured ones; the "
                "image and namespace will be resolved at submit."
            ],
        )


def _kubernetes(backend: Backend) -> KubernetesBackend | None:
    """``backend`` if it runs on a cluster, without loading the cluster layer."""
    if backend.name != "kubernetes":
        return None
    # Imported here: %load_ext imports this module and must stay light.
    from dh_jupyter.runs.kubernetes import KubernetesBackend

    return backend if isinstance(backend, KubernetesBackend) else None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0].rstrip(".")
