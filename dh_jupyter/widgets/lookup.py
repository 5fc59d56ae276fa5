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

Nodes are listed once with their labels and taints, so the tolerations
suggested for a GPU model or node selector are worked out here as the user
types, without asking the cluster again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from dh_jupyter.cluster.detect import cluster_configured
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import ClusterError, ClusterUnavailableError, CredentialsError
from dh_jupyter.spec.quantity import QuantityError, parse_quantity
from dh_jupyter.widgets.choices import Claim, ClusterChoices, GpuProduct, Node, Taint

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

    claims = read("claims", lambda: _claims(inventory)) or ()
    name = read(
        "namespace",
        lambda: namespace or config.namespace or inventory.cluster.namespace,
    )
    config_maps = read("config_maps", lambda: tuple(inventory.config_maps())) or ()
    secrets = read("secrets", lambda: tuple(inventory.secrets())) or ()
    nodes = read("nodes", lambda: _nodes(inventory)) or ()
    gpus = read("gpus", lambda: _gpus(inventory, nodes, config)) or ()
    queues = read("queues", lambda: tuple(q.name for q in inventory.local_queues()))
    return ClusterChoices(
        namespace=name or namespace,
        claims=claims,
        config_maps=config_maps,
        secrets=secrets,
        gpus=gpus,
        nodes=nodes,
        queues=queues or (),
        unread=unread,
        loaded=True,
    )


def _claims(inventory: Any) -> tuple[Claim, ...]:
    return tuple(
        Claim(claim.name, claim.access_modes, claim.storage)
        for claim in inventory.claims()
    )


def _nodes(inventory: Any) -> tuple[Node, ...]:
    """Every node's name, labels, taints and allocatable resources, read once."""
    items, _version = inventory.cluster.list_objects("nodes", "")
    nodes = []
    for item in items:
        metadata = item.get("metadata") or {}
        taints = tuple(
            Taint(t.get("key", ""), t.get("value", ""), t.get("effect", ""))
            for t in (item.get("spec") or {}).get("taints") or ()
        )
        allocatable = (item.get("status") or {}).get("allocatable") or {}
        nodes.append(
            Node(
                metadata.get("name", ""),
                dict(metadata.get("labels") or {}),
                taints,
                {str(k): str(v) for k, v in allocatable.items()},
            )
        )
    return tuple(nodes)


def _gpus(
    inventory: Any, nodes: tuple[Node, ...], config: DhJupyter
) -> tuple[GpuProduct, ...]:
    """The inventory's GPU models, with the most one node of each can give."""
    products = []
    for gpu in inventory.gpu_products():
        per_node = [
            _count(node.allocatable.get(config.gpu_resource, "0"))
            for node in nodes
            if node.labels.get(config.gpu_product_label) == gpu.product
        ]
        products.append(
            GpuProduct(
                gpu.product, gpu.allocatable, gpu.nodes, max(per_node, default=0)
            )
        )
    return tuple(products)


def _count(quantity: str) -> int:
    """A node's allocatable GPUs; 0 when the node reports nonsense."""
    try:
        return int(parse_quantity(quantity))
    except QuantityError:
        return 0
