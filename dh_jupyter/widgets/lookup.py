"""Reading the picker's choices from the cluster, or saying why it cannot.

This is the only place the picker touches the cluster layer (through
``dh_jupyter.cluster.inventory``), and it runs in the picker's lookup thread
(``choices.ChoicesLoader``), never on a keystroke. When runs do not go to a
cluster (the local backend, no credentials) nothing is read and the
picker's note says so; the fields stay free text.

Each kind of object is read on its own, so a missing permission for one
(listing Secrets is often forbidden) only leaves that one field free text.
A cluster that cannot be reached at all stops the lookup at the first call
rather than waiting out a timeout per kind.

Nodes are listed once per lookup with their labels, taints and allocatable
resources: the GPU models are counted from that list, and the tolerations
suggested for a GPU model or node selector are worked out from it as the
user types, without asking the cluster again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from dh_jupyter.cluster.detect import cluster_configured
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import ClusterError, ClusterUnavailableError, CredentialsError
from dh_jupyter.widgets.choices import ClusterChoices

logger = logging.getLogger(__name__)

T = TypeVar("T")


def why_no_cluster(config: DhJupyter) -> str:
    """Why the cluster is not read for this configuration; ``""`` if it is."""
    if config.backend == "local":
        return (
            'runs use the local backend (DhJupyter.backend is "local"), so '
            "there is no cluster to read."
        )
    if config.backend == "auto" and not cluster_configured():
        return "no cluster is configured (no service account, no kubeconfig)."
    return ""


def read_cluster(namespace: str, config: DhJupyter) -> ClusterChoices:
    """What ``namespace`` (empty: the configured one) offers the picker."""
    reason = why_no_cluster(config)
    if reason:
        return ClusterChoices(
            namespace=namespace, unread={"cluster": reason}, loaded=True
        )

    from dh_jupyter.cluster.inventory import Inventory

    inventory = Inventory(config=config, namespace=namespace)
    unread: dict[str, str] = {}

    def read(what: str, lookup: Callable[[], T]) -> T | None:
        if "cluster" in unread:
            return None
        try:
            return lookup()
        except (CredentialsError, ClusterUnavailableError) as error:
            # Every other lookup would fail the same way, slowly.
            unread["cluster"] = str(error)
        except ClusterError as error:
            unread[what] = str(error)
        logger.info(
            "The picker could not read %s, so that field stays free text: %s",
            what,
            unread.get(what) or unread.get("cluster"),
        )
        return None

    claims = read("claims", lambda: tuple(inventory.claims())) or ()
    name = read(
        "namespace",
        lambda: namespace or config.namespace or inventory.cluster.namespace,
    )
    config_maps = read("config_maps", lambda: tuple(inventory.config_maps())) or ()
    secrets = read("secrets", lambda: tuple(inventory.secrets())) or ()
    nodes = read("nodes", lambda: tuple(inventory.nodes()))
    # Counted from the nodes just read: listing them again would cost a
    # second request and could disagree with the first.
    gpus = tuple(inventory.gpu_products(nodes)) if nodes is not None else ()
    queues = read("queues", lambda: tuple(q.name for q in inventory.local_queues()))
    return ClusterChoices(
        namespace=name or namespace,
        claims=claims,
        config_maps=config_maps,
        secrets=secrets,
        gpus=gpus,
        nodes=nodes or (),
        queues=queues or (),
        unread=unread,
        loaded=True,
    )
