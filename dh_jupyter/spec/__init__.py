"""The run spec layer: parse, check and convert "how to run this".

Pure Python: nothing here imports Kubernetes, IPython or widgets.
"""

from __future__ import annotations

from dh_jupyter.spec.errors import SpecError
from dh_jupyter.spec.model import Resource, Resources, RunSpec, Toleration, Volume

__all__ = ["Resource", "Resources", "RunSpec", "SpecError", "Toleration", "Volume"]
