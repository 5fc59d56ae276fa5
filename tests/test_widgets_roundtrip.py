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
    assert picker.run_kwargs == spec.to_dict()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs, specs)
def test_loading_one_spec_over_another_leaves_nothing_of_the_first(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    picker = ResourcePicker(first, config=DhJupyter())

    picker.load(second)

    assert picker.spec == RunSpec.from_dict(second)
