"""The picker's building block: one input with its note and its problem.

A ``Field`` is one stock input (``Text``, ``Combobox``, ``Dropdown``,
``Checkbox``, ``Textarea``) with the path of the run spec key it edits, a
note (a converted value, what the cluster knows of a name) and the spec
layer's sentence about it when it is wrong. ``place_problems`` puts each of
the spec layer's problems beside the field its path names. Nothing here
knows which spec keys exist; the sections do.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Unicode, observe

from dh_jupyter.spec import SpecError

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


_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\])$")


def field_for(
    path: str, by_path: Mapping[str, Field], fields: Sequence[Field]
) -> Field | None:
    """The field a problem at ``path`` belongs beside, if any."""
    # A deeper path (a key inside the affinity) belongs to the field holding it.
    probe = path
    while probe:
        if probe in by_path:
            return by_path[probe]
        shorter = _LAST_STEP.sub("", probe)
        if shorter == probe:
            break
        probe = shorter
    # A shallower path (a whole volume) goes beside its first field.
    if not path:
        return None
    inside = (f"{path}.", f"{path}[")
    return next((field for field in fields if field.path.startswith(inside)), None)


def place_problems(problems: Iterable[SpecError], fields: Sequence[Field]) -> list[str]:
    """Show each problem beside its field; return those that fit no field."""
    by_path = {field.path: field for field in fields if field.path}
    found: dict[int, list[str]] = {}
    general: list[str] = []
    for error in problems:
        field = field_for(error.field, by_path, fields)
        if field is None:
            general.append(str(error))
        else:
            found.setdefault(id(field), []).append(error.problem)
    for field in fields:
        field.problem = " ".join(found.get(id(field), []))
    return general
