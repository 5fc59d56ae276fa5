"""The picker's sections: each edits a few of the run spec's keys.

A section (resources, volumes, environment, scheduling, Job) reads its
fields into the seed's dict shape as typed, without judging them: checking
is the spec layer's job, done by the picker on the whole spec at once, since
a problem often involves two sections (a GPU model against a node selector).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import ipywidgets as widgets
from traitlets import Dict, Instance, Int, List

from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.fields import Field


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

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer what the cluster has; sections without such fields ignore it."""

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
