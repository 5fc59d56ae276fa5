"""Volumes: every problem is reported once, at its place, with what was written.

A volume's problems are often several at once (a missing type and a typo in
its spec, a name and a path of the wrong type), so these cases compare the
whole list of errors: a hidden problem or a follow-on error caused by
another one is a defect just like a wrong sentence.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.specs import pvc

from dh_jupyter import RunSpec, SpecError


def problems_of(volumes: list[Any]) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"volumes": volumes})
    return [(error.field, error.problem) for error in caught.value.errors]


CASES: list[tuple[str, list[Any], list[tuple[str, str]]]] = [
    (
        "a spec typo without a type",
        [{"name": "a", "mount_path": "/a", "spec": {"claim_nme": "x"}}],
        [
            ("volumes[0].volume_type", '"volume_type" is required and is missing.'),
            (
                "volumes[0].spec.claim_nme",
                'unknown key "claim_nme"; did you mean "claim_name"?',
            ),
        ],
    ),
    (
        "a spec typo with an unknown type",
        [pvc(volume_type="nfs", spec={"secret_nam": "x"})],
        [
            (
                "volumes[0].volume_type",
                '"nfs" is not a volume type; use one of "persistent_volume_claim", '
                '"config_map", "secret", "empty_dir".',
            ),
            (
                "volumes[0].spec.secret_nam",
                'unknown key "secret_nam"; did you mean "secret_name"?',
            ),
        ],
    ),
    (
        "a name and a path that are not strings",
        [pvc(name=5, mount_path=7)],
        [
            ("volumes[0].name", "5 is not a string; put it in quotes."),
            ("volumes[0].mount_path", "7 is not a string; put it in quotes."),
        ],
    ),
    (
        "two new volumes without names",
        [
            {"volume_type": "empty_dir", "mount_path": "/a"},
            {"volume_type": "empty_dir", "mount_path": "/b"},
        ],
        [
            ("volumes[0].name", '"name" is required and is missing.'),
            ("volumes[1].name", '"name" is required and is missing.'),
        ],
    ),
    (
        "two volumes with empty names and no paths",
        [
            {"volume_type": "empty_dir", "name": ""},
            {"volume_type": "empty_dir", "name": ""},
        ],
        [
            ("volumes[0].mount_path", '"mount_path" is required and is missing.'),
            (
                "volumes[0].name",
                'the name is empty; give the volume a name such as "data".',
            ),
            ("volumes[1].mount_path", '"mount_path" is required and is missing.'),
            (
                "volumes[1].name",
                'the name is empty; give the volume a name such as "data".',
            ),
        ],
    ),
    (
        "a missing key in camelCase input",
        [{"volumeType": "empty_dir", "name": "a"}],
        [("volumes[0].mountPath", '"mountPath" is required and is missing.')],
    ),
    (
        "a missing spec key in camelCase input",
        [{"volumeType": "secret", "name": "a", "mountPath": "/a", "spec": {}}],
        [
            (
                "volumes[0].spec.secretName",
                'a secret volume needs "spec.secretName", the name of the object '
                "in Kubernetes; add it.",
            )
        ],
    ),
    (
        "one path with and without a trailing slash",
        [pvc(mount_path="/x"), pvc(name="more", mount_path="/x/")],
        [
            (
                "volumes[1].mount_path",
                '"/x/" is already where volumes[0] is mounted; mount each volume '
                "at its own path.",
            )
        ],
    ),
    (
        "one path written two ways",
        [pvc(mount_path="/data/sets"), pvc(name="more", mount_path="/data/./sets")],
        [
            (
                "volumes[1].mount_path",
                '"/data/./sets" is already where volumes[0] is mounted; mount each '
                "volume at its own path.",
            )
        ],
    ),
    (
        "the root as a mount path",
        [pvc(mount_path="/")],
        [
            (
                "volumes[0].mount_path",
                '"/" is the root of the container\'s file system, which a volume '
                'cannot replace; mount it at a folder such as "/data".',
            )
        ],
    ),
    (
        "the code's folder written with a dot",
        [pvc(mount_path="/var/run/./dh-jupyter/")],
        [
            (
                "volumes[0].mount_path",
                '"/var/run/./dh-jupyter/" is where dh_jupyter puts the cell\'s '
                "code; mount the volume somewhere else.",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("volumes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_volume_problems_are_each_reported_once_where_they_are(
    volumes: list[Any], expected: list[tuple[str, str]]
) -> None:
    assert problems_of(volumes) == expected


@pytest.mark.parametrize("mount_path", ["/data", "/data/", "/a/b/c", "/dev/shm"])
def test_ordinary_mount_paths_are_accepted(mount_path: str) -> None:
    spec = RunSpec.from_dict({"volumes": [pvc(mount_path=mount_path)]})

    assert spec.volumes[0].mount_path == mount_path


def test_a_later_layer_replaces_a_volume_at_the_same_path_written_differently() -> None:
    base = RunSpec.from_dict({"volumes": [pvc(mount_path="/data")]})
    override = RunSpec.from_dict({"volumes": [pvc(name="other", mount_path="/data/")]})

    assert [v.name for v in base.merged(override).volumes] == ["other"]
