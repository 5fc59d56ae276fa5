"""The picker's Submit button and the monitors of the runs it started.

A user who submits twice wants both runs in sight, and one who submits all
afternoon does not want the form to grow without end. So each run gets its
monitor above the earlier ones; a run still going keeps its monitor (and
its Cancel button) however many come after it, and finished runs beyond
the last ``KEPT_MONITORS`` are taken off.

Submit is off while the form is invalid or there is no code, and the
sentence beside it says why; while runs go on, it says how many. This
module does not judge the form: the picker checks it and hands over the
problems, and what a click does (check, then start the run) is the
picker's ``submit``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
from traitlets import Instance, Tuple

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.spec import RunSpec
from dh_jupyter.widgets.fields import ERROR_COLOR, NOTE_COLOR, escaped
from dh_jupyter.widgets.monitor import RunMonitor

# Finished runs' monitors kept on the form; runs still going always stay.
KEPT_MONITORS = 5
NO_CODE = (
    "there is no code to run; give it as ResourcePicker(code=...) or set picker.code."
)


class SubmitArea(widgets.VBox):
    """The Submit button with its note, and the runs' monitors under it."""

    monitor = Instance(
        RunMonitor,
        allow_none=True,
        help="The monitor of the run started last, if any.",
    )
    monitors = Tuple(
        help="""The monitors shown, newest first: every run still going, and
        the last finished ones (KEPT_MONITORS in all at most, unless more
        runs are going).""",
    )

    def __init__(
        self,
        config: DhJupyter,
        submit: Callable[[], object],
        **kwargs: Any,
    ) -> None:
        self._config = config
        self._submit = submit
        self._problems: tuple[str, ...] = ()
        self._code = ""

        self.button = widgets.Button(
            description="Submit", icon="play", button_style="primary"
        )
        self.button.add_class("dh-submit")
        self.button.on_click(lambda _button: self._clicked())
        self.note = widgets.HTML()
        self.note.add_class("dh-submit-note")
        self.runs = widgets.VBox()

        super().__init__(
            children=[
                widgets.HBox(
                    [self.button, self.note],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.runs,
            ],
            **kwargs,
        )

    def explain(self, problems: Sequence[str], code: str) -> None:
        """Take the form's problems and code as they are now, and show Submit."""
        self._problems = tuple(problems)
        self._code = code
        self._paint()

    def start(self, spec: RunSpec, code: str) -> RunMonitor:
        """Run ``code`` with ``spec`` (already checked) and show its monitor first.

        Raises ``DhJupyterError`` when the run cannot start.
        """
        from dh_jupyter.runs.select import choose

        self.button.disabled = True
        self.button.description = "Submitting..."
        try:
            # The picker's own configuration chooses, so a picker built with
            # config=... runs where that configuration says.
            choice = choose(None, self._config)
            run = choice.backend.submit(spec, code)
            monitor = RunMonitor(run)
            monitor.observe(lambda _change: self._paint(), "following")
            if choice.reason:
                monitor.say(choice.reason, error=False)
            self._show(monitor)
            monitor.start()
            return monitor
        finally:
            self._paint()

    def _show(self, monitor: RunMonitor) -> None:
        """Put ``monitor`` first; drop the oldest finished ones beyond the bound."""
        shown = [monitor, *self.monitors]
        while len(shown) > KEPT_MONITORS:
            finished = [m for m in shown if m.finished and m is not monitor]
            if not finished:
                break
            shown.remove(finished[-1])
        self.monitors = tuple(shown)
        self.runs.children = self.monitors
        self.monitor = monitor

    def _paint(self) -> None:
        """Turn Submit on or off, and say why it is off."""
        button = self.button
        problems = self._problems
        count = len(problems)
        going = sum(1 for monitor in self.monitors if monitor.following)
        if count:
            plural = "" if count == 1 else "s"
            button.description = f"Fix {count} problem{plural} to submit"
            reason = f"Submit is off: {problems[0]}"
            if count > 1:
                reason += f" (and {count - 1} more, shown beside their fields)"
        elif not self._code.strip():
            button.description = "Submit"
            reason = f"Submit is off: {NO_CODE}"
        else:
            button.description = "Submit"
            reason = (
                f"{going} run{'' if going == 1 else 's'} going (below); Submit "
                "starts another beside it."
                if going
                else ""
            )
        button.disabled = bool(count) or not self._code.strip()
        button.tooltip = reason
        color = NOTE_COLOR if not button.disabled else ERROR_COLOR
        self.note.value = (
            f'<span style="color: {color}">{escaped(reason)}</span>' if reason else ""
        )

    def _clicked(self) -> None:
        try:
            self._submit()
        except DhJupyterError as error:
            # A click has no caller to raise to; the sentence goes beside it.
            self.note.value = (
                f'<span style="color: {ERROR_COLOR}">{escaped(str(error))}</span>'
            )
