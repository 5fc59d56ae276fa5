"""Choosing where a run happens: the cluster, or this machine.

``"auto"`` means the cluster when credentials are found and this machine
otherwise; the caller is told which, with the reason, so a notebook can say
plainly that a cell ran locally.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from dh_jupyter.cluster.detect import cluster_configured
from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.runs.base import Backend
from dh_jupyter.spec.errors import SpecError
from dh_jupyter.spec.keys import closest

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "kubernetes", "local")
# The reasons already logged by this process: each is said once, like the
# magic's announcement is printed once per kernel.
_announced: set[str] = set()
_announced_lock = threading.Lock()


@dataclass(frozen=True)
class Choice:
    """The backend to use and, when it was picked automatically, why."""

    backend: Backend
    reason: str = ""

    def announce(self) -> bool:
        """Log the reason the first time this process meets it; whether it did."""
        if not self.reason:
            return False
        with _announced_lock:
            if self.reason in _announced:
                return False
            _announced.add(self.reason)
        logger.info("%s", self.reason)
        return True


def choose(name: str | None = None, config: DhJupyter | None = None) -> Choice:
    """The backend called ``name`` (or configured), made ready to use."""
    config = config or settings()
    name = name or config.backend
    if name not in BACKENDS:
        guess = closest(name, BACKENDS) or "auto"
        raise SpecError(
            "backend", f'"{name}" is not a backend; did you mean "{guess}"?'
        )

    reason = ""
    if name == "auto":
        found = cluster_configured()
        if found:
            name = "kubernetes"
        else:
            name = "local"
            reason = (
                "No Kubernetes cluster is configured (no service account, no "
                "kubeconfig), so cells run on this machine with the local backend."
            )

    if name == "kubernetes":
        from dh_jupyter.runs.kubernetes import KubernetesBackend

        return Choice(KubernetesBackend(config), reason)
    from dh_jupyter.runs.local import LocalBackend

    return Choice(LocalBackend(config), reason)
