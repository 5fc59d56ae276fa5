"""The picker's building blocks: a field with its problem beside it, and rows.

A ``Field`` is one stock input (``Text``, ``Combobox``, ``Dropdown``,
``Checkbox``, ``Textarea``) with the path of the run spec key it edits, a
note (a converted value, what the cluster knows of a name) and the spec
layer's sentence about it when it is wrong. A ``RowList`` is an editable list
of ``Row``s (tolerations, volumes, environment variables) with an add button
and a remove button per row. Nothing here knows which spec keys exist; the
sections do.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import ipywidgets as widgets
from traitlets import Bool, Dict, Instance, Int, List, Unicode, observe

from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.keys import at

DESCRIPTION_WIDTH = "150px"
ERROR_COLOR = "var(--jp-error-color1, #d32f2f)"
NOTE_COLOR = "var(--jp-ui-font-color2, #616161)"


def escaped(text: str) -> str:
    """``text`` safe to put inside an HTML widget."""
    return html.escape(text, quote=False)


def text_control(
    placeholder: str = "", *, description: str = "", options: bool = False
) -> widgets.Text:
    """A ``Text`` (or a ``Combobox`` when ``options`` will come) for one value."""
    kind = widgets.Combobox if options else widgets.Text
    return kind(
        placeholder=placeholder,
        description=description,
        style={"description_width": DESCRIPTION_WIDTH if description else "0px"},
        layout=widgets.Layout(width="auto" if description else "170px"),
    )


class Field(widgets.HBox):
    """One input of the form, with a note and the problem shown beside it.

    ``value`` is what the run spec gets: ``None`` when the field is empty
    (the key is left out), the stripped text otherwise. A field whose
    control has a meaningful default (a checkbox, a dropdown) gives its value
    only once it was loaded or touched, so loading a spec and reading it back
    gives the same spec.
    """

    path = Unicode(
        "",
        help="""Where the value sits in the run spec, such as
        "resources.cpu.requests" or "volumes[0].mount_path"; the spec layer's
        errors with this path are shown beside this field.""",
    )
    problem = Unicode(
        "",
        help="""The spec layer's sentence about the value, shown beside the
        field in the error colour; empty when the value is fine.""",
    )
    note = Unicode(
        "",
        help="""A hint shown beside the input: a quantity's converted value,
        or what the cluster knows of the name typed. Never an error.""",
    )
    touched = Bool(
        False,
        help="""Whether the value was loaded or changed by the user, so a
        default checkbox or dropdown value is still written to the spec.""",
    )

    def __init__(
        self,
        control: widgets.ValueWidget,
        *,
        path: str = "",
        relative: str = "",
        convert: Callable[[Any], Any] | None = None,
        strip: bool = True,
        **kwargs: Any,
    ) -> None:
        self.control = control
        self.relative = relative
        self._convert = convert
        self._strip = strip
        self._default = control.value
        self._filling = False
        self._note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 6px"))
        self._problem = widgets.HTML(layout=widgets.Layout(margin="0 0 0 6px"))
        self._problem.add_class("dh-problem")
        super().__init__(
            children=[control, self._note, self._problem],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
            **kwargs,
        )
        self.path = path
        control.observe(self._on_edit, "value")

    @property
    def value(self) -> Any:
        """The value for the run spec, or ``None`` to leave the key out."""
        raw = self.control.value
        if isinstance(self.control, (widgets.Text, widgets.Textarea)):
            # Names never have spaces at their ends; a variable's value may.
            if self._strip:
                raw = raw.strip()
            if not raw:
                return None
        elif not self.touched and raw == self._default:
            return None
        return self._convert(raw) if self._convert else raw

    def fill(self, value: Any) -> None:
        """Show ``value`` (``None`` resets the field to empty)."""
        self._filling = True
        try:
            if value is None:
                self.control.value = self._default
            elif isinstance(self._default, str):
                self.control.value = str(value)
            else:
                self.control.value = value
        finally:
            self._filling = False
        self.touched = value is not None

    def _on_edit(self, change: dict[str, Any]) -> None:
        if not self._filling:
            self.touched = True

    @observe("problem")
    def _show_problem(self, change: dict[str, Any]) -> None:
        text = change["new"]
        self._problem.value = (
            f'<span style="color: {ERROR_COLOR}">{escaped(text)}</span>' if text else ""
        )

    @observe("note")
    def _show_note(self, change: dict[str, Any]) -> None:
        text = change["new"]
        self._note.value = (
            f'<span style="color: {NOTE_COLOR}">{escaped(text)}</span>' if text else ""
        )


def whole_or_text(value: str) -> int | str:
    """``"3"`` → ``3``; anything else is left for the spec layer to judge."""
    return int(value) if value.isdigit() else value


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

    def __init__(self, children: list[widgets.Widget] | None = None, **kwargs: Any):
        # Subclasses that lay their fields out themselves build the button
        # first and place it in ``children``.
        if not hasattr(self, "remove_button"):
            self.remove_button = remove_button()
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


class Section(widgets.VBox):
    """One part of the form (resources, volumes, ...) and the spec keys it edits.

    A section reads its fields into ``state`` (seed-shaped spec keys, as
    typed) whenever one changes, and counts ``revision`` up so the picker
    knows to check the whole spec again. Problems a section finds itself
    (YAML that does not parse) are in ``problems``.
    """

    title: ClassVar[str] = ""

    state = Dict(
        help="""The run spec keys this section edits, in the seed's dict
        shape, exactly as typed (not yet checked).""",
    )
    problems = List(
        Instance(SpecError),
        help="""Problems this section finds before the spec layer can look,
        such as affinity YAML that does not parse.""",
    )
    revision = Int(
        0,
        help="""Counts the section's edits; the picker checks the spec again
        each time it changes.""",
    )

    def __init__(self, **kwargs: Any) -> None:
        self._depth = 0
        super().__init__(**kwargs)
        self.changed()

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """The section's spec keys and its own problems, from the fields."""
        raise NotImplementedError

    def fill(self, spec: RunSpec) -> None:
        """Show what ``spec`` says about this section's keys."""
        raise NotImplementedError

    def all_fields(self) -> Iterator[Field]:
        """Every field, shown or not, so problems can be put beside them."""
        raise NotImplementedError

    def watch(self, *fields: Field) -> None:
        """Re-read the section whenever one of ``fields`` changes."""
        for field in fields:
            field.control.observe(lambda _change: self.changed(), "value")

    def changed(self) -> None:
        """Re-read the fields, unless a batch of edits is under way."""
        if self._depth:
            return
        state, problems = self.read()
        self.state = state
        self.problems = problems
        self.revision += 1

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make many edits and re-read the section once at the end."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        self.changed()


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
