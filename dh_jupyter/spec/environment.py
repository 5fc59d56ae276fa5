"""Reading the container's environment variables (``env`` or ``envs``).

The seed writes them as a list of ``{"name", "value"}``; a mapping of names
to values is accepted too. Values are strings, and numbers are written out
as text, as a shell would. Values are often tokens, so no message here ever
shows one: a problem names the variable and what sort of value it got.
"""

from __future__ import annotations

from collections.abc import Mapping

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Problems, at, read_keys
from dh_jupyter.spec.values import is_list, kind


def read_env(value: object, path: str, problems: Problems) -> dict[str, str]:
    """The checked variables of ``value``, by name."""
    # Each entry is (where the name is, where the value is, name, value).
    entries: list[tuple[str, str, object, object]] = []
    if isinstance(value, Mapping):
        entries = [
            (_key_path(path, key), _key_path(path, key), key, item)
            for key, item in value.items()
        ]
    elif is_list(
        value,
        path,
        '[{"name": "MY_SETTING", "value": "1"}]',
        problems,
        secret=True,
    ):
        assert isinstance(value, (list, tuple))
        for index, entry in enumerate(value):
            where = at(path, index)
            if not isinstance(entry, Mapping):
                problems.add(
                    where,
                    f"{kind(entry)} is not a mapping; "
                    'write {"name": ..., "value": ...}.',
                )
                continue
            found = read_keys(entry, ("name", "value"), where, problems)
            if "name" not in found:
                problems.add(at(where, "name"), '"name" is required and is missing.')
                continue
            entries.append(
                (
                    found.at("name"),
                    found.at("value"),
                    found["name"],
                    found.get("value", ""),
                )
            )

    env: dict[str, str] = {}
    for where, value_at, name, item in entries:
        if not isinstance(name, str):
            problems.add(
                where, f"the name is {kind(name)}, not a string; write it in quotes."
            )
            continue
        if problem := names.env_name(name):
            problems.add(where, problem)
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            problems.add(
                value_at,
                f"the value of {name} is {kind(item)}, not a string; "
                'give a string such as "1" instead.',
            )
            continue
        if name in env:
            problems.add(where, f'"{name}" is set twice; keep one.')
        env[name] = str(item)
    return env


def _key_path(path: str, key: object) -> str:
    """The field path of a mapping's key, cut at "=" so no value shows in it."""
    return at(path, str(key).split("=", 1)[0]) if isinstance(key, str) else path
