"""The picker's live preview: the Job the form describes, as YAML.

The preview shows exactly what would be sent (the configuration's defaults
laid under the form, the same ``build_manifests`` the cluster layer uses),
so an administrator's default or a GPU model's node selector is visible
before the user submits. Only the Job is shown; the ConfigMap beside it
holds the cell's code and nothing the user chose.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import yaml
from traitlets import Bool, Unicode, observe

from dh_jupyter.manifest import JobDefaults, build_manifests
from dh_jupyter.manifest.identity import current_notebook
from dh_jupyter.manifest.naming import run_name
from dh_jupyter.spec import RunSpec
from dh_jupyter.widgets.fields import NOTE_COLOR, escaped

PREVIEW_CODE = "# the cell's code"


def preview_name() -> str:
    """The name a run gets at submit, with ``xxxxx`` for its random part."""
    fresh = run_name(None, None, current_notebook())
    return fresh.rsplit("-", 1)[0] + "-xxxxx"


def job_yaml(spec: RunSpec, defaults: JobDefaults, code: str = "") -> str:
    """The YAML of the Job ``spec`` and ``code`` become."""
    manifests = build_manifests(
        spec, code or PREVIEW_CODE, job_name=preview_name(), defaults=defaults
    )
    text: str = yaml.safe_dump(manifests[-1], sort_keys=False, width=80)
    return text


class Preview(widgets.VBox):
    """The Job's YAML, marked out of date while the form has problems."""

    text = Unicode(
        "",
        help="""The YAML of the Job the form describes, as last computed from
        a valid form.""",
    )
    stale = Bool(
        False,
        help="""Whether the form changed into something invalid since the
        YAML was computed, so the YAML is not what would run.""",
    )

    def __init__(self, **kwargs: Any) -> None:
        self._banner = widgets.HTML()
        self._yaml = widgets.HTML()
        self._yaml.add_class("dh-preview-yaml")
        super().__init__(children=[self._banner, self._yaml], **kwargs)
        self.add_class("dh-preview")

    @observe("text", "stale")
    def _paint(self, change: dict[str, Any]) -> None:
        self._banner.value = (
            f'<span style="color: {NOTE_COLOR}">Out of date: fix the problems '
            "above and the preview follows.</span>"
            if self.stale
            else ""
        )
        opacity = "0.5" if self.stale else "1"
        self._yaml.value = (
            f'<pre style="max-height: 420px; overflow: auto; margin: 0; '
            f'opacity: {opacity}">{escaped(self.text)}</pre>'
        )
