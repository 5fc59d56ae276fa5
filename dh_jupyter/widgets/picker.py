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

This module assembles the form and keeps it in step with its two-way API;
its parts live beside it: ``profiles`` (the profile chooser), ``check``
(the sections' state judged by the spec layer), ``tabs`` (the sections,
and where each problem shows), ``choicesbar`` (Refresh and the note on
the cluster's choices) and ``submit`` (Submit and the runs' monitors).

Every check is the spec layer's: the form never decides on its own what is
valid, it only puts the spec layer's sentences where the user is looking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Instance, List, Tuple, Unicode, observe, validate

from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.parse import SEED_KEYS
from dh_jupyter.widgets.check import check_form
from dh_jupyter.widgets.choices import ClusterChoices, Lookup
from dh_jupyter.widgets.choicesbar import ChoicesBar
from dh_jupyter.widgets.environment import EnvironmentSection
from dh_jupyter.widgets.monitor import RunMonitor
from dh_jupyter.widgets.options import OptionsSection
from dh_jupyter.widgets.preview import Preview
from dh_jupyter.widgets.profiles import NO_PROFILE, ProfileChooser
from dh_jupyter.widgets.resources import ResourcesSection
from dh_jupyter.widgets.scheduling import SchedulingSection
from dh_jupyter.widgets.section import Section
from dh_jupyter.widgets.submit import KEPT_MONITORS, NO_CODE, SubmitArea
from dh_jupyter.widgets.tabs import SectionTabs
from dh_jupyter.widgets.volumes import VolumesSection

# KEPT_MONITORS and NO_PROFILE belong to the picker's parts; they are named
# here too, where the picker's help and its callers have always found them.
__all__ = ["KEPT_MONITORS", "NO_PROFILE", "ResourcePicker"]


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

        self.profile_dropdown = ProfileChooser(self._config)
        self.choices_bar = ChoicesBar(
            self._config,
            lambda: self.options.namespace or self._config.namespace,
            lookup,
        )
        self.section_tabs = SectionTabs(self.sections)
        self.submit_area = SubmitArea(self._config, lambda: self.submit())
        self.preview = Preview()
        preview_box = widgets.Accordion(
            children=[self.preview],
            titles=["Job preview (YAML, with the configured defaults)"],
            selected_index=0,
        )
        # The parts people (and the tests) reach for, under their old names.
        self.refresh_button = self.choices_bar.button
        self.tabs = self.section_tabs.tabs
        self.submit_button = self.submit_area.button
        self._cluster_note = self.choices_bar.note
        self._submit_note = self.submit_area.note
        self._run_area = self.submit_area.runs

        super().__init__(
            children=[
                widgets.HBox(
                    [self.profile_dropdown, self.choices_bar],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.section_tabs,
                self.submit_area,
                preview_box,
            ],
            **kwargs,
        )
        self.add_class("dh-picker")
        widgets.dlink((self.choices_bar, "choices"), (self, "choices"))
        widgets.dlink((self.submit_area, "monitors"), (self, "monitors"))
        widgets.dlink((self.submit_area, "monitor"), (self, "monitor"))
        for section in self.sections:
            section.observe(lambda _change: self._update(), "revision")
        widgets.link((self.profile_dropdown, "value"), (self, "profile"))

        with self._batch():
            if profile:
                self.profile = profile
            if spec is not None:
                given = spec if isinstance(spec, RunSpec) else RunSpec.from_dict(spec)
                self._fill(self.profile_dropdown.starting_spec(profile, given))
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
        return self.choices_bar.refresh()

    def wait_for_choices(self, timeout: float | None = None) -> ClusterChoices:
        """Block until a running lookup is done; the choices known then."""
        return self.choices_bar.wait(timeout)

    def submit(self) -> RunMonitor:
        """Run ``code`` with the form's spec and follow it below the form.

        The run is followed in a background thread, so the kernel stays free
        and the monitor's Cancel button works. Its monitor goes above the
        earlier runs' monitors, which stay while their runs go on. Raises
        ``SpecError`` when the form is invalid and ``DhJupyterError`` when
        the run cannot start.
        """
        spec = self._config.default_spec().merged(self.spec)
        if not self.code.strip():
            raise SpecError("code", NO_CODE)
        return self.submit_area.start(spec, self.code)

    def _fill(self, spec: RunSpec) -> None:
        with self._batch():
            for section in self.sections:
                section.fill(spec)

    # Reacting to the form

    @validate("profile")
    def _check_profile(self, proposal: dict[str, Any]) -> str:
        return self.profile_dropdown.check(proposal["value"])

    @observe("profile")
    def _profile_chosen(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._fill(self.profile_dropdown.spec(change["new"]))

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
            verdict = check_form(self.sections, self._config, self.code)
            problems = list(verdict.problems)
            # Tolerations are suggested for the nodes the GPUs asked for need.
            self.scheduling.select_gpu(
                verdict.gpu_selector, resource=verdict.gpu_resource
            )

            self._spec = verdict.spec
            self._error = SpecError.combine(problems) if problems else None
            self.section_tabs.place(problems)
            if verdict.yaml:
                self.preview.text = verdict.yaml
            self.preview.stale = bool(problems)
            self.problems = [str(error) for error in problems]
            self.valid = not problems
            self.submit_area.explain(self.problems, self.code)

    @contextmanager
    def _batch(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        self._update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # The cluster is read when the picker is first shown, not when it
        # is built, so building one stays fast and costs no cluster call.
        if not self.choices_bar.looked_up:
            self.refresh_choices()
        return super()._repr_mimebundle_(**kwargs)
