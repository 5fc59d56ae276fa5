"""The picker's scheduling section: where the run's pod may land.

Tolerations, the node selector and the pod's labels are rows; the affinity
is YAML, because an affinity is a deep Kubernetes structure that users copy
from documentation rather than click together. When the cluster's nodes
could be read, the section suggests tolerations for the taints of the nodes
that match the chosen GPU model and node selector, one click each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

import ipywidgets as widgets
import yaml

from dh_jupyter.cluster.inventory import Taint
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.parse import TAINT_EFFECTS
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.fields import (
    DESCRIPTION_WIDTH,
    Field,
    text_control,
    whole_or_text,
)
from dh_jupyter.widgets.rows import PairRow, Row, RowList
from dh_jupyter.widgets.section import Section

AFFINITY_EXAMPLE = """\
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions:
      - {key: topology.kubernetes.io/zone, operator: In, values: [eu-west-1a]}"""
# Node label keys offered in the node selector, at most this many.
MAX_LABEL_KEYS = 200


class TolerationRow(Row):
    """One toleration: key, operator, value, effect and seconds."""

    def __init__(self) -> None:
        self.fields = {
            "key": Field(text_control("key, e.g. nvidia.com/gpu"), relative="key"),
            "operator": Field(
                widgets.Dropdown(
                    options=("Equal", "Exists"), layout=widgets.Layout(width="90px")
                ),
                relative="operator",
            ),
            "value": Field(text_control("value"), relative="value"),
            "effect": Field(
                widgets.Dropdown(
                    options=(("any effect", ""), *((e, e) for e in TAINT_EFFECTS)),
                    layout=widgets.Layout(width="150px"),
                ),
                relative="effect",
            ),
            "toleration_seconds": Field(
                text_control("seconds (NoExecute)"),
                relative="toleration_seconds",
                convert=whole_or_text,
            ),
        }
        for name, field in self.fields.items():
            field.add_class(f"dh-toleration-{name.replace('_', '-')}")
        super().__init__()
        self.add_class("dh-toleration-row")


class SchedulingSection(Section):
    """Tolerations (with suggestions), node selector, pod labels, affinity."""

    title = "Scheduling"

    def __init__(self, **kwargs: Any) -> None:
        self._choices = ClusterChoices()
        # Suggestions are redone from typing (the kernel's thread) and when
        # the lookup thread brings new nodes; one at a time.
        self._suggesting = threading.Lock()
        self._gpu_selector: dict[str, str] = {}
        self._gpu_resource = ""
        self._label_keys: tuple[str, ...] = ()
        self.tolerations = RowList(
            "tolerations",
            TolerationRow,
            add_label="Add toleration",
            on_change=self.changed,
        )
        self.suggested = widgets.Dropdown(
            options=(),
            description="Taints of matching nodes",
            style={"description_width": DESCRIPTION_WIDTH},
            layout=widgets.Layout(width="auto", display="none"),
        )
        self.suggested.add_class("dh-suggested-tolerations")
        self.tolerate_button = widgets.Button(
            description="Tolerate",
            icon="plus",
            tooltip="Add a toleration of the chosen taint",
            layout=widgets.Layout(display="none"),
        )
        self.tolerate_button.on_click(lambda _button: self.tolerate_suggested())
        self.node_selector = RowList(
            "node_selector",
            self._new_selector,
            add_label="Add node selector",
            on_change=self.changed,
        )
        self.labels = RowList(
            "labels",
            lambda: PairRow("name", "label, e.g. team", "value"),
            add_label="Add pod label",
            on_change=self.changed,
        )
        self.affinity = Field(
            widgets.Textarea(
                placeholder=AFFINITY_EXAMPLE,
                description="Affinity (YAML)",
                style={"description_width": DESCRIPTION_WIDTH},
                layout=widgets.Layout(width="95%", height="110px"),
            ),
            path="affinity",
        )
        self.affinity.add_class("dh-affinity")
        self.watch(self.affinity)
        super().__init__(
            children=[
                widgets.HTML("<b>Tolerations</b>"),
                self.tolerations,
                widgets.HBox([self.suggested, self.tolerate_button]),
                widgets.HTML("<b>Node selector</b>"),
                self.node_selector,
                widgets.HTML("<b>Pod labels</b>"),
                self.labels,
                self.affinity,
            ],
            **kwargs,
        )

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """Tolerations, node selector and labels as rows; the affinity parsed."""
        state: dict[str, Any] = {}
        for key, rows in (
            ("tolerations", self.tolerations),
            ("node_selector", self.node_selector),
            ("labels", self.labels),
        ):
            items = rows.read()
            if items:
                state[key] = items

        problems = []
        text = self.affinity.control.value
        if text.strip():
            try:
                affinity = yaml.safe_load(text)
            except yaml.YAMLError as error:
                problems.append(SpecError("affinity", _yaml_problem(error)))
            else:
                if affinity is not None:
                    state["affinity"] = affinity
        return state, problems

    def fill(self, spec: RunSpec) -> None:
        """Show the spec's tolerations, node selector, labels and affinity."""
        with self.batch():
            self.tolerations.fill([asdict(t) for t in spec.tolerations])
            self.node_selector.fill(
                [{"key": k, "value": v} for k, v in spec.node_selector.items()]
            )
            self.labels.fill([{"name": k, "value": v} for k, v in spec.labels.items()])
            self.affinity.control.value = (
                yaml.safe_dump(dict(spec.affinity), sort_keys=False)
                if spec.affinity is not None
                else ""
            )

    def all_fields(self) -> Iterator[Field]:
        """Every row's fields and the affinity."""
        yield from self.tolerations.all_fields()
        yield from self.node_selector.all_fields()
        yield from self.labels.all_fields()
        yield self.affinity

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer node label keys, and suggest tolerations of the nodes' taints."""
        self._choices = choices
        keys = sorted({key for node in choices.nodes for key in node.labels})
        self._label_keys = tuple(keys[:MAX_LABEL_KEYS])
        for row in self.node_selector.rows:
            row.fields["key"].control.options = self._label_keys
        self.suggest()

    def select_gpu(self, selector: Mapping[str, str], *, resource: str = "") -> None:
        """Take the GPU model's node label, and the GPUs asked for, into account.

        ``resource`` (``nvidia.com/gpu``) is given when the run asks for
        GPUs: only nodes that have it are then where the run could land.
        """
        self._gpu_selector = dict(selector)
        self._gpu_resource = resource
        self.suggest()

    def suggest(self) -> None:
        """Offer tolerations for taints of the nodes the run could land on."""
        with self._suggesting:
            selector = {**self._selector(), **self._gpu_selector}
            taints = self._choices.suggested_tolerations(
                selector,
                self.state.get("tolerations", []),
                gpu_resource=self._gpu_resource,
            )
            chosen = self.suggested.value
            self.suggested.options = tuple((t.describe(), t) for t in taints)
            # A Dropdown keeps no selection when its options change; keep the
            # user's if it is still offered, else take the first.
            if taints:
                self.suggested.value = chosen if chosen in taints else taints[0]
            shown = "" if taints else "none"
            self.suggested.layout.display = shown
            self.tolerate_button.layout.display = shown

    def tolerate_suggested(self) -> None:
        """Add a toleration of the taint chosen in the suggestions."""
        taint = self.suggested.value
        if isinstance(taint, Taint):
            self.tolerations.add(taint.toleration())

    def changed(self) -> None:
        """Re-read the section and bring the suggestions up to date."""
        super().changed()
        if not self._depth:
            self.suggest()

    def _new_selector(self) -> PairRow:
        row = PairRow("key", "node label, e.g. kubernetes.io/arch", "value")
        row.fields["key"].control.options = self._label_keys
        return row

    def _selector(self) -> dict[str, str]:
        return {
            item["key"]: str(item.get("value", ""))
            for item in self.state.get("node_selector", [])
            if isinstance(item, Mapping) and item.get("key")
        }


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One sentence about YAML that does not parse, with where it went wrong."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "it is not valid YAML"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"the YAML does not parse{where}: {problem}; fix it or clear the field."
