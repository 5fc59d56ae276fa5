"""Local stand-ins for the cluster's volumes: which folder shows where.

A spec's claims and config maps map, in ``c.DhJupyter.local_volumes``, to
local folders (keyed ``pvc:CLAIM`` and ``configmap:NAME``, like the
``--volume`` flag), a secret volume to a folder in
``c.DhJupyter.local_secrets``, and an empty dir to a fresh folder of the run
(under ``/dev/shm`` for ``medium: Memory``). This module only decides, and
refuses with the exact configuration line to add; ``local_mounts`` makes
the links when the run starts. A ``read_only`` claim is refused: a link
cannot make a folder read-only for one process (a bind mount would, and it
needs privileges), and changing the permissions of the user's own data is
not dh-jupyter's to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from dh_jupyter.runs.local_state import Mount
from dh_jupyter.runs.local_usage import FOLDER_CHECK_SECONDS
from dh_jupyter.spec import RunSpec, Volume
from dh_jupyter.spec.keys import Problems, at
from dh_jupyter.spec.quantity import parse_quantity

if TYPE_CHECKING:
    from dh_jupyter.config import DhJupyter

_SHM = Path("/dev/shm")
_CLUSTER = "run it on a cluster (--backend kubernetes)"


def plan_volumes(
    spec: RunSpec,
    config: DhJupyter,
    folder: Path,
    problems: Problems,
    notes: list[str],
) -> list[Mount]:
    """The local folder of each volume of ``spec``, and where it shows.

    Problems (a missing mapping, a path that is no folder, nested mount
    paths) go to ``problems``; how each volume is honoured goes to ``notes``.
    """
    mounts = []
    for index, volume in enumerate(spec.volumes):
        where = at("volumes", index)
        path_field = at(where, "mount_path")
        if volume.volume_type == "empty_dir" and _is_machine_shm(volume.mount_path):
            # --shm: this machine's own shared memory is already there.
            notes.append(
                f"volume {volume.name}: this machine's own /dev/shm is used as it "
                "is, shared with other programs, with no size limit, and what the "
                "cell writes there does not count towards its memory limit."
            )
            continue
        if volume.volume_type == "empty_dir":
            mounts.append(_empty_dir(volume, folder, path_field))
            notes.append(_empty_dir_note(volume, mounts[-1]))
            continue

        if volume.volume_type == "secret":
            secret = volume.spec["secret_name"]
            trait, key = "local_secrets", secret
            source = config.local_secrets.get(secret)
            spec_field = at(where, "spec.secret_name")
            what = f'the Secret "{secret}"'
        else:
            kind = (
                "pvc"
                if volume.volume_type == "persistent_volume_claim"
                else "configmap"
            )
            name = volume.spec["claim_name" if kind == "pvc" else "name"]
            trait, key = "local_volumes", f"{kind}:{name}"
            source = config.local_volumes.get(key)
            spec_field = at(where, "spec.claim_name" if kind == "pvc" else "spec.name")
            what = f'the {"claim" if kind == "pvc" else "config map"} "{name}"'
        mapping = f'c.DhJupyter.{trait} = {{"{key}": "/path/to/folder"}}'

        if source is None:
            problems.add(
                spec_field,
                f"{what} has no local folder; add one to the configuration: "
                f"{mapping} (in ipython_config.py, or with %config in the "
                "notebook).",
            )
            continue
        target = Path(source).expanduser().absolute()
        if not target.is_dir():
            if target.is_file() and trait == "local_secrets":
                problem = (
                    "a file; a secret volume needs a folder with one file per "
                    "key, so map it to such a folder."
                )
            else:
                problem = (
                    "which is not a folder on this machine; create it or fix the "
                    "mapping."
                )
            problems.add(
                spec_field, f'c.DhJupyter.{trait}["{key}"] is "{source}", {problem}'
            )
            continue
        fix = (
            "choose a mount path in a folder you can write, or make "
            f'"{volume.mount_path}" yourself (a folder or a link) and map '
            f'{what} to it: c.DhJupyter.{trait} = {{"{key}": '
            f'"{volume.mount_path}"}}'
        )
        if volume.spec.get("read_only"):
            # A link shows the folder as it is; making it read-only for the
            # cell alone takes a bind mount, which needs privileges.
            problems.add(
                at(where, "spec.read_only"),
                f"true cannot be honoured here: the local backend shows {target} "
                "through a link and cannot make it read-only for the cell, so "
                'the cell could change your files; remove read_only (":ro") '
                f"to let it write there, or {_CLUSTER}.",
            )
            continue
        mounts.append(Mount(path_field, volume.mount_path, str(target), fix))
        notes.append(f"volume {volume.name}: {target} at {volume.mount_path}.")

    _no_nesting(mounts, problems)
    return mounts


def _empty_dir(volume: Volume, folder: Path, path_field: str) -> Mount:
    in_memory = _in_memory(volume)
    if in_memory:
        target = _SHM / f"dh-jupyter-{folder.name}-{volume.name}"
    else:
        target = folder / "scratch" / volume.name
    fix = "choose a mount path in a folder you can write"
    size_text = str(volume.spec.get("size_limit") or "")
    return Mount(
        path_field,
        volume.mount_path,
        str(target),
        fix,
        scratch=True,
        volume=volume.name,
        size_limit=int(parse_quantity(size_text, memory=True)) if size_text else None,
        size_text=size_text,
        in_memory=in_memory,
    )


def _is_machine_shm(mount_path: str) -> bool:
    return os.path.normpath(mount_path) == str(_SHM) and _SHM.is_dir()


def _in_memory(volume: Volume) -> bool:
    return (
        volume.spec.get("medium") == "Memory"
        and _SHM.is_dir()
        and os.access(_SHM, os.W_OK)
    )


def _empty_dir_note(volume: Volume, mount: Mount) -> str:
    note = (
        f"volume {volume.name}: an empty folder at {volume.mount_path}, removed "
        "when the run ends"
    )
    if volume.spec.get("medium") == "Memory":
        note += (
            " (in memory, under /dev/shm; its files count towards the memory "
            "limit, as on a cluster)"
            if mount.in_memory
            else " (on disk: this machine has no /dev/shm to write)"
        )
    if mount.size_limit is not None:
        note += (
            f"; its size_limit {mount.size_text} is enforced as the kubelet does: "
            f"the run is evicted if the folder grows past it (checked every "
            f"{FOLDER_CHECK_SECONDS:g} s)"
        )
    return note + "."


def _no_nesting(mounts: list[Mount], problems: Problems) -> None:
    # A link inside another volume's link would be made inside that folder.
    for outer in mounts:
        for inner in mounts:
            if inner.link.startswith(outer.link.rstrip("/") + "/"):
                problems.add(
                    inner.field,
                    f'"{inner.link}" is inside "{outer.link}", another volume\'s '
                    "mount path; the local backend cannot nest mounts, so choose "
                    "a path outside it.",
                )
