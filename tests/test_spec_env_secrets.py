"""Environment values never appear in an error: they are often tokens.

A user who pastes ``HF_TOKEN=hf_...`` in the wrong shape must be told what
is wrong without the token being printed into the notebook's output, a
log, or a screenshot. Errors under ``env`` and ``envs`` name the type or
the variable's name, never its value.
"""

from __future__ import annotations

from typing import Any

import pytest

from dh_jupyter import RunSpec, SpecError
from dh_jupyter.spec.flags import flags_to_dict

SECRET = "hf_SECRETVALUE"

MALFORMED: list[Any] = [
    [["TOKEN", SECRET]],
    ("TOKEN", SECRET),
    f"TOKEN={SECRET}",
    [f"TOKEN={SECRET}"],
    [{"name": f"TOKEN={SECRET}"}],
    [{"name": f"TOKEN={SECRET}", "value": ""}],
    {f"TOKEN={SECRET}": ""},
    [{"name": "TOKEN", "value": [SECRET]}],
    [{"name": "TOKEN", "value": {"secret": SECRET}}],
    {"TOKEN": [SECRET]},
    {"TOKEN": {SECRET: SECRET}},
    [{"name": "TOKEN", "value": SECRET}, {"name": "TOKEN", "value": SECRET}],
    [{"name": "TOKEN", "vaule": SECRET}],
    [{"value": SECRET}],
    SECRET,
    {SECRET},
]


@pytest.mark.parametrize("key", ["env", "envs"])
@pytest.mark.parametrize("env", MALFORMED, ids=range(len(MALFORMED)))
def test_no_error_about_malformed_env_shows_the_value(key: str, env: Any) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({key: env})

    assert caught.value.errors
    for error in caught.value.errors:
        assert "SECRET" not in error.field
        assert "SECRET" not in error.problem
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize("flag", [SECRET, f"={SECRET}", f"TOKEN={SECRET}=x="])
def test_no_error_about_an_env_flag_shows_the_value(flag: str) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(flags_to_dict(env=[flag, "TOKEN=a", "TOKEN=b"]))

    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "field", "problem"),
    [
        (
            [["TOKEN", SECRET]],
            "env[0]",
            'a list is not a mapping; write {"name": ..., "value": ...}.',
        ),
        (
            f"TOKEN={SECRET}",
            "env",
            'a string is not a list; write a list such as [{"name": "MY_SETTING", '
            '"value": "1"}].',
        ),
        (
            [{"name": "TOKEN", "value": [SECRET]}],
            "env[0].value",
            "the value of TOKEN is a list, not a string; "
            'give a string such as "1" instead.',
        ),
        (
            [{"name": f"TOKEN={SECRET}"}],
            "env[0].name",
            'the name contains "="; use the name "TOKEN" alone and put what '
            'follows "=" in "value".',
        ),
    ],
)
def test_env_errors_name_the_type_or_the_name_and_the_fix(
    env: Any, field: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"env": env})

    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_a_spec_shown_with_repr_does_not_show_env_values() -> None:
    spec = RunSpec.from_dict({"env": {"TOKEN": SECRET}})

    assert "SECRET" not in repr(spec)
