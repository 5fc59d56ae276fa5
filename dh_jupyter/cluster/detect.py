"""Whether a cluster is configured, answered without importing ``kubernetes``.

Choosing the backend happens when the first cell runs; loading the
Kubernetes client (half a second to three seconds) just to learn that there
is no kubeconfig would slow down every local run.
"""

from __future__ import annotations

import os
from pathlib import Path

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster() -> bool:
    """Whether this process runs in a pod with a service account token."""
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and (SERVICE_ACCOUNT_DIR / "token").is_file()
    )


def kubeconfig_paths() -> list[Path]:
    """The kubeconfig files ``kubectl`` would read, those that exist."""
    listed = os.environ.get("KUBECONFIG")
    if listed:
        candidates = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    else:
        candidates = [Path("~/.kube/config").expanduser()]
    return [path for path in candidates if path.is_file()]


def cluster_configured() -> str:
    """How the cluster would be reached ("in-cluster", a kubeconfig path) or ``""``."""
    if in_cluster():
        return "in-cluster"
    paths = kubeconfig_paths()
    return str(paths[0]) if paths else ""
