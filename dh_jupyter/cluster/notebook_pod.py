"""The image of the notebook's own pod, for runs that name no image.

A cell that works in the notebook should work in its Job, and the surest way
is the same libraries: in a cluster (JupyterHub on Kubernetes, Kubeflow),
the kernel runs in a pod whose image already has them. The pod's name is
its hostname and its namespace is the service account's, so one ``get`` of
one pod answers, once per kernel. Outside a pod, or when the pod cannot be
read, there is no answer and the configured fallback applies.
"""

from __future__ import annotations

import logging
import os
import threading

from dh_jupyter.cluster import detect
from dh_jupyter.cluster.client import Cluster
from dh_jupyter.errors import ClusterError, ClusterUnavailableError

logger = logging.getLogger(__name__)

# JupyterHub's KubeSpawner and Kubeflow name the kernel's container so.
NOTEBOOK_CONTAINERS = ("notebook", "jupyter")

_found: dict[str, str] = {}
_lock = threading.Lock()


def notebook_image(cluster: Cluster) -> str:
    """The notebook pod's image, or ``""`` outside a pod or when unreadable."""
    if not detect.in_cluster():
        return ""
    pod = os.environ.get("HOSTNAME", "")
    namespace_file = detect.SERVICE_ACCOUNT_DIR / "namespace"
    if not pod or not namespace_file.is_file():
        return ""
    return pod_image(cluster, pod, namespace_file.read_text().strip())


def pod_image(cluster: Cluster, pod: str, namespace: str) -> str:
    """The image of the notebook container of ``pod``, asked once and kept."""
    key = f"{namespace}/{pod}"
    with _lock:
        if key in _found:
            return _found[key]
        try:
            body = cluster.get("pods", pod, namespace)
        except ClusterUnavailableError as error:
            # Not fatal, and perhaps passing: the next run asks again.
            logger.info(
                "Could not reach the cluster to read the notebook's pod %s (%s); "
                "this run uses the default image.",
                key,
                error,
            )
            return ""
        except ClusterError as error:
            # Not fatal, and lasting (no Role to read pods): asked only once.
            logger.info(
                "Could not read the notebook's pod %s (%s); runs without an image "
                "use the default one.",
                key,
                error,
            )
            body = {}
        containers = (body.get("spec") or {}).get("containers") or []
        named = [c for c in containers if c.get("name") in NOTEBOOK_CONTAINERS]
        chosen = (named or containers or [{}])[0]
        _found[key] = str(chosen.get("image") or "")
        return _found[key]
