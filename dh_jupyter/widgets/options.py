"""The picker's Job section: image, namespace, time limits, retries, queue.

Empty fields mean "the configured default", and each placeholder says what
that default is, so the user sees what the Job will get without reading the
administrator's configuration. Durations accept seconds or text such as
``90m`` and show the converted value beside them.

None of these is a key of the DigitalHub SDK's seed, so ``run_kwargs``
leaves them out; once one is set, the section says that ``picker.spec``
and ``%%dhrun --spec picker`` keep them, so nothing is dropped unseen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
from traitlets import observe

from dh_jupyter.config import DhJupyter
from dh_jupyter.manifest.job import default_image
from dh_jupyter.runs.status import span
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.fields import (
    NOTE_COLOR,
    Field,
    escaped,
    text_control,
    whole_or_text,
)
from dh_jupyter.widgets.rows import NameRow, RowList
from dh_jupyter.widgets.section import Section

DURATIONS = ("timeout", "ttl")
KEPT_NOTE = (
    "Set here: %s. picker.spec and %%%%dhrun --spec picker use these Job "
    "options; picker.run_kwargs leaves them out, since the DigitalHub SDK's "
    "function.run(**kwargs) takes only the seed's keys."
)


def seconds_note(text: str) -> str:
    """``"90m"`` → ``"= 1 h 30 min 0 s"``; ``""`` when it is not a duration."""
    if not text or text.isdigit():
        return ""
    try:
        seconds = RunSpec.from_dict({"ttl": text}).ttl
    except SpecError:
        return ""
    return f"= {span(seconds)}" if seconds is not None else ""


class OptionsSection(Section):
    """The Job's image, namespace, timeout, retries, TTL, queue and identity."""

    title = "Job"

    def __init__(self, config: DhJupyter, **kwargs: Any) -> None:
        namespace = config.namespace or "the kubeconfig context's namespace"
        ttl = config.ttl
        self.fields = {
            "image": Field(
                text_control(
                    f"default: {config.default_image or default_image()}",
                    description="Image",
                ),
                path="image",
            ),
            "namespace": Field(
                text_control(f"default: {namespace}", description="Namespace"),
                path="namespace",
            ),
            "timeout": Field(
                text_control("none; seconds, or 30m, 2h", description="Timeout"),
                path="timeout",
                convert=whole_or_text,
            ),
            "retries": Field(
                text_control("0", description="Retries"),
                path="retries",
                convert=whole_or_text,
            ),
            "ttl": Field(
                text_control(
                    f"default: {ttl} s ({span(ttl)})", description="Keep after end"
                ),
                path="ttl",
                convert=whole_or_text,
            ),
            "queue": Field(
                text_control(
                    "none; a Kueue LocalQueue", description="Queue", options=True
                ),
                path="queue",
            ),
            "service_account": Field(
                text_control("the namespace's default", description="Service account"),
                path="service_account",
            ),
            "priority_class": Field(
                text_control("none", description="Priority class"),
                path="priority_class",
            ),
        }
        for name, field in self.fields.items():
            field.add_class(f"dh-{name.replace('_', '-')}")
        for name in DURATIONS:
            field = self.fields[name]
            field.control.observe(
                lambda change, field=field: setattr(
                    field, "note", seconds_note(change["new"].strip())
                ),
                "value",
            )
        self.fields["queue"].control.observe(lambda _change: self._describe(), "value")
        self.image_pull_secrets = RowList(
            "image_pull_secrets",
            lambda: NameRow("image pull secret name"),
            add_label="Add image pull secret",
            on_change=self.changed,
        )
        self._choices = ClusterChoices()
        self.kept_note = widgets.HTML()
        self.kept_note.add_class("dh-job-options-note")
        self.watch(*self.fields.values())
        super().__init__(
            children=[*self.fields.values(), self.image_pull_secrets, self.kept_note],
            **kwargs,
        )

    def read(self) -> tuple[dict[str, Any], list[SpecError]]:
        """The options that are filled in; empty ones are left to the defaults."""
        state = {
            name: value
            for name, field in self.fields.items()
            if (value := field.value) is not None
        }
        pull_secrets = self.image_pull_secrets.read()
        if pull_secrets:
            state["image_pull_secrets"] = pull_secrets
        return state, []

    @observe("state")
    def _say_where_options_go(self, change: dict[str, Any]) -> None:
        names = ", ".join(name.replace("_", " ") for name in change["new"])
        self.kept_note.value = (
            f'<span style="color: {NOTE_COLOR}">{escaped(KEPT_NOTE % names)}</span>'
            if names
            else ""
        )

    def fill(self, spec: RunSpec) -> None:
        """Show the spec's options."""
        with self.batch():
            for name, field in self.fields.items():
                field.fill(getattr(spec, name))
            self.image_pull_secrets.fill(list(spec.image_pull_secrets))

    def all_fields(self) -> Iterator[Field]:
        """The option fields and the image pull secret rows."""
        yield from self.fields.values()
        yield from self.image_pull_secrets.all_fields()

    @property
    def namespace(self) -> str:
        """The namespace typed in the form, or ``""``."""
        value = self.fields["namespace"].value
        return value if isinstance(value, str) else ""

    def use_choices(self, choices: ClusterChoices) -> None:
        """Offer the namespace's Kueue LocalQueues."""
        self._choices = choices
        self.fields["queue"].control.options = choices.queues
        self._describe()

    def _describe(self) -> None:
        field = self.fields["queue"]
        name = field.control.value.strip()
        choices = self._choices
        known = choices.loaded and not ({"queues", "cluster"} & set(choices.unread))
        if known and name and name not in choices.queues:
            field.note = f'no LocalQueue "{name}" in namespace "{choices.namespace}"'
        else:
            field.note = ""
