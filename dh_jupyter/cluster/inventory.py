"""What the cluster offers, for the ResourcePicker's choices. Read-only.

Each lookup returns plain dataclasses: claims with their access modes and
phase, ConfigMap and Secret names, GPU models with how many GPUs their nodes
can give, node taints with the toleration that would match, and Kueue
LocalQueues. Secrets are listed as metadata only (``PartialObjectMetadata``):
their values are never asked for, and nothing but names leaves this module.

A cluster that cannot be read raises ``ClusterError`` (for example
``PermissionDeniedError`` naming the RBAC rule); a cluster without Kueue
simply has no queues.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from dh_jupyter.cluster.client import Cluster
from dh_jupyter.cluster.connect import connect
from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.errors import NotFoundError
from dh_jupyter.manifest import naming

logger = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim a run can mount."""

    name: str
    access_modes: tuple[str, ...]
    phase: str
    storage: str = ""
    storage_class: str = ""


@dataclass(frozen=True)
class GpuProduct:
    """A GPU model (the node label's value) and how many GPUs its nodes have."""

    product: str
    nodes: int
    allocatable: int


@dataclass(frozen=True)
class NodeTaint:
    """A taint, the nodes that carry it, and the toleration that matches it."""

    key: str
    value: str
    effect: str
    nodes: tuple[str, ...] = ()

    def toleration(self) -> dict[str, str]:
        """The toleration (run-spec shape) that lets a run onto these nodes."""
        if self.value:
            found = {"key": self.key, "operator": "Equal", "value": self.value}
        else:
            found = {"key": self.key, "operator": "Exists"}
        if self.effect:
            found["effect"] = self.effect
        return found


@dataclass(frozen=True)
class LocalQueue:
    """A Kueue LocalQueue runs can name in ``queue``."""

    name: str
    cluster_queue: str = ""
    pending: int = 0
    admitted: int = 0


@dataclass
class Inventory:
    """Lookups against the cluster and namespace ``config`` points at."""

    config: DhJupyter = field(default_factory=settings)
    namespace: str = ""
    _cluster: Cluster | None = None

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = Cluster(connect(self.config))
        return self._cluster

    def _namespace(self) -> str:
        return self.namespace or self.config.namespace or self.cluster.namespace

    def claims(self) -> list[Claim]:
        """The namespace's PersistentVolumeClaims, by name."""
        items, _ = self.cluster.list_objects(
            "persistentvolumeclaims", self._namespace()
        )
        found = []
        for item in items:
            spec, status = item.get("spec") or {}, item.get("status") or {}
            storage = (status.get("capacity") or {}).get("storage") or (
                (spec.get("resources") or {}).get("requests") or {}
            ).get("storage", "")
            found.append(
                Claim(
                    name=item["metadata"]["name"],
                    access_modes=tuple(spec.get("accessModes") or ()),
                    phase=status.get("phase", ""),
                    storage=str(storage),
                    storage_class=spec.get("storageClassName") or "",
                )
            )
        return sorted(found, key=lambda claim: claim.name)

    def config_maps(self) -> list[str]:
        """ConfigMap names, without the ones that carry dh_jupyter's cells."""
        items = self.cluster.list_metadata("configmaps", self._namespace())
        return sorted(
            item["metadata"]["name"]
            for item in items
            if (item["metadata"].get("labels") or {}).get(naming.MANAGED_BY)
            != naming.MANAGER
        )

    def secrets(self) -> list[str]:
        """Secret names only; their values are never read."""
        items = self.cluster.list_metadata("secrets", self._namespace())
        return sorted(item["metadata"]["name"] for item in items)

    def gpu_products(self) -> list[GpuProduct]:
        """GPU models from the nodes' product label, with allocatable GPUs."""
        label = self.config.gpu_product_label
        resource = self.config.gpu_resource
        counts: dict[str, tuple[int, int]] = {}
        for node in self._nodes():
            product = (node["metadata"].get("labels") or {}).get(label)
            if not product:
                continue
            allocatable = (node.get("status") or {}).get("allocatable") or {}
            gpus = _whole(allocatable.get(resource, "0"))
            nodes, total = counts.get(product, (0, 0))
            counts[product] = (nodes + 1, total + gpus)
        return [
            GpuProduct(product, nodes, total)
            for product, (nodes, total) in sorted(counts.items())
        ]

    def taints(
        self,
        *,
        gpu_product: str = "",
        node_selector: Mapping[str, str] | None = None,
    ) -> list[NodeTaint]:
        """Taints of the nodes a run could land on.

        With ``gpu_product`` or ``node_selector``, only nodes matching them
        count: their taints are what a run aimed there must tolerate.
        """
        wanted = dict(node_selector or {})
        if gpu_product:
            wanted[self.config.gpu_product_label] = gpu_product
        found: dict[tuple[str, str, str], list[str]] = {}
        for node in self._nodes():
            labels = node["metadata"].get("labels") or {}
            if any(labels.get(key) != value for key, value in wanted.items()):
                continue
            for taint in (node.get("spec") or {}).get("taints") or []:
                key = (
                    taint.get("key", ""),
                    taint.get("value", ""),
                    taint.get("effect", ""),
                )
                found.setdefault(key, []).append(node["metadata"]["name"])
        return [
            NodeTaint(key, value, effect, tuple(sorted(nodes)))
            for (key, value, effect), nodes in sorted(found.items())
        ]

    def local_queues(self) -> list[LocalQueue]:
        """Kueue LocalQueues of the namespace; none when Kueue is not installed."""
        try:
            items, _ = self.cluster.list_objects("localqueues", self._namespace())
        except NotFoundError:
            logger.debug("Kueue is not installed: the cluster serves no localqueues.")
            return []
        queues = []
        for item in items:
            status = item.get("status") or {}
            queues.append(
                LocalQueue(
                    name=item["metadata"]["name"],
                    cluster_queue=(item.get("spec") or {}).get("clusterQueue", ""),
                    pending=int(status.get("pendingWorkloads", 0) or 0),
                    admitted=int(status.get("admittedWorkloads", 0) or 0),
                )
            )
        return sorted(queues, key=lambda queue: queue.name)

    def _nodes(self) -> list[Obj]:
        items, _ = self.cluster.list_objects("nodes", "")
        return items


def _whole(quantity: object) -> int:
    try:
        return int(Decimal(str(quantity)))
    except (InvalidOperation, ValueError):
        return 0
