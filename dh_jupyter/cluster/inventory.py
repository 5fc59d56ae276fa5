"""What the cluster offers, for the ResourcePicker's choices. Read-only.

Each lookup returns plain dataclasses: claims with their access modes and
phase, ConfigMap and Secret names, nodes with their labels, taints and
allocatable resources, GPU models with how many GPUs their nodes can give,
and Kueue LocalQueues. The nodes are listed once: GPU models are counted
from that list, and the picker works out which taints to tolerate from it
as the user types. The picker's choices hold these same classes; importing
this module does not import ``kubernetes`` (the client is made on the first
lookup). Secrets are listed as metadata only (``PartialObjectMetadata``):
their values are never asked for, and nothing but names leaves this module.

A cluster that cannot be read raises ``ClusterError`` (for example
``PermissionDeniedError`` naming the RBAC rule); a cluster without Kueue
simply has no queues.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from dh_jupyter.cluster.client import Cluster
from dh_jupyter.cluster.connect import connect
from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.errors import NotFoundError
from dh_jupyter.manifest import naming

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim a run can mount."""

    name: str
    access_modes: tuple[str, ...] = ()
    phase: str = ""
    storage: str = ""
    storage_class: str = ""


@dataclass(frozen=True)
class Taint:
    """A node taint: pods land on the node only if they tolerate it."""

    key: str
    value: str = ""
    effect: str = ""

    def toleration(self) -> dict[str, str]:
        """The toleration (run-spec shape) that lets a run onto the node."""
        found = {"key": self.key, "operator": "Equal" if self.value else "Exists"}
        if self.value:
            found["value"] = self.value
        if self.effect:
            found["effect"] = self.effect
        return found

    def describe(self) -> str:
        """``nvidia.com/gpu=present:NoSchedule``, as ``kubectl`` writes taints."""
        text = f"{self.key}={self.value}" if self.value else self.key
        return f"{text}:{self.effect}" if self.effect else text


@dataclass(frozen=True)
class Node:
    """A node's name, labels, taints and allocatable resources."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    allocatable: Mapping[str, str] = field(default_factory=dict)

    def matches(self, selector: Mapping[str, str]) -> bool:
        """Whether a run with ``selector`` as its node selector may land here."""
        return all(self.labels.get(key) == value for key, value in selector.items())

    def gpus(self, resource: str) -> int:
        """How many of ``resource`` (``nvidia.com/gpu``) the node can give."""
        return _whole(self.allocatable.get(resource, "0"))


@dataclass(frozen=True)
class GpuProduct:
    """A GPU model (the node label's value) and how many GPUs its nodes have."""

    product: str
    nodes: int
    allocatable: int
    most_per_node: int = 0


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

    def nodes(self) -> list[Node]:
        """Every node, with its labels, taints and allocatable resources."""
        items, _ = self.cluster.list_objects("nodes", "")
        found = []
        for item in items:
            metadata = item.get("metadata") or {}
            taints = tuple(
                Taint(t.get("key", ""), t.get("value", ""), t.get("effect", ""))
                for t in (item.get("spec") or {}).get("taints") or ()
            )
            allocatable = (item.get("status") or {}).get("allocatable") or {}
            found.append(
                Node(
                    name=metadata.get("name", ""),
                    labels=dict(metadata.get("labels") or {}),
                    taints=taints,
                    allocatable={str(k): str(v) for k, v in allocatable.items()},
                )
            )
        return sorted(found, key=lambda node: node.name)

    def gpu_products(self, nodes: Iterable[Node] | None = None) -> list[GpuProduct]:
        """GPU models from the nodes' product label, with allocatable GPUs.

        Give ``nodes`` already read (``nodes()``) to count them without
        listing the nodes again.
        """
        return gpu_products(
            self.nodes() if nodes is None else nodes,
            label=self.config.gpu_product_label,
            resource=self.config.gpu_resource,
        )

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


def gpu_products(
    nodes: Iterable[Node], *, label: str, resource: str
) -> list[GpuProduct]:
    """The GPU models ``nodes`` carry in ``label``, with their ``resource`` counts."""
    by_product: dict[str, list[int]] = {}
    for node in nodes:
        product = node.labels.get(label)
        if product:
            by_product.setdefault(product, []).append(node.gpus(resource))
    return [
        GpuProduct(product, len(counts), sum(counts), max(counts))
        for product, counts in sorted(by_product.items())
    ]


def _whole(quantity: object) -> int:
    try:
        return int(Decimal(str(quantity)))
    except (InvalidOperation, ValueError):
        return 0
