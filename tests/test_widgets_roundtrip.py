"""Every valid run spec survives a trip through the picker's form unchanged.

The specs come from the spec layer's own Hypothesis strategy, so the form is
tried on every key and spelling the spec layer accepts, not only on the
cases someone thought of.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from test_spec_property import specs

from dh_jupyter.config import DhJupyter
from dh_jupyter.spec import RunSpec
from dh_jupyter.spec.parse import SEED_KEYS
from dh_jupyter.widgets.picker import ResourcePicker


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs)
def test_a_spec_loaded_into_the_form_reads_back_as_the_same_spec(
    value: dict[str, Any],
) -> None:
    spec = RunSpec.from_dict(value)

    picker = ResourcePicker(spec, config=DhJupyter())

    assert picker.problems == []
    assert picker.spec == spec
    seed = {key: value for key, value in spec.to_dict().items() if key in SEED_KEYS}
    if spec.gpu_type:
        # The SDK has no GPU model key; the node selector is what it means.
        label = DhJupyter().gpu_product_label
        seed["node_selector"] = {**spec.node_selector, label: spec.gpu_type}
    assert picker.run_kwargs == seed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs, specs)
def test_loading_one_spec_over_another_leaves_nothing_of_the_first(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    picker = ResourcePicker(first, config=DhJupyter())

    picker.load(second)

    assert picker.spec == RunSpec.from_dict(second)
