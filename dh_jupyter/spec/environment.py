"""Reading the container's environment variables (``env`` or ``envs``).

The seed writes them as a list of ``{"name", "value"}``; a mapping of names
to values is accepted too. Values are strings, and numbers are written out
as text, as a shell would.
"""

from __future__ import annotations

from collections.abc import Mapping

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Problems, at, read_keys
from dh_jupyter.spec.values import is_list, show


def read_env(value: object, path: str, problems: Problems) -> dict[str, str]:
    """The checked variables of ``value``, by name."""
    # Each entry is (where the name is, where the value is, name, value).
    entries: list[tuple[str, str, object, object]] = []
    if isinstance(value, Mapping):
        entries = [
            (at(path, str(key)), at(path, str(key)), key, item)
            for key, item in value.items()
        ]
    elif is_list(value, path, '[{"name": "MY_SETTING", "value": "1"}]', problems):
        assert isinstance(value, (list, tuple))
        for index, entry in enumerate(value):
            where = at(path, index)
            if not isinstance(entry, Mapping):
                problems.add(
                    where,
                    f"{show(entry)} is not a mapping; "
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
            problems.add(where, f"{show(name)} is not a string; put it in quotes.")
            continue
        if problem := names.env_name(name):
            problems.add(where, problem)
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            problems.add(
                value_at,
                f"the value of {name} is {show(item)}; give a string instead.",
            )
            continue
        if name in env:
            problems.add(where, f'"{name}" is set twice; keep one.')
        env[name] = str(item)
    return env
