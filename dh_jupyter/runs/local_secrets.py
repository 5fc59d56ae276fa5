"""Local stand-ins for the cluster's Secrets: files read into variables.

A spec lists Secrets by name (``secrets``, injected like ``envFrom``); on
this machine each name maps, in ``c.DhJupyter.local_secrets``, to a file of
``KEY=VALUE`` lines or to a folder with one file per key (the layout of a
mounted Secret). Values are read when a run starts and go only into the
process's environment: no message, note or file here ever holds one, and a
bad line is named by its number, never quoted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from dh_jupyter.runs.local_machine import plural
from dh_jupyter.spec import RunSpec
from dh_jupyter.spec.keys import Problems, at

if TYPE_CHECKING:
    from dh_jupyter.config import DhJupyter

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def plan_secrets(
    spec: RunSpec, config: DhJupyter, problems: Problems, notes: list[str]
) -> list[dict[str, str]]:
    """The values of each Secret in ``spec.secrets``, in order (envFrom)."""
    found = []
    for index, name in enumerate(spec.secrets):
        where = at("secrets", index)
        source = config.local_secrets.get(name)
        if source is None:
            problems.add(
                where,
                f'the Secret "{name}" has no local stand-in; add one to the '
                f'configuration: c.DhJupyter.local_secrets = {{"{name}": '
                f'"/path/to/{name}.env"}} (KEY=VALUE lines, or a folder with one '
                "file per key).",
            )
            continue
        try:
            values, skipped = read_secret(Path(source).expanduser())
        except SecretFileError as error:
            problems.add(where, f'c.DhJupyter.local_secrets["{name}"]: {error}')
            continue
        note = (
            f"secret {name}: {len(values)} {plural(len(values), 'variable')} "
            f"from {source}"
        )
        if skipped:
            # Kubernetes skips such keys too; their names are not secret.
            note += f"; skipped {', '.join(sorted(skipped))}, not valid variable names"
        notes.append(note + ".")
        found.append(values)
    return found


class SecretFileError(ValueError):
    """A local secret that cannot be read; the text never quotes a value."""


def read_secret(path: Path) -> tuple[dict[str, str], list[str]]:
    """The keys and values of a local secret, and the keys skipped as invalid.

    A folder holds one file per key (the layout of a mounted Secret); a file
    holds ``KEY=VALUE`` lines, with ``#`` comments, an optional ``export``
    and optional quotes around the value.
    """
    if path.is_dir():
        pairs = {}
        for entry in sorted(path.iterdir()):
            # A mounted Secret also holds "..data"-style links; skip hidden names.
            if entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                pairs[entry.name] = entry.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                kind = type(error).__name__
                raise SecretFileError(
                    f'the file "{entry}" cannot be read as text ({kind}); fix it '
                    "or remove it from the folder."
                ) from None
    elif path.is_file():
        pairs = _read_env_file(path)
    else:
        raise SecretFileError(
            f'"{path}" is neither a file nor a folder on this machine; create it '
            "or fix the mapping."
        )
    values = {key: value for key, value in pairs.items() if _ENV_NAME.match(key)}
    return values, [key for key in pairs if key not in values]


def _read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileError(
            f'"{path}" cannot be read as text ({error.__class__.__name__}).'
        ) from None
    pairs = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").lstrip()
        key, equals, value = stripped.partition("=")
        if not equals or not key.strip():
            # Never quote the line: it may be a value.
            raise SecretFileError(
                f'line {number} of "{path}" is not KEY=VALUE; fix that line.'
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs[key.strip()] = value
    return pairs
