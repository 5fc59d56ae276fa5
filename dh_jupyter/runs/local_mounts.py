"""Making a run's volumes visible at their mount paths, and taking them away.

Without containers there is no private file system to mount into, so a
volume's local folder appears at its mount path through a symbolic link.
The link is shared by the whole machine, so the links are counted: a
registry (``mounts.json`` in the state directory, under a lock) records which
runs use each link, two runs asking for the same folder at the same path
share it, a run asking for a different folder at a path in use is refused,
and the link (with any folders made to hold it) goes away when the last run
using it ends. A path that already exists and is the mapped folder itself is
used as it is and never removed; any other existing path is refused, never
replaced.

Releasing is idempotent and also happens lazily: every registry change
first drops runs that have ended, so a run whose supervisor was killed
gives its links back the next time anyone mounts or releases.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dh_jupyter.runs.local_state import Mount, RunFolder
from dh_jupyter.spec import SpecError

log = logging.getLogger(__name__)

Registry = dict[str, dict[str, Any]]


def acquire(folder: RunFolder, mounts: Sequence[Mount]) -> None:
    """Make every mount of the run in ``folder`` visible, or none of them.

    Raises ``SpecError`` naming the volume's mount path and the fix when a
    path is taken or cannot be made.
    """
    for mount in mounts:
        if mount.scratch:
            Path(mount.target).mkdir(parents=True, mode=0o700)

    problems: list[SpecError] = []
    with _registry(folder.root) as registry:
        _forget_ended(folder.root, registry)
        for mount in mounts:
            try:
                _link(registry, folder.name, mount)
            except SpecError as error:
                problems.append(error)
    if problems:
        release(folder)
        raise SpecError.combine(problems)


def release(folder: RunFolder) -> None:
    """Take away the links of the run in ``folder`` and its empty dirs' content."""
    with _registry(folder.root) as registry:
        for entry in registry.values():
            if folder.name in entry["runs"]:
                entry["runs"].remove(folder.name)
        _forget_ended(folder.root, registry)

    if not folder.exists():
        return
    for mount in folder.info().get("plan", {}).get("mounts", []):
        if mount["scratch"]:
            shutil.rmtree(mount["target"], ignore_errors=True)


def _link(registry: Registry, run: str, mount: Mount) -> None:
    link = os.path.normpath(mount.link)
    entry = registry.get(link)
    users: list[str] = entry["runs"] if entry else []

    if users and entry and entry["target"] != mount.target:
        raise SpecError(
            mount.field,
            f'"{mount.link}" is in use by the local run {users[0]}, linked to '
            f"{entry['target']}; wait until it ends, or choose another mount path.",
        )
    if entry and _points_to(link, mount.target):
        users.append(run)
        return
    if os.path.lexists(link):
        if entry and not users and os.path.islink(link):
            # A link this registry made for runs that have all ended.
            os.unlink(link)
        elif _same(link, mount.target):
            log.info("Using %s as it is: it is already %s.", link, mount.target)
            return
        else:
            raise SpecError(
                mount.field,
                f'"{mount.link}" already exists on this machine and is not '
                f"{mount.target}; {mount.fix}.",
            )

    made = entry["made"] if entry else _make_parents(Path(link).parent, mount)
    try:
        os.symlink(mount.target, link, target_is_directory=True)
    except OSError as error:
        _remove_made(made)
        raise SpecError(
            mount.field, _cannot_make(mount, error.strerror or str(error))
        ) from None
    registry[link] = {"target": mount.target, "runs": [*users, run], "made": made}
    log.info("Linked %s to %s for the local run %s.", link, mount.target, run)


def _make_parents(parent: Path, mount: Mount) -> list[str]:
    """Make the missing folders above a link; return them, outermost first."""
    missing = []
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    made: list[str] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except OSError as error:
            _remove_made(made)
            raise SpecError(
                mount.field, _cannot_make(mount, error.strerror or str(error))
            ) from None
        made.append(str(path))
    return made


def _cannot_make(mount: Mount, reason: str) -> str:
    return f'"{mount.link}" cannot be made on this machine ({reason}); {mount.fix}.'


def _points_to(link: str, target: str) -> bool:
    return os.path.islink(link) and os.readlink(link) == target


def _same(path: str, target: str) -> bool:
    try:
        return os.path.samefile(path, target)
    except OSError:
        return False


def _forget_ended(root: Path, registry: Registry) -> None:
    """Drop runs that no longer hold their links, and links no run holds."""
    for link in list(registry):
        entry = registry[link]
        entry["runs"] = [
            run for run in entry["runs"] if RunFolder(root / run).holds_resources()
        ]
        if entry["runs"]:
            continue
        if _points_to(link, entry["target"]):
            os.unlink(link)
        _remove_made(entry["made"])
        del registry[link]
        log.info("Removed the link %s: no local run uses it any more.", link)


def _remove_made(made: list[str]) -> None:
    for path in reversed(made):
        try:
            os.rmdir(path)
        except OSError:
            # Something else was put there since; leave it.
            return


@contextlib.contextmanager
def _registry(root: Path) -> Iterator[Registry]:
    """The registry of links, locked and saved back when the block ends."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = root / "mounts.json"
    with open(root / "mounts.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            registry: Registry = (
                json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            )
            yield registry
            partial = root / f".mounts.json.{os.getpid()}"
            partial.write_text(json.dumps(registry, indent=1), encoding="utf-8")
            os.replace(partial, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
