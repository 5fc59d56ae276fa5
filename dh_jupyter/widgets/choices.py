"""What the cluster offers the picker's fields, looked up once per picker.

The picker suggests names the cluster already has (claims with their
access modes, config maps, secrets, GPU models, Kueue queues) and
tolerations for the taints of the nodes a run would land on. Reading them
costs seconds (the first ``import kubernetes`` alone can take three), so the
lookup runs in a background thread when the picker is first shown, once,
and again only when the user presses Refresh; never on a keystroke.

Where the cluster cannot be read (no cluster configured, the local backend,
a permission missing) the fields stay free text and the picker says so in a
plain note, not as an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dh_jupyter.cluster.inventory import Claim, GpuProduct, Node, Taint
from dh_jupyter.errors import DhJupyterError

logger = logging.getLogger(__name__)


def describe_claim(claim: Claim) -> str:
    """``ReadWriteOnce, 10Gi, Bound``: what a user choosing the claim wants to know."""
    return ", ".join(
        part
        for part in (", ".join(claim.access_modes), claim.storage, claim.phase)
        if part
    )


@dataclass(frozen=True)
class ClusterChoices:
    """Everything the picker offers from the cluster, for one namespace.

    ``unread`` maps what could not be read (``"secrets"``, or ``"cluster"``
    when nothing could) to the sentence saying why, for the picker's note.
    """

    namespace: str = ""
    claims: tuple[Claim, ...] = ()
    config_maps: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    gpus: tuple[GpuProduct, ...] = ()
    nodes: tuple[Node, ...] = ()
    queues: tuple[str, ...] = ()
    unread: Mapping[str, str] = field(default_factory=dict)
    loaded: bool = False

    def summary(self) -> str:
        """One line on what the cluster offered, or why it offered nothing."""
        if "cluster" in self.unread:
            return f"Type names freely: {self.unread['cluster']}"
        counts = [
            (len(self.claims), "claim"),
            (len(self.config_maps), "config map"),
            (len(self.secrets), "secret"),
            (len(self.gpus), "GPU model"),
            (len(self.queues), "queue"),
        ]
        found = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
        text = f'From namespace "{self.namespace}": {found}.'
        if self.unread:
            missed = "; ".join(self.unread.values())
            text += f" Type the others freely ({missed})."
        return text

    def claim(self, name: str) -> Claim | None:
        """The claim called ``name``, if the namespace has it."""
        return next((claim for claim in self.claims if claim.name == name), None)

    def suggested_tolerations(
        self,
        node_selector: Mapping[str, str],
        tolerated: list[dict[str, Any]],
        *,
        gpu_resource: str = "",
    ) -> list[Taint]:
        """Taints of the nodes ``node_selector`` picks that nothing tolerates yet.

        With ``gpu_resource`` (the run asks for GPUs) only nodes that have
        that resource count, since the run cannot land anywhere else. With
        an empty selector and no GPU every node counts, which suggests every
        taint of the cluster; the user chooses.
        """
        found: dict[Taint, None] = {}
        for node in self.nodes:
            if gpu_resource and node.gpus(gpu_resource) < 1:
                continue
            if node.matches(node_selector):
                for taint in node.taints:
                    if not any(_tolerates(t, taint) for t in tolerated):
                        found.setdefault(taint)
        return list(found)


def _tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Whether ``toleration`` (seed or Kubernetes spelling) tolerates ``taint``."""
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    effect = toleration.get("effect") or ""
    if effect and effect != taint.effect:
        return False
    if operator == "Exists":
        return not key or key == taint.key
    return key == taint.key and (toleration.get("value") or "") == taint.value


Lookup = Callable[[str], ClusterChoices]


class ChoicesLoader:
    """Runs one lookup at a time in a background thread and hands over the result.

    ``on_loaded`` is called from the loader's thread with the new choices;
    the picker only sets widget options there, which ipywidgets sends from
    any thread.
    """

    def __init__(
        self, lookup: Lookup, on_loaded: Callable[[ClusterChoices], None]
    ) -> None:
        self._lookup = lookup
        self._on_loaded = on_loaded
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """Whether a lookup is running now."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self, namespace: str) -> threading.Thread:
        """Look up ``namespace``'s choices in a thread, unless one is running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self._thread
            self._thread = threading.Thread(
                target=self._run,
                args=(namespace,),
                name="dh-jupyter-picker-lookup",
                daemon=True,
            )
            self._thread.start()
            return self._thread

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running lookup, if any, is done."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, namespace: str) -> None:
        try:
            choices = self._lookup(namespace)
        except Exception as error:  # a lookup must never break the form
            # Only our own errors are sentences written for the user; any
            # other text may quote a server's reply, so it goes to the log.
            logger.warning(
                "Could not read the cluster's choices for the picker; its "
                "fields stay free text.",
                exc_info=True,
            )
            reason = (
                str(error)
                if isinstance(error, DhJupyterError)
                else f"the cluster could not be read ({type(error).__name__})."
            )
            choices = ClusterChoices(
                namespace=namespace, unread={"cluster": reason}, loaded=True
            )
        self._on_loaded(choices)
