"""The picker's Refresh button and its note on what the cluster offered.

Reading the cluster takes seconds, so the picker must never wait for it:
this bar runs the lookup (``choices.ChoicesLoader``) in the background,
keeps Refresh off while one runs, and says in one plain line what came
back or why nothing did. The choices themselves go out through the
``choices`` trait; offering them to the fields is the picker's job, and
deciding when the first lookup happens (when the picker is first shown)
too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Instance

from dh_jupyter.config import DhJupyter
from dh_jupyter.widgets.choices import ChoicesLoader, ClusterChoices, Lookup
from dh_jupyter.widgets.fields import NOTE_COLOR, escaped


class ChoicesBar(widgets.HBox):
    """Refresh, and a note on the cluster's choices: read, being read, or not."""

    choices = Instance(
        ClusterChoices,
        help="""What the cluster offered when it was last read: claims,
        config maps, secret names, GPU models, node taints, queues.""",
    )
    looked_up = Bool(
        False,
        help="""Whether a lookup has been asked for yet; the picker asks for
        the first one when it is first shown.""",
    )

    def __init__(
        self,
        config: DhJupyter,
        namespace: Callable[[], str],
        lookup: Lookup | None = None,
        **kwargs: Any,
    ) -> None:
        self._config = config
        self._namespace = namespace
        self._loader = ChoicesLoader(lookup or self._read_cluster, self._loaded)

        self.button = widgets.Button(
            description="Refresh",
            icon="refresh",
            tooltip="Read the cluster's claims, secrets, GPUs and queues again",
        )
        self.button.on_click(lambda _button: self.refresh())
        self.note = widgets.HTML()
        self.note.add_class("dh-cluster-note")

        super().__init__(
            children=[self.button, self.note],
            layout=widgets.Layout(align_items="center"),
            **kwargs,
        )
        self.choices = ClusterChoices()
        self._say("Cluster choices are read when the picker is shown.")

    def refresh(self) -> threading.Thread:
        """Read the cluster's choices again, in a background thread."""
        self.looked_up = True
        self.button.disabled = True
        self._say("Reading the cluster...")
        return self._loader.start(self._namespace())

    def wait(self, timeout: float | None = None) -> ClusterChoices:
        """Block until a running lookup is done; the choices known then."""
        self._loader.wait(timeout)
        return self.choices

    def _read_cluster(self, namespace: str) -> ClusterChoices:
        from dh_jupyter.widgets.lookup import read_cluster

        return read_cluster(namespace, self._config)

    def _loaded(self, choices: ClusterChoices) -> None:
        """Take the lookup's result (called from the lookup's thread)."""
        try:
            self.choices = choices
            self._say(choices.summary())
        finally:
            self.button.disabled = False

    def _say(self, text: str) -> None:
        self.note.value = f'<span style="color: {NOTE_COLOR}">{escaped(text)}</span>'
