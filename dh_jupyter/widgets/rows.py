"""Editable lists in the picker: tolerations, volumes, variables, secrets.

A ``RowList`` holds ``Row``s under one spec key, with an add button below
and a remove button on each row. Each row's fields carry the row's index in
their paths (``tolerations[1].effect``), renumbered when a row goes, so a
problem the spec layer reports for the second toleration lands beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import ipywidgets as widgets
from traitlets import Int

from dh_jupyter.spec.keys import at
from dh_jupyter.widgets.fields import Field, text_control


def remove_button() -> widgets.Button:
    """The trash-can button that removes one row."""
    button = widgets.Button(
        icon="trash", tooltip="Remove this row", layout=widgets.Layout(width="36px")
    )
    button.add_class("dh-remove")
    return button


class Row(widgets.HBox):
    """One entry of a list: its fields side by side and a remove button.

    Subclasses set ``fields`` (relative path → field) before calling
    ``super().__init__`` and may override ``read`` and ``fill``.
    """

    fields: dict[str, Field]
    #: A row that is one value (a secret name) rather than a mapping.
    single: ClassVar[bool] = False

    def __init__(
        self,
        children: list[widgets.Widget] | None = None,
        *,
        remove: widgets.Button | None = None,
        **kwargs: Any,
    ) -> None:
        # A subclass that lays its fields out itself places its own remove
        # button in ``children`` and passes it as ``remove``.
        self.remove_button = remove or remove_button()
        if children is None:
            children = [*self.fields.values(), self.remove_button]
        kwargs.setdefault("layout", widgets.Layout(flex_flow="row wrap"))
        super().__init__(children=children, **kwargs)

    def read(self) -> Any:
        """The row's entry for the run spec."""
        if self.single:
            return next(iter(self.fields.values())).value or ""
        return {
            name: value
            for name, field in self.fields.items()
            if (value := field.value) is not None
        }

    def fill(self, item: Any) -> None:
        """Show ``item`` (what ``read`` returns) in the row's fields."""
        if self.single:
            next(iter(self.fields.values())).fill(item)
            return
        for name, field in self.fields.items():
            field.fill(item.get(name) if isinstance(item, Mapping) else None)

    def all_fields(self) -> Iterator[Field]:
        """Every field of the row, shown or not."""
        yield from self.fields.values()


class RowList(widgets.VBox):
    """An editable list of rows under one spec key, with an add button."""

    count = Int(
        0,
        help="""How many rows the list has; changes when a row is added or
        removed, and the picker recomputes the spec when it does.""",
    )

    def __init__(
        self,
        key: str,
        make_row: Callable[[], Row],
        *,
        add_label: str,
        on_change: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        self.key = key
        self._make_row = make_row
        self._on_change = on_change
        self._rows = widgets.VBox()
        self.add_button = widgets.Button(
            description=add_label,
            icon="plus",
            layout=widgets.Layout(width="max-content"),
        )
        self.add_button.add_class(f"dh-add-{key.replace('_', '-')}")
        self.add_button.on_click(lambda _button: self.add())
        super().__init__(children=[self._rows, self.add_button], **kwargs)

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows, in order."""
        return tuple(self._rows.children)

    def add(self, item: Any = None) -> Row:
        """Append a row, filled with ``item`` when given, and return it."""
        row = self._new_row(item)
        self._rows.children = (*self._rows.children, row)
        self._renumber()
        return row

    def remove(self, row: Row) -> None:
        """Take ``row`` out of the list."""
        self._rows.children = tuple(r for r in self._rows.children if r is not row)
        self._renumber()

    def fill(self, items: list[Any]) -> None:
        """Replace every row with one per item."""
        self._rows.children = tuple(self._new_row(item) for item in items)
        self._renumber()

    def read(self) -> list[Any]:
        """Every row's entry, in order."""
        return [row.read() for row in self.rows]

    def all_fields(self) -> Iterator[Field]:
        """Every field of every row."""
        for row in self.rows:
            yield from row.all_fields()

    def _new_row(self, item: Any) -> Row:
        row = self._make_row()
        if item is not None:
            row.fill(item)
        for field in row.all_fields():
            field.control.observe(lambda _change: self._on_change(), "value")
        row.remove_button.on_click(lambda _button: self.remove(row))
        return row

    def _renumber(self) -> None:
        # Paths carry the row's index, so they change when a row is removed.
        for index, row in enumerate(self.rows):
            base = at(self.key, index)
            for field in row.all_fields():
                field.path = f"{base}.{field.relative}" if field.relative else base
        self.count = len(self.rows)
        self._on_change()


class PairRow(Row):
    """A key and a value: an environment variable, a label, a node selector."""

    def __init__(
        self, key_name: str, key_hint: str, value_hint: str, *, strip: bool = True
    ) -> None:
        self.fields = {
            key_name: Field(text_control(key_hint, options=True), relative=key_name),
            "value": Field(text_control(value_hint), relative="value", strip=strip),
        }
        super().__init__()


class NameRow(Row):
    """One object name: a secret, an image pull secret."""

    single = True

    def __init__(self, hint: str) -> None:
        self.fields = {"": Field(text_control(hint, options=True))}
        super().__init__()

    @property
    def field(self) -> Field:
        """The row's only field."""
        return self.fields[""]
