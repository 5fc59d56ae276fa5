"""The picker's environment section: variables, and secrets as variables.

Environment variables are name and value pairs typed in the form. Secrets
are only ever named: the Job's container gets every key of each secret as
a variable (``envFrom``), and the picker lists the namespace's secret names
to choose from without reading a single value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.fields import Field
from dh_jupyter.widgets.rows import NameRow, PairRow, RowList
from dh_jupyter.widgets.section import Section


class EnvironmentSection(Section):
    """Environment variables and the secrets whose keys become variables."""

    title = "Environment"

    def __init__(self, **kwargs: Any) -> None:
        self._choices = ClusterChoices()
        self.env = RowList(
            "env",
            lambda: PairRow("name", "NAME, e.g. MY_SETTING", "value", strip=False),
            add_label="Add variable",
            on_change=self.changed,
        )
        self.secrets = RowList(
            "secrets",
            self._new_secret,
            add_label="Add secret",
            on_change=self.changed,
        )
        super().__init__(children=[self.env, self.secrets], **kwargs)

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """``env`` as ``{name, value}`` pairs and ``secrets`` as names."""
        state: dict[str, Any] = {}
        env = self.env.read()
        if env:
            state["env"] = env
        secrets = self.secrets.read()
        if secrets:
            state["secrets"] = secrets
        return state, []

    def fill(self, spec: RunSpec) -> None:
        """One row per variable and per secret of ``spec``."""
        with self.batch():
            self.env.fill([{"name": k, "value": v} for k, v in spec.env.items()])
            self.secrets.fill(list(spec.secrets))

    def all_fields(self) -> Iterator[Field]:
        """The fields of every variable and secret row."""
        yield from self.env.all_fields()
        yield from self.secrets.all_fields()

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer the namespace's secret names."""
        self._choices = choices
        for row in self.secrets.rows:
            assert isinstance(row, NameRow)
            self._offer(row)

    def _new_secret(self) -> NameRow:
        row = NameRow("secret name, e.g. hf-token")
        row.field.control.observe(lambda _change: self._describe(row), "value")
        self._offer(row)
        return row

    def _offer(self, row: NameRow) -> None:
        row.field.control.options = self._choices.secrets
        self._describe(row)

    def _describe(self, row: NameRow) -> None:
        name = row.field.control.value.strip()
        choices = self._choices
        known = choices.loaded and not ({"secrets", "cluster"} & set(choices.unread))
        if known and name and name not in choices.secrets:
            row.field.note = f'not found in namespace "{choices.namespace}"'
        else:
            row.field.note = ""
