"""The picker's volumes section: rows of the seed's four volume types.

Every row has a type, a name and a mount path; below them it shows only the
fields its type needs (the claim for a persistent volume claim, the config
map's or secret's name, the size limit and medium of an empty dir). The
other types' fields stay in the row, hidden, so switching the type back and
forth does not lose what was typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets

from dh_jupyter.manifest.naming import slug
from dh_jupyter.spec import RunSpec, SpecError, Volume
from dh_jupyter.spec.names import dns_label
from dh_jupyter.widgets.choices import ClusterChoices, describe_claim
from dh_jupyter.widgets.fields import Field, text_control
from dh_jupyter.widgets.rows import Row, RowList, remove_button
from dh_jupyter.widgets.section import Section

TYPES = (
    ("claim (PVC)", "persistent_volume_claim"),
    ("config map", "config_map"),
    ("secret", "secret"),
    ("empty dir", "empty_dir"),
)
# The spec key of each type's object name, the field that offers names.
OBJECT_KEY = {
    "persistent_volume_claim": "claim_name",
    "config_map": "name",
    "secret": "secret_name",
}


def _dropdown(options: Any, description: str = "") -> widgets.Dropdown:
    return widgets.Dropdown(
        options=options,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="auto"),
    )


class VolumeRow(Row):
    """One volume: type, name and mount path, then its type's own fields."""

    def __init__(self, choices: ClusterChoices) -> None:
        self.volume_type = Field(_dropdown(TYPES), relative="volume_type")
        self.name = Field(text_control("name, e.g. data"), relative="name")
        self.mount_path = Field(
            text_control("mount path, e.g. /data"), relative="mount_path"
        )
        self.by_type: dict[str, dict[str, Field]] = {
            "persistent_volume_claim": {
                "claim_name": Field(
                    text_control("claim name", options=True),
                    relative="spec.claim_name",
                ),
                "read_only": Field(
                    widgets.Checkbox(description="read-only", indent=False),
                    relative="spec.read_only",
                ),
            },
            "config_map": {
                "name": Field(
                    text_control("config map name", options=True),
                    relative="spec.name",
                )
            },
            "secret": {
                "secret_name": Field(
                    text_control("secret name", options=True),
                    relative="spec.secret_name",
                )
            },
            "empty_dir": {
                "size_limit": Field(
                    text_control("size limit, e.g. 1Gi"), relative="spec.size_limit"
                ),
                "medium": Field(
                    _dropdown((("on the node's disk", ""), ("in memory", "Memory"))),
                    relative="spec.medium",
                ),
            },
        }
        self.fields = {
            "volume_type": self.volume_type,
            "name": self.name,
            "mount_path": self.mount_path,
        }
        for kind, own in self.by_type.items():
            for key, field in own.items():
                field.add_class(f"dh-volume-{kind}-{key}".replace("_", "-"))
                self.fields[f"spec.{kind}.{key}"] = field
        self.volume_type.add_class("dh-volume-type")
        self.name.add_class("dh-volume-name")
        self.mount_path.add_class("dh-volume-mount-path")
        self._choices = choices
        self._auto_name = ""

        remove = remove_button()
        top = widgets.HBox(
            [self.volume_type, self.name, self.mount_path, remove],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        own_fields = [f for own in self.by_type.values() for f in own.values()]
        below = widgets.HBox(
            own_fields,
            layout=widgets.Layout(flex_flow="row wrap", margin="0 0 0 24px"),
        )
        super().__init__(
            children=[widgets.VBox([top, below])],
            remove=remove,
            layout=widgets.Layout(
                border="1px solid var(--jp-border-color2, #e0e0e0)",
                padding="4px",
                margin="2px 0",
            ),
        )
        self.add_class("dh-volume-row")
        self.volume_type.control.observe(lambda _change: self._show_type(), "value")
        for kind, key in OBJECT_KEY.items():
            self.by_type[kind][key].control.observe(
                lambda change: self._object_named(change["new"]), "value"
            )
        self._show_type()

    @property
    def kind(self) -> str:
        """The volume type chosen in the row."""
        kind: str = self.volume_type.control.value
        return kind

    def read(self) -> dict[str, Any]:
        """The seed's volume dict; empty fields are left out for the spec to name."""
        item: dict[str, Any] = {"volume_type": self.kind}
        for key, field in (("name", self.name), ("mount_path", self.mount_path)):
            if field.value is not None:
                item[key] = field.value
        item["spec"] = {
            key: value
            for key, field in self.by_type[self.kind].items()
            if (value := field.value) is not None
        }
        return item

    def fill(self, item: Any) -> None:
        """Show a ``Volume`` (or its seed dict)."""
        if isinstance(item, Volume):
            item = {
                "volume_type": item.volume_type,
                "name": item.name,
                "mount_path": item.mount_path,
                "spec": dict(item.spec),
            }
        self.volume_type.fill(item.get("volume_type") or "persistent_volume_claim")
        self.name.fill(item.get("name"))
        self.mount_path.fill(item.get("mount_path"))
        spec = item.get("spec") or {}
        for kind, own in self.by_type.items():
            for key, field in own.items():
                field.fill(spec.get(key) if kind == self.kind else None)
        self._auto_name = ""

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer the namespace's claims, config maps and secrets."""
        self._choices = choices
        options = {
            "persistent_volume_claim": tuple(c.name for c in choices.claims),
            "config_map": choices.config_maps,
            "secret": choices.secrets,
        }
        for kind, key in OBJECT_KEY.items():
            field = self.by_type[kind][key]
            field.control.options = options[kind]
            self._describe(kind, field)

    def _show_type(self) -> None:
        for kind, own in self.by_type.items():
            for field in own.values():
                field.layout.display = "" if kind == self.kind else "none"

    def _object_named(self, name: str) -> None:
        """Describe the chosen object, and name the volume after it if unnamed."""
        self._describe(self.kind, self.by_type[self.kind][OBJECT_KEY[self.kind]])
        typed = self.name.control.value.strip()
        candidate = slug(name, limit=63)
        if typed in ("", self._auto_name) and candidate and not dns_label(candidate):
            self._auto_name = candidate
            self.name.control.value = candidate

    def _describe(self, kind: str, field: Field) -> None:
        name = field.control.value.strip()
        choices = self._choices
        if not name or not choices.loaded or _unread(choices, kind):
            field.note = ""
        elif kind == "persistent_volume_claim" and (claim := choices.claim(name)):
            field.note = describe_claim(claim)
        elif name in field.control.options:
            field.note = ""
        else:
            field.note = f'not found in namespace "{choices.namespace}"'


def _unread(choices: ClusterChoices, kind: str) -> bool:
    key = {
        "persistent_volume_claim": "claims",
        "config_map": "config_maps",
        "secret": "secrets",
    }[kind]
    return key in choices.unread or "cluster" in choices.unread


class VolumesSection(Section):
    """Add and remove volumes of any of the four types."""

    title = "Volumes"

    def __init__(self, **kwargs: Any) -> None:
        self._choices = ClusterChoices()
        self.volumes = RowList(
            "volumes",
            self._new_row,
            add_label="Add volume",
            on_change=self.changed,
        )
        super().__init__(children=[self.volumes], **kwargs)

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """``volumes`` as typed."""
        items = self.volumes.read()
        return ({"volumes": items} if items else {}), []

    def fill(self, spec: RunSpec) -> None:
        """One row per volume of ``spec``."""
        with self.batch():
            self.volumes.fill(list(spec.volumes))

    def all_fields(self) -> Iterator[Field]:
        """Every field of every row."""
        yield from self.volumes.all_fields()

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer the namespace's objects in every row, present and future."""
        self._choices = choices
        for row in self.volumes.rows:
            assert isinstance(row, VolumeRow)
            row.use_choices(choices)

    def _new_row(self) -> VolumeRow:
        row = VolumeRow(self._choices)
        row.use_choices(self._choices)
        return row
