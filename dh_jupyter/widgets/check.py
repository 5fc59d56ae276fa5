"""Checking the picker's form: what its sections hold, judged by the spec layer.

The form never decides on its own what is valid. Each section reads its
fields as typed; this module joins them into one seed-shaped dict, lets
``RunSpec.from_dict`` judge the whole of it (a problem often involves two
sections), and builds the Job preview from it, since laying the
configured defaults under the form can find problems of its own. It only
computes: showing the result is the picker's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.widgets.preview import job_yaml
from dh_jupyter.widgets.section import Section


@dataclass(frozen=True)
class Verdict:
    """The form as the spec layer sees it right now."""

    # The RunSpec the form describes; None while there is any problem.
    spec: RunSpec | None
    # Every problem, in the spec layer's words.
    problems: tuple[SpecError, ...]
    # The Job preview's YAML; "" unless the form is valid.
    yaml: str
    # The GPU model's node label, for the scheduling section's suggestions.
    gpu_selector: Mapping[str, str]
    # The GPU resource when the form asks for GPUs, else "".
    gpu_resource: str


def check_form(sections: Sequence[Section], config: DhJupyter, code: str) -> Verdict:
    """Join the sections' state, judge it, and build the Job preview."""
    state: dict[str, Any] = {}
    problems: list[SpecError] = []
    for section in sections:
        state.update(section.state)
        problems.extend(section.problems)

    spec: RunSpec | None = None
    try:
        spec = RunSpec.from_dict(state)
    except SpecError as error:
        problems.extend(error.errors)

    gpu_type = state.get("gpu_type")
    gpu_selector = (
        {config.gpu_product_label: gpu_type}
        if isinstance(gpu_type, str) and gpu_type
        else {}
    )
    gpu_resource = config.gpu_resource if asks_for_gpus(state) else ""

    text = ""
    if spec is not None and not problems:
        try:
            full = config.default_spec().merged(spec)
            text = job_yaml(full, config.job_defaults(), code)
        except SpecError as error:
            problems.extend(error.errors)
        except DhJupyterError as error:
            problems.append(SpecError("code", str(error)))

    return Verdict(
        spec=spec if not problems else None,
        problems=tuple(problems),
        yaml=text,
        gpu_selector=gpu_selector,
        gpu_resource=gpu_resource,
    )


def asks_for_gpus(state: Mapping[str, Any]) -> bool:
    """Whether the form's resources ask for at least one GPU, as typed."""
    resources = state.get("resources")
    gpu = resources.get("gpu") if isinstance(resources, Mapping) else None
    if not isinstance(gpu, Mapping):
        return False
    return any(str(gpu.get(key) or "0").strip() not in ("", "0") for key in gpu)
