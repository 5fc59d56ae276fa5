"""The picker's profile chooser: the named starting points of the configuration.

A profile (``DhJupyter.profiles``) is a whole run spec an administrator
wrote once, such as "gpu-v100". Choosing one replaces what the form holds,
and the user then changes what they like. A spec given together with a
profile is laid over it, in the order ``%%dhrun`` uses, so the picker and
the magic mean the same thing by the same words.

The chooser knows the names and what they stand for; it does not fill the
form itself. The picker does, in one batch, so the form is checked once.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import TraitError

from dh_jupyter.config import DhJupyter
from dh_jupyter.spec import RunSpec, SpecError

NO_PROFILE = "(no profile)"


class ProfileChooser(widgets.Dropdown):
    """ "(no profile)" and every configured profile, by name."""

    def __init__(self, config: DhJupyter, **kwargs: Any) -> None:
        self._config = config
        super().__init__(
            options=[(NO_PROFILE, ""), *((n, n) for n in config.profiles)],
            description="Profile",
            style={"description_width": "initial"},
            **kwargs,
        )
        self.add_class("dh-profile")

    def check(self, name: str) -> str:
        """``name`` if it is "" or a configured profile; ``TraitError`` if not."""
        if name:
            try:
                self._config.profile(name)
            except SpecError as error:
                raise TraitError(str(error)) from None
        return name

    def spec(self, name: str) -> RunSpec:
        """The run spec of the profile called ``name``."""
        return self._config.profile(name)

    def starting_spec(self, name: str, given: RunSpec) -> RunSpec:
        """The profile ``name`` (if any), then ``given`` over it."""
        # The order %%dhrun uses: the profile, then the spec over it.
        base = self._config.profile(name) if name else RunSpec()
        return base.merged(given)
