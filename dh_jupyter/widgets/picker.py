"""``ResourcePicker``: the run spec as a form, for people who would rather click.

The form is a ``VBox`` of stock ipywidgets (so it renders wherever
ipywidgets do): a profile chooser, one tab per section (resources, volumes,
environment, scheduling, Job), the spec layer's problems beside the fields
they concern, a Submit button that is off while the form is invalid and
says why, and a live YAML preview of the Job.

It is two-way: ``picker.spec`` is the ``RunSpec`` the form describes,
``ResourcePicker(spec=...)`` and ``picker.load(...)`` fill the form from a
spec or a seed dict, and ``picker.run_kwargs`` is the seed-shaped dict the
DigitalHub SDK's ``function.run(**kwargs)`` takes: only the seed's keys, so
the Job options (image, namespace, timeout, ...) live in ``picker.spec``,
which ``%%dhrun --spec picker`` uses.

Each Submit adds a monitor above the earlier ones: a run that is still
going keeps its monitor and its Cancel button, and finished runs beyond
the last ``KEPT_MONITORS`` are taken off the form.

Every check is the spec layer's: the form never decides on its own what is
valid, it only puts the spec layer's sentences where the user is looking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
from traitlets import (
    Bool,
    Instance,
    List,
    TraitError,
    Tuple,
    Unicode,
    observe,
    validate,
)

from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.parse import SEED_KEYS
from dh_jupyter.widgets.choices import ChoicesLoader, ClusterChoices, Lookup
from dh_jupyter.widgets.environment import EnvironmentSection
from dh_jupyter.widgets.fields import (
    ERROR_COLOR,
    NOTE_COLOR,
    escaped,
    field_for,
    place_problems,
)
from dh_jupyter.widgets.monitor import RunMonitor
from dh_jupyter.widgets.options import OptionsSection
from dh_jupyter.widgets.preview import Preview, job_yaml
from dh_jupyter.widgets.resources import ResourcesSection
from dh_jupyter.widgets.scheduling import SchedulingSection
from dh_jupyter.widgets.section import Section
from dh_jupyter.widgets.volumes import VolumesSection

NO_PROFILE = "(no profile)"
# Finished runs' monitors kept on the form; runs still going always stay.
KEPT_MONITORS = 5


class ResourcePicker(widgets.VBox):
    """A form for the run spec, with validation as you type and a Job preview.

    Examples
    --------
    >>> picker = ResourcePicker(code="print('hello')")
    >>> picker                           # the form; Submit runs the code
    >>> picker.load({"resources": {"gpu": {"limits": 1}}})
    >>> picker.spec                      # a RunSpec, or SpecError if invalid
    >>> function.run(**picker.run_kwargs)  # the DigitalHub SDK
    """

    code = Unicode(
        "",
        help="""The Python code Submit runs with the form's spec. Example:
        "import torch; print(torch.cuda.is_available())". Default: "" (Submit
        stays off until there is code).""",
    )
    profile = Unicode(
        "",
        help="""The configured profile (DhJupyter.profiles) last chosen; setting
        it replaces what the form holds with that profile, whose fields the
        user can then change. ``load()`` sets it back to "", since the form
        then holds the loaded spec. Example: "gpu-v100". Default: "" (none).""",
    )
    valid = Bool(
        False,
        help="Whether the form describes a valid run spec right now.",
    )
    problems = List(
        Unicode(),
        help="""Every problem with the form, as "field: sentence", in the
        spec layer's words; empty when the form is valid.""",
    )
    choices = Instance(
        ClusterChoices,
        help="""What the cluster offered when it was last read: claims,
        config maps, secret names, GPU models, node taints, queues.""",
    )
    monitor = Instance(
        RunMonitor,
        allow_none=True,
        help="The monitor of the run Submit started last, if any.",
    )
    monitors = Tuple(
        help="""The monitors shown under Submit, newest first: every run still
        going, and the last finished ones (KEPT_MONITORS in all at most,
        unless more runs are going).""",
    )

    def __init__(
        self,
        spec: RunSpec | Mapping[str, Any] | None = None,
        *,
        code: str = "",
        profile: str = "",
        config: DhJupyter | None = None,
        lookup: Lookup | None = None,
        **kwargs: Any,
    ) -> None:
        self._config = config or settings()
        self._depth = 0
        self._lock = threading.RLock()
        self._spec: RunSpec | None = None
        self._error: SpecError | None = None
        self._loader = ChoicesLoader(lookup or self._read_cluster, self._loaded)
        self._looked_up = False

        self.resources = ResourcesSection()
        self.volumes = VolumesSection()
        self.environment = EnvironmentSection()
        self.scheduling = SchedulingSection()
        self.options = OptionsSection(self._config)
        self.sections: tuple[Section, ...] = (
            self.resources,
            self.volumes,
            self.environment,
            self.scheduling,
            self.options,
        )

        self.profile_dropdown = widgets.Dropdown(
            options=[(NO_PROFILE, ""), *((n, n) for n in self._config.profiles)],
            description="Profile",
            style={"description_width": "initial"},
        )
        self.profile_dropdown.add_class("dh-profile")
        self._cluster_note = widgets.HTML()
        self._cluster_note.add_class("dh-cluster-note")
        self.refresh_button = widgets.Button(
            description="Refresh",
            icon="refresh",
            tooltip="Read the cluster's claims, secrets, GPUs and queues again",
        )
        self.refresh_button.on_click(lambda _button: self.refresh_choices())
        self.tabs = widgets.Tab(
            children=self.sections, titles=[s.title for s in self.sections]
        )
        self.tabs.add_class("dh-sections")
        self._general = widgets.HTML()
        self._general.add_class("dh-problems")
        self.submit_button = widgets.Button(
            description="Submit", icon="play", button_style="primary"
        )
        self.submit_button.add_class("dh-submit")
        self.submit_button.on_click(lambda _button: self._submit_clicked())
        self._submit_note = widgets.HTML()
        self._submit_note.add_class("dh-submit-note")
        self.preview = Preview()
        preview_box = widgets.Accordion(
            children=[self.preview],
            titles=["Job preview (YAML, with the configured defaults)"],
            selected_index=0,
        )
        self._run_area = widgets.VBox()

        super().__init__(
            children=[
                widgets.HBox(
                    [self.profile_dropdown, self.refresh_button, self._cluster_note],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.tabs,
                self._general,
                widgets.HBox(
                    [self.submit_button, self._submit_note],
                    layout=widgets.Layout(align_items="center"),
                ),
                self._run_area,
                preview_box,
            ],
            **kwargs,
        )
        self.add_class("dh-picker")
        self.choices = ClusterChoices()
        self._say_cluster("Cluster choices are read when the picker is shown.")
        for section in self.sections:
            section.observe(lambda _change: self._update(), "revision")
        widgets.link((self.profile_dropdown, "value"), (self, "profile"))

        with self._batch():
            if profile:
                self.profile = profile
            if spec is not None:
                given = spec if isinstance(spec, RunSpec) else RunSpec.from_dict(spec)
                # The order %%dhrun uses: the profile, then the spec over it.
                base = self._config.profile(profile) if profile else RunSpec()
                self._fill(base.merged(given))
            self.code = code

    # The two-way API

    @property
    def spec(self) -> RunSpec:
        """The ``RunSpec`` the form describes; ``SpecError`` with every problem."""
        with self._lock:
            if self._spec is None:
                raise self._error or SpecError("", "the form is not complete.")
            return self._spec

    @property
    def run_kwargs(self) -> dict[str, Any]:
        """The seed-shaped dict for the DigitalHub SDK's ``function.run(**kwargs)``.

        It holds only the seed's keys (volumes, resources, tolerations,
        affinity, labels, node_selector, secrets, env). A GPU model becomes
        the node selector entry it means (``DhJupyter.gpu_product_label``),
        as in the Job. The Job options (image, namespace, timeout, retries,
        ttl, queue, service account, image pull secrets, priority class)
        are not seed keys: ``picker.spec`` and ``%%dhrun --spec picker`` keep
        them, and the Job tab says so when one is set.
        """
        spec = self.spec
        kwargs = {
            key: value for key, value in spec.to_dict().items() if key in SEED_KEYS
        }
        if spec.gpu_type:
            label = self._config.gpu_product_label
            kwargs["node_selector"] = {
                **kwargs.get("node_selector", {}),
                label: spec.gpu_type,
            }
        return kwargs

    def load(self, value: RunSpec | Mapping[str, Any]) -> None:
        """Fill the form from a ``RunSpec`` or a seed dict (``SpecError`` if bad).

        The form then holds ``value`` alone, so ``profile`` becomes "".
        """
        spec = value if isinstance(value, RunSpec) else RunSpec.from_dict(value)
        with self._batch():
            self._fill(spec)
            self.profile = ""

    def refresh_choices(self) -> threading.Thread:
        """Read the cluster's choices again, in a background thread."""
        self._looked_up = True
        self.refresh_button.disabled = True
        self._say_cluster("Reading the cluster...")
        return self._loader.start(self.options.namespace or self._config.namespace)

    def wait_for_choices(self, timeout: float | None = None) -> ClusterChoices:
        """Block until a running lookup is done; the choices known then."""
        self._loader.wait(timeout)
        return self.choices

    def submit(self) -> RunMonitor:
        """Run ``code`` with the form's spec and follow it below the form.

        The run is followed in a background thread, so the kernel stays free
        and the monitor's Cancel button works. Its monitor goes above the
        earlier runs' monitors, which stay while their runs go on. Raises
        ``SpecError`` when the form is invalid and ``DhJupyterError`` when
        the run cannot start.
        """
        from dh_jupyter.runs.select import choose

        spec = self._config.default_spec().merged(self.spec)
        if not self.code.strip():
            raise SpecError(
                "code",
                "there is no code to run; give it as ResourcePicker(code=...) "
                "or set picker.code.",
            )
        self.submit_button.disabled = True
        self.submit_button.description = "Submitting..."
        try:
            # The picker's own configuration chooses, so a picker built with
            # config=... runs where that configuration says.
            choice = choose(None, self._config)
            run = choice.backend.submit(spec, self.code)
            monitor = RunMonitor(run)
            monitor.observe(lambda _change: self._show_submit(), "following")
            if choice.reason:
                monitor.say(choice.reason, error=False)
            self._show_monitor(monitor)
            monitor.start()
            return monitor
        finally:
            self._show_submit()

    def _fill(self, spec: RunSpec) -> None:
        with self._batch():
            for section in self.sections:
                section.fill(spec)

    def _show_monitor(self, monitor: RunMonitor) -> None:
        """Put ``monitor`` first; drop the oldest finished ones beyond the bound."""
        shown = [monitor, *self.monitors]
        while len(shown) > KEPT_MONITORS:
            finished = [m for m in shown if m.finished and m is not monitor]
            if not finished:
                break
            shown.remove(finished[-1])
        self.monitors = tuple(shown)
        self._run_area.children = self.monitors
        self.monitor = monitor

    # Reacting to the form

    @validate("profile")
    def _check_profile(self, proposal: dict[str, Any]) -> str:
        name: str = proposal["value"]
        if name:
            try:
                self._config.profile(name)
            except SpecError as error:
                raise TraitError(str(error)) from None
        return name

    @observe("profile")
    def _profile_chosen(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._fill(self._config.profile(change["new"]))

    @observe("code")
    def _code_changed(self, change: dict[str, Any]) -> None:
        self._update()

    @observe("choices")
    def _offer_choices(self, change: dict[str, Any]) -> None:
        choices: ClusterChoices = change["new"]
        with self._lock:
            for section in self.sections:
                section.use_choices(choices)

    def _update(self) -> None:
        """Check the whole form again, put problems beside fields, redo the preview."""
        if self._depth:
            return
        with self._lock:
            state: dict[str, Any] = {}
            problems: list[SpecError] = []
            for section in self.sections:
                state.update(section.state)
                problems.extend(section.problems)

            spec: RunSpec | None = None
            try:
                spec = RunSpec.from_dict(state)
            except SpecError as error:
                problems.extend(error.errors)

            gpu_type = state.get("gpu_type")
            self.scheduling.select_gpu(
                {self._config.gpu_product_label: gpu_type}
                if isinstance(gpu_type, str) and gpu_type
                else {},
                resource=self._config.gpu_resource if _asks_for_gpus(state) else "",
            )

            text = ""
            if spec is not None and not problems:
                try:
                    full = self._config.default_spec().merged(spec)
                    text = job_yaml(full, self._config.job_defaults(), self.code)
                except SpecError as error:
                    problems.extend(error.errors)
                except DhJupyterError as error:
                    problems.append(SpecError("code", str(error)))

            self._spec = spec if not problems else None
            self._error = SpecError.combine(problems) if problems else None
            self._place(problems)
            if text:
                self.preview.text = text
            self.preview.stale = bool(problems)
            self.problems = [str(error) for error in problems]
            self.valid = not problems
            self._show_submit()

    def _place(self, problems: list[SpecError]) -> None:
        """Show each problem beside its field, the rest above Submit; mark tabs."""
        fields = [f for section in self.sections for f in section.all_fields()]
        general = place_problems(problems, fields)
        self._general.value = "".join(
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

    def _show_submit(self) -> None:
        """Turn Submit on or off, and say why it is off."""
        button = self.submit_button
        count = len(self.problems)
        going = sum(1 for monitor in self.monitors if monitor.following)
        if count:
            plural = "" if count == 1 else "s"
            button.description = f"Fix {count} problem{plural} to submit"
            reason = f"Submit is off: {self.problems[0]}"
            if count > 1:
                reason += f" (and {count - 1} more, shown beside their fields)"
        elif not self.code.strip():
            button.description = "Submit"
            reason = (
                "Submit is off: there is no code to run; give it as "
                "ResourcePicker(code=...) or set picker.code."
            )
        else:
            button.description = "Submit"
            reason = (
                f"{going} run{'' if going == 1 else 's'} going (below); Submit "
                "starts another beside it."
                if going
                else ""
            )
        button.disabled = bool(count) or not self.code.strip()
        button.tooltip = reason
        color = NOTE_COLOR if not button.disabled else ERROR_COLOR
        self._submit_note.value = (
            f'<span style="color: {color}">{escaped(reason)}</span>' if reason else ""
        )

    def _submit_clicked(self) -> None:
        try:
            self.submit()
        except DhJupyterError as error:
            # A click has no caller to raise to; the sentence goes beside it.
            self._submit_note.value = (
                f'<span style="color: {ERROR_COLOR}">{escaped(str(error))}</span>'
            )

    @contextmanager
    def _batch(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        self._update()

    # Cluster choices

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # The cluster is read when the picker is first shown, not when it
        # is built, so building one stays fast and costs no cluster call.
        if not self._looked_up:
            self.refresh_choices()
        return super()._repr_mimebundle_(**kwargs)

    def _read_cluster(self, namespace: str) -> ClusterChoices:
        from dh_jupyter.widgets.lookup import read_cluster

        return read_cluster(namespace, self._config)

    def _loaded(self, choices: ClusterChoices) -> None:
        """Take the lookup's result (called from the lookup's thread)."""
        try:
            self.choices = choices
            self._say_cluster(choices.summary())
        finally:
            self.refresh_button.disabled = False

    def _say_cluster(self, text: str) -> None:
        self._cluster_note.value = (
            f'<span style="color: {NOTE_COLOR}">{escaped(text)}</span>'
        )


def _asks_for_gpus(state: Mapping[str, Any]) -> bool:
    """Whether the form's resources ask for at least one GPU, as typed."""
    resources = state.get("resources")
    gpu = resources.get("gpu") if isinstance(resources, Mapping) else None
    if not isinstance(gpu, Mapping):
        return False
    return any(str(gpu.get(key) or "0").strip() not in ("", "0") for key in gpu)
