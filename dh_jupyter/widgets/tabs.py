"""The picker's sections as tabs, and where each of the spec's problems shows.

A problem is only useful where the user is looking. So each goes beside
the field it concerns; a tab whose section has problems says how many in
its title, since a problem in a tab that is not open is otherwise
invisible; and what no field owns goes in a line under the tabs. This
module only places the sentences it is given: checking the spec is the
spec layer's job, done by the picker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from dh_jupyter.spec import SpecError
from dh_jupyter.widgets.fields import ERROR_COLOR, escaped, field_for, place_problems
from dh_jupyter.widgets.section import Section


class SectionTabs(widgets.VBox):
    """One tab per section, and under them the problems no field owns."""

    def __init__(self, sections: Sequence[Section], **kwargs: Any) -> None:
        self.sections = tuple(sections)

        self.tabs = widgets.Tab(
            children=self.sections, titles=[s.title for s in self.sections]
        )
        self.tabs.add_class("dh-sections")
        self.general = widgets.HTML()
        self.general.add_class("dh-problems")

        super().__init__(children=[self.tabs, self.general], **kwargs)

    def place(self, problems: Sequence[SpecError]) -> None:
        """Show each problem beside its field, the rest under the tabs; mark tabs."""
        fields = [f for section in self.sections for f in section.all_fields()]
        general = place_problems(problems, fields)
        self.general.value = "".join(
            f'<div style="color: {ERROR_COLOR}">{escaped(text)}</div>'
            for text in general
        )

        # A problem in a tab that is not open is otherwise invisible.
        by_path = {field.path: field for field in fields if field.path}
        section_of = {
            id(field): index
            for index, section in enumerate(self.sections)
            for field in section.all_fields()
        }
        counts = [0] * len(self.sections)
        for error in problems:
            field = field_for(error.field, by_path, fields)
            if field is not None:
                counts[section_of[id(field)]] += 1
        # Short enough for a tab (about 140 px wide) to show it whole.
        titles = tuple(
            f"⚠ {section.title} ({count})" if count else section.title
            for section, count in zip(self.sections, counts, strict=True)
        )
        if tuple(self.tabs.titles) != titles:
            self.tabs.titles = titles
