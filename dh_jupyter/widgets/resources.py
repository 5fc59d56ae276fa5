"""The picker's resources section: CPU, memory and GPUs, and the GPU model.

Each quantity is typed the way Kubernetes writes it (``500m``, ``16Gi``),
so what the user types is exactly what the Job gets; the converted value is
shown beside it (``= 0.5 CPU``, ``= 16 GiB (17.2 GB)``) so a unit mistake is
visible before the spec layer even complains. The GPU model offers the
products the cluster's nodes advertise, with how many are allocatable.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.quantity import QuantityError, parse_quantity
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.fields import Field, text_control
from dh_jupyter.widgets.section import Section

KINDS = {
    "cpu": ("CPU", "e.g. 500m or 2"),
    "mem": ("Memory", "e.g. 512Mi or 16Gi"),
    "gpu": ("GPU", "e.g. 1"),
}
_Units = tuple[tuple[str, int], ...]
_BINARY: _Units = tuple((f"{p}iB", 2 ** (10 * n)) for n, p in enumerate("KMGTPE", 1))
_DECIMAL: _Units = tuple((f"{p}B", 10 ** (3 * n)) for n, p in enumerate("kMGTPE", 1))


def _number(value: Decimal) -> str:
    """At most three significant digits below 1000, whole numbers above."""
    return f"{float(value):.3g}" if value < 1000 else f"{value:.0f}"


def _in_units(amount: Decimal, units: _Units) -> str:
    for unit, size in reversed(units):
        if amount >= size:
            return f"{_number(amount / size)} {unit}"
    return f"{_number(amount)} bytes"


def converted(kind: str, text: str) -> str:
    """What a quantity amounts to, in words: ``= 0.5 CPU``; ``""`` if unreadable."""
    try:
        amount = parse_quantity(text, memory=kind == "mem")
    except QuantityError:
        return ""
    if kind == "cpu":
        plural = "s" if amount > 1 else ""
        return f"= {_number(amount)} CPU{plural}"
    if kind == "gpu":
        plural = "s" if amount > 1 else ""
        return f"= {_number(amount)} GPU{plural}"
    binary, decimal = _in_units(amount, _BINARY), _in_units(amount, _DECIMAL)
    return f"= {binary}" if binary == decimal else f"= {binary} ({decimal})"


class ResourcesSection(Section):
    """Requests and limits of CPU, memory and GPUs, and the GPU model."""

    title = "Resources"

    def __init__(self, **kwargs: Any) -> None:
        self.quantities: dict[tuple[str, str], Field] = {}
        for kind, (label, example) in KINDS.items():
            for key, word in (("requests", "request"), ("limits", "limit")):
                field = Field(
                    text_control(example, description=f"{label} {word}"),
                    path=f"resources.{kind}.{key}",
                )
                field.add_class(f"dh-{kind}-{key}")
                field.control.observe(
                    lambda change, kind=kind, field=field: self._convert(kind, field),
                    "value",
                )
                self.quantities[kind, key] = field
        self.gpu_type = Field(
            text_control(
                "e.g. NVIDIA-A100-SXM4-80GB", description="GPU model", options=True
            ),
            path="gpu_type",
        )
        self.gpu_type.add_class("dh-gpu-type")
        self.gpu_type.control.observe(lambda _change: self._describe_gpu(), "value")
        self._choices = ClusterChoices()
        self.watch(*self.quantities.values(), self.gpu_type)
        super().__init__(children=[*self.quantities.values(), self.gpu_type], **kwargs)

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """``resources`` and ``gpu_type`` as typed."""
        resources: dict[str, dict[str, Any]] = {}
        for (kind, key), field in self.quantities.items():
            if field.value is not None:
                resources.setdefault(kind, {})[key] = field.value
        state: dict[str, Any] = {"resources": resources} if resources else {}
        if self.gpu_type.value is not None:
            state["gpu_type"] = self.gpu_type.value
        return state, []

    def fill(self, spec: RunSpec) -> None:
        """Show the spec's requests, limits and GPU model."""
        with self.batch():
            for (kind, key), field in self.quantities.items():
                field.fill(getattr(getattr(spec.resources, kind), key))
            self.gpu_type.fill(spec.gpu_type)

    def all_fields(self) -> Iterator[Field]:
        """The six quantities and the GPU model."""
        yield from self.quantities.values()
        yield self.gpu_type

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer the cluster's GPU products in the GPU model field."""
        self._choices = choices
        self.gpu_type.control.options = tuple(gpu.product for gpu in choices.gpus)
        self._describe_gpu()

    def _convert(self, kind: str, field: Field) -> None:
        field.note = converted(kind, field.control.value.strip())

    def _describe_gpu(self) -> None:
        """Say how many GPUs of the typed model the cluster can give."""
        gpus = self._choices.gpus
        typed = self.gpu_type.control.value.strip()
        if not gpus:
            self.gpu_type.note = ""
            return
        if not typed:
            self.gpu_type.note = "on the cluster: " + ", ".join(
                f"{gpu.product} ({gpu.allocatable})" for gpu in gpus
            )
            return
        found = [gpu for gpu in gpus if gpu.product == typed]
        if not found:
            self.gpu_type.note = "no node of the cluster advertises this model"
            return
        gpu = found[0]
        nodes = "node" if gpu.nodes == 1 else "nodes"
        self.gpu_type.note = (
            f"{gpu.allocatable} allocatable on {gpu.nodes} {nodes}, "
            f"at most {gpu.most_per_node} per node"
        )
