"""The run monitor's log: its last lines, or the whole log in pages.

An ipywidgets trait is sent to the browser whole each time it changes, so a
log kept in one widget value would be sent again, all of it, on every
repaint: megabytes, several times a second, for a chatty run. The last
lines are one small value; the full log is a column of pages of
``PAGE_LINES`` lines each. A repaint changes only the page that grew (and,
when a page fills, the list of pages), so what it sends stays about one
page, however long the log is. Opening the full log sends it once.

This module only shows lines it is given; keeping them, and deciding when
to repaint, is ``runlog``'s job.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from dh_jupyter.widgets.fields import escaped

# Lines per page of the full log: the most one repaint sends.
PAGE_LINES = 500
# Both views scroll inside this height, so the notebook does not grow.
HEIGHT = "360px"
_PRE = '<pre style="margin: 0">'


def pre(text: str) -> str:
    """``text`` as preformatted HTML; ``""`` stays empty."""
    return f"{_PRE}{escaped(text)}</pre>" if text else ""


class LogView(widgets.VBox):
    """The last lines in one block, or every kept line in pages.

    ``show_tail`` and ``show_all`` switch between the two; each only sends
    what changed since its last call.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.note = widgets.HTML()
        self.tail = widgets.HTML(
            layout=widgets.Layout(max_height=HEIGHT, overflow="auto")
        )
        self.pages = widgets.VBox(
            layout=widgets.Layout(max_height=HEIGHT, overflow="auto", display="none")
        )
        self.pages.add_class("dh-monitor-full-log-pages")
        # The absolute number (since the run began) of each page's first
        # line, and of the first line not yet on a page.
        self._starts: list[int] = []
        self._paged = 0
        super().__init__(children=[self.note, self.tail, self.pages], **kwargs)

    @property
    def html(self) -> str:
        """The HTML the user sees now: the note, then the tail or the pages."""
        if self.pages.layout.display == "none":
            parts = [self.tail.value]
        else:
            parts = [page.value for page in self.pages.children]
        return "".join([self.note.value, *parts])

    def show_tail(self, lines: Sequence[str], note: str = "") -> None:
        """Show ``lines`` (the last ones) with ``note`` above them."""
        self._say(note)
        self.tail.value = pre("\n".join(lines))
        self.tail.layout.display = ""
        self.pages.layout.display = "none"

    def show_all(self, kept: Sequence[str], total: int, note: str = "") -> None:
        """Show every line of ``kept``, the last ``len(kept)`` of ``total`` lines.

        Pages already sent are left alone; only the newest page and the
        new ones after it get values.
        """
        self._say(note)
        first = total - len(kept)
        pages = list(self.pages.children)
        if not pages or self._starts[-1] < first or self._paged > total:
            # The newest page's lines are no longer kept (more than the kept
            # lines arrived since the last repaint): start the pages afresh.
            pages, self._starts, self._paged = [], [], first
        while len(pages) > 1 and self._starts[1] <= first:
            # The oldest page holds only lines that are no longer kept.
            pages.pop(0)
            self._starts.pop(0)

        grown: set[int] = set()
        while self._paged < total:
            if not pages or self._paged - self._starts[-1] >= PAGE_LINES:
                pages.append(widgets.HTML())
                self._starts.append(self._paged)
            self._paged = min(total, self._starts[-1] + PAGE_LINES)
            grown.add(len(pages) - 1)
        for index in sorted(grown):
            start = self._starts[index] - first
            end = self._paged - first
            if index + 1 < len(self._starts):
                end = self._starts[index + 1] - first
            lines = itertools.islice(kept, start, end)
            pages[index].value = pre("\n".join(lines))

        if tuple(pages) != self.pages.children:
            self.pages.children = tuple(pages)
        self.pages.layout.display = ""
        self.tail.layout.display = "none"

    def _say(self, note: str) -> None:
        value = pre(note)
        if self.note.value != value:
            self.note.value = value
