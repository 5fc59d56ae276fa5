"""Names for Jobs and the labels that find them again.

Names are made on the client, before anything is sent, so that a create
retried after a dropped connection asks for the same name and cannot make a
second Job. They read as ``dhrun-<slug>-<random>``: the slug says what the
run is (the notebook or a name the user gave), the random part keeps runs of
the same notebook apart.
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath

from dh_jupyter.spec import SpecError
from dh_jupyter.spec.names import dns_label

PREFIX = "dhrun"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "dh-jupyter"
USER_LABEL = "dh-jupyter.io/user"
NOTEBOOK_LABEL = "dh-jupyter.io/notebook"
RUN_LABEL = "dh-jupyter.io/run"
NOTEBOOK_ANNOTATION = "dh-jupyter.io/notebook-path"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_RANDOM_LENGTH = 5
_MAX_NAME = 63


def slug(text: str, *, limit: int = 40) -> str:
    """``text`` as lower-case letters, digits and dashes, at most ``limit`` long."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].rstrip("-")


def job_name(hint: str = "") -> str:
    """A fresh, readable Job name: ``dhrun-<slug of hint>-<random>``."""
    room = _MAX_NAME - len(PREFIX) - _RANDOM_LENGTH - 2
    middle = slug(hint, limit=room) or "cell"
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return f"{PREFIX}-{middle}-{tail}"


def run_name(name: str | None, exact: str | None, notebook: str) -> str:
    """The run's name: ``exact`` as given, else fresh from ``name`` or the notebook.

    ``name`` is the readable part, as ``%%dhrun --name`` is; ``exact`` is a
    whole name made earlier (the ``job_name=`` of the public functions).
    """
    if name and exact:
        raise TypeError("give either name or job_name, not both.")
    if exact:
        if problem := dns_label(exact):
            raise SpecError("job_name", problem)
        return exact
    if name:
        if not slug(name):
            raise SpecError(
                "name",
                f'"{name}" has no letters or digits to name the run by; give a '
                'name such as "train".',
            )
        return job_name(name)
    return job_name(PurePosixPath(notebook).stem)


def label_value(text: str) -> str:
    """``text`` made safe as a label value (63 characters, alphanumeric ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:_MAX_NAME]
    return cleaned.strip("-_.")


def selector(user: str) -> str:
    """The label selector of one user's runs."""
    return f"{MANAGED_BY}={MANAGER},{USER_LABEL}={label_value(user)}"
