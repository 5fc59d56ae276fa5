"""Volumes and Secrets on the local backend, through the mappings in configuration.

A spec names cluster objects (a claim, a config map, a Secret); the local
backend finds their local stand-ins in ``c.DhJupyter.local_volumes`` and
``c.DhJupyter.local_secrets``, shows folders at the mount path through a
link, and refuses with the exact configuration line to add when a mapping
is missing. Mount paths live under the test's ``tmp_path``, so the links
these tests make never touch the machine outside it.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from fixtures.local import FINISH_SECONDS, finished, notes, output

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs import Phase
from dh_jupyter.runs.local import LocalRun
from dh_jupyter.spec import SpecError

SECRET_VALUE = "s3cr3t-value-never-shown"


def submit(spec: dict[str, Any], code: str) -> LocalRun:
    run = dh_jupyter.runs.submit(spec, textwrap.dedent(code), backend="local")
    assert isinstance(run, LocalRun)
    return run


def volume(kind: str, name: str, mount_path: Path, /, **spec: Any) -> dict[str, Any]:
    return {
        "volume_type": kind,
        "name": name,
        "mount_path": str(mount_path),
        "spec": spec,
    }


def refusal(spec: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        dh_jupyter.runs.submit(spec, "print('never')", backend="local")
    return caught.value


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "local-data"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello from the claim")
    return folder


def test_a_claim_mapped_to_a_folder_is_visible_at_its_mount_path(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    mount = tmp_path / "mnt" / "data"
    run = submit(
        {
            "volumes": [
                volume("persistent_volume_claim", "d", mount, claim_name="datasets")
            ]
        },
        f"print(open({str(mount / 'hello.txt')!r}).read())",
    )

    assert finished(run).phase is Phase.SUCCEEDED

    assert output(run) == "hello from the claim"
    assert f"volume d: {data} at {mount}." in notes(run)
    # The link and the folder made to hold it are gone with the run.
    assert not mount.parent.exists()
    assert (data / "hello.txt").exists()


def test_a_read_only_claim_is_refused_naming_the_field_and_the_fix(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    spec = volume(
        "persistent_volume_claim",
        "d",
        tmp_path / "ro",
        claim_name="datasets",
        read_only=True,
    )

    error = refusal({"volumes": [spec]})

    assert error.field == "volumes[0].spec.read_only"
    assert error.problem == (
        f"true cannot be honoured here: the local backend shows {data} through a "
        "link and cannot make it read-only for the cell, so the cell could change "
        'your files; remove read_only (":ro") to let it write there, or run it on '
        "a cluster (--backend kubernetes)."
    )
    assert not (tmp_path / "ro").exists()
    assert dh_jupyter.runs.runs(backend="local") == []


def test_a_config_map_mapped_to_a_folder_shows_its_keys_as_files(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    settings_folder = tmp_path / "settings"
    settings_folder.mkdir()
    (settings_folder / "mode").write_text("fast")
    local_settings.local_volumes = {"configmap:app-settings": str(settings_folder)}
    mount = tmp_path / "etc" / "app"
    run = submit(
        {"volumes": [volume("config_map", "cfg", mount, name="app-settings")]},
        f"print(open({str(mount / 'mode')!r}).read())",
    )

    finished(run)

    assert output(run) == "fast"


def test_an_empty_dir_is_a_fresh_writable_folder_removed_after_the_run(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    mount = tmp_path / "scratch"
    run = submit(
        {"volumes": [volume("empty_dir", "tmp", mount, size_limit="1Gi")]},
        f"""
        import os
        print(os.listdir({str(mount)!r}))
        open({str(mount / "x")!r}, "w").write("x")
        print(os.path.realpath({str(mount)!r}))
        """,
    )

    finished(run)

    listing, real = output(run).splitlines()
    assert listing == "[]"
    assert not Path(real).exists()
    assert not mount.exists()
    assert (
        "its size_limit 1Gi is enforced as the kubelet does: the run is evicted if "
        "the folder grows past it (checked every 2 s)."
    ) in notes(run)


def test_a_run_reads_finished_only_once_its_links_and_scratch_are_gone(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    mount = tmp_path / "mnt" / "data"
    scratch = tmp_path / "scratch"
    # Many files make removing the scratch folder take a while, so a status
    # recorded before the removal is seen by the watch below.
    run = submit(
        {
            "volumes": [
                volume("persistent_volume_claim", "d", mount, claim_name="datasets"),
                volume("empty_dir", "tmp", scratch),
            ]
        },
        f"""
        import os
        for index in range(3000):
            open(os.path.join({str(scratch)!r}, str(index)), "w").close()
        print(os.path.realpath({str(scratch)!r}))
        """,
    )

    seen_at_the_end = None
    end = time.monotonic() + FINISH_SECONDS
    while seen_at_the_end is None and time.monotonic() < end:
        if run.folder.status().phase.finished:
            real = Path(output(run))
            seen_at_the_end = (os.path.lexists(mount), real.exists())

    assert run.status.phase is Phase.SUCCEEDED
    assert seen_at_the_end == (False, False)


@pytest.mark.parametrize(
    ("medium", "linger"),
    [("", 30), ("", 0), ("Memory", 30)],
    ids=["on-disk", "a-quick-cell-that-ends-at-once", "in-memory"],
)
def test_an_empty_dir_past_its_size_limit_is_evicted(
    local_settings: DhJupyter, tmp_path: Path, medium: str, linger: int
) -> None:
    mount = tmp_path / "scratch"
    spec = {"size_limit": "10Mi", **({"medium": medium} if medium else {})}
    run = submit(
        {"timeout": 120, "volumes": [volume("empty_dir", "tmp", mount, **spec)]},
        f"""
        import time
        open({str(mount / "big")!r}, "wb").write(b"x" * (30 * 2**20))
        print("written", flush=True)
        time.sleep({linger})
        print("still going")
        """,
    )

    status = finished(run)

    assert status.phase is Phase.FAILED
    assert status.reason == (
        'it was evicted: usage of the empty_dir volume "tmp" exceeds its '
        'size_limit "10Mi"'
    )
    assert status.hint == (
        'Give it more room: set volumes[0].spec.size_limit to "20Mi" or more, or '
        "make the cell write less there."
    )
    assert "stopped: the empty_dir volume tmp holds 30 MiB, more than its " in notes(
        run
    )
    if linger:
        assert "still going" not in output(run)
    assert not mount.exists()


def test_an_empty_dir_within_its_size_limit_is_left_alone(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    mount = tmp_path / "scratch"
    run = submit(
        {"volumes": [volume("empty_dir", "tmp", mount, size_limit="10Mi")]},
        f"open({str(mount / 'small')!r}, 'wb').write(b'x' * 2**20); print('ok')",
    )

    assert finished(run).phase is Phase.SUCCEEDED
    assert output(run) == "ok"


def test_an_in_memory_empty_dir_lives_in_dev_shm(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("this machine has no /dev/shm")
    mount = tmp_path / "fast"
    run = submit(
        {"volumes": [volume("empty_dir", "fast", mount, medium="Memory")]},
        f"import os; print(os.path.realpath({str(mount)!r}))",
    )

    finished(run)

    assert output(run).startswith("/dev/shm/dh-jupyter-")
    assert not Path(output(run)).exists()


def test_shm_uses_the_machines_own_dev_shm(local_settings: DhJupyter) -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("this machine has no /dev/shm")
    spec = volume(
        "empty_dir", "shm", Path("/dev/shm"), medium="Memory", size_limit="1Gi"
    )

    run = submit({"volumes": [spec]}, "import os; print(os.path.isdir('/dev/shm'))")

    finished(run)
    assert output(run) == "True"
    assert "this machine's own /dev/shm is used as it is" in notes(run)
    assert not Path("/dev/shm").is_symlink()


def test_two_runs_share_the_same_folder_at_the_same_path(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    mount = tmp_path / "shared"
    spec = {
        "volumes": [
            volume("persistent_volume_claim", "d", mount, claim_name="datasets")
        ]
    }
    go = tmp_path / "go"
    waiting = f"""
        import os, time
        while not os.path.exists({str(go)!r}):
            time.sleep(0.02)
        print(open({str(mount / "hello.txt")!r}).read())
        """
    first = submit({**spec, "timeout": 120}, waiting)
    second = submit({**spec, "timeout": 120}, waiting)
    go.touch()

    assert finished(first).phase is Phase.SUCCEEDED
    assert finished(second).phase is Phase.SUCCEEDED
    assert output(first) == output(second) == "hello from the claim"
    assert not mount.exists()


def test_a_path_in_use_by_another_folder_is_refused(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    local_settings.local_volumes = {"pvc:datasets": str(data), "pvc:other": str(other)}
    mount = tmp_path / "busy"
    holder = submit(
        {
            "timeout": 120,
            "volumes": [
                volume("persistent_volume_claim", "d", mount, claim_name="datasets")
            ],
        },
        "import time; time.sleep(120)",
    )

    error = refusal(
        {"volumes": [volume("persistent_volume_claim", "o", mount, claim_name="other")]}
    )

    assert error.field == "volumes[0].mount_path"
    assert error.problem == (
        f'"{mount}" is in use by the local run {holder.name}, linked to {data}; '
        "wait until it ends, or choose another mount path."
    )
    holder.cancel()
    assert not mount.exists()


def test_a_mount_path_that_already_is_the_folder_is_used_and_kept(
    local_settings: DhJupyter, data: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    run = submit(
        {
            "volumes": [
                volume("persistent_volume_claim", "d", data, claim_name="datasets")
            ]
        },
        f"print(open({str(data / 'hello.txt')!r}).read())",
    )

    finished(run)

    assert output(run) == "hello from the claim"
    assert data.is_dir()
    assert not data.is_symlink()


@pytest.mark.parametrize(
    "secret_file",
    [
        f"# a comment\nexport API_TOKEN='{SECRET_VALUE}'\nREGION = eu-1\n",
        {"API_TOKEN": SECRET_VALUE, "REGION": "eu-1"},
    ],
    ids=["env-file", "folder-of-keys"],
)
def test_a_secret_becomes_environment_variables(
    local_settings: DhJupyter, tmp_path: Path, secret_file: str | dict[str, str]
) -> None:
    source = tmp_path / "api.env"
    if isinstance(secret_file, str):
        source.write_text(secret_file)
    else:
        source.mkdir()
        for key, value in secret_file.items():
            (source / key).write_text(value)
    local_settings.local_secrets = {"api": str(source)}
    run = submit(
        {"secrets": ["api"]},
        f"""
        import os
        print(os.environ["API_TOKEN"] == {SECRET_VALUE!r}, os.environ["REGION"])
        """,
    )

    assert finished(run).phase is Phase.SUCCEEDED

    assert output(run) == "True eu-1"
    assert f"secret api: 2 variables from {source}." in notes(run)


def test_a_secrets_value_is_written_nowhere(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    source = tmp_path / "api.env"
    source.write_text(f"API_TOKEN={SECRET_VALUE}\n")
    local_settings.local_secrets = {"api": str(source)}
    run = submit({"secrets": ["api"]}, "import os; assert os.environ['API_TOKEN']")

    finished(run)

    for path in run.folder.path.rglob("*"):
        if path.is_file():
            assert SECRET_VALUE not in path.read_text(errors="replace"), path
    assert SECRET_VALUE not in repr(run.status) + json.dumps(run.folder.info())


def test_spec_env_wins_over_a_secret_and_invalid_keys_are_skipped(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    source = tmp_path / "keys"
    source.mkdir()
    (source / "MODE").write_text("from-secret")
    (source / "not a name").write_text("x")
    (source / ".hidden").write_text("x")
    local_settings.local_secrets = {"keys": str(source)}
    run = submit(
        {"secrets": ["keys"], "env": [{"name": "MODE", "value": "from-env"}]},
        "import os; print(os.environ['MODE'])",
    )

    finished(run)

    assert output(run) == "from-env"
    assert "skipped not a name, not valid variable names" in notes(run)


def test_a_secret_folder_can_be_mounted_as_a_secret_volume(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    source = tmp_path / "creds"
    source.mkdir()
    (source / "token").write_text(SECRET_VALUE)
    local_settings.local_secrets = {"creds": str(source)}
    mount = tmp_path / "secrets"
    run = submit(
        {"volumes": [volume("secret", "c", mount, secret_name="creds")]},
        f"print(open({str(mount / 'token')!r}).read() == {SECRET_VALUE!r})",
    )

    finished(run)

    assert output(run) == "True"


# The refusals: one sentence naming the field, the value and the fix.


def test_a_claim_without_a_mapping_names_the_line_to_add(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    error = refusal(
        {
            "volumes": [
                volume(
                    "persistent_volume_claim",
                    "d",
                    tmp_path / "d",
                    claim_name="datasets",
                )
            ]
        }
    )

    assert error.field == "volumes[0].spec.claim_name"
    assert error.problem == (
        'the claim "datasets" has no local folder; add one to the configuration: '
        'c.DhJupyter.local_volumes = {"pvc:datasets": "/path/to/folder"} (in '
        "ipython_config.py, or with %config in the notebook)."
    )


@pytest.mark.parametrize(
    ("spec", "field", "start"),
    [
        (
            {
                "volumes": [
                    {
                        "volume_type": "config_map",
                        "name": "c",
                        "mount_path": "/c",
                        "spec": {"name": "app"},
                    }
                ]
            },
            "volumes[0].spec.name",
            'the config map "app" has no local folder; add one to the configuration: '
            'c.DhJupyter.local_volumes = {"configmap:app": "/path/to/folder"}',
        ),
        (
            {
                "volumes": [
                    {
                        "volume_type": "secret",
                        "name": "s",
                        "mount_path": "/s",
                        "spec": {"secret_name": "creds"},
                    }
                ]
            },
            "volumes[0].spec.secret_name",
            'the Secret "creds" has no local folder; add one to the configuration: '
            'c.DhJupyter.local_secrets = {"creds": "/path/to/folder"}',
        ),
        (
            {"secrets": ["hf-token"]},
            "secrets[0]",
            'the Secret "hf-token" has no local stand-in; add one to the '
            'configuration: c.DhJupyter.local_secrets = {"hf-token": '
            '"/path/to/hf-token.env"} (KEY=VALUE lines, or a folder with one file '
            "per key).",
        ),
    ],
    ids=["config-map", "secret-volume", "secret-env"],
)
def test_a_missing_mapping_names_the_exact_trait_entry_to_add(
    local_settings: DhJupyter, spec: dict[str, Any], field: str, start: str
) -> None:
    error = refusal(spec)

    assert error.field == field
    assert error.problem.startswith(start)


def test_every_missing_mapping_is_reported_at_once(local_settings: DhJupyter) -> None:
    error = refusal(
        {
            "secrets": ["a", "b"],
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "d",
                    "mount_path": "/d",
                    "spec": {"claim_name": "datasets"},
                }
            ],
        }
    )

    assert [problem.field for problem in error.errors] == [
        "volumes[0].spec.claim_name",
        "secrets[0]",
        "secrets[1]",
    ]


@pytest.mark.parametrize(
    ("mapping", "make", "problem"),
    [
        (
            {"local_volumes": {"pvc:datasets": "{tmp}/missing"}},
            None,
            'c.DhJupyter.local_volumes["pvc:datasets"] is "{tmp}/missing", which '
            "is not a folder on this machine; create it or fix the mapping.",
        ),
        (
            {"local_secrets": {"creds": "{tmp}/creds.env"}},
            "file",
            'c.DhJupyter.local_secrets["creds"] is "{tmp}/creds.env", a file; a '
            "secret volume needs a folder with one file per key, so map it to such "
            "a folder.",
        ),
    ],
    ids=["missing-folder", "secret-volume-from-a-file"],
)
def test_a_mapping_to_the_wrong_kind_of_path_is_refused(
    local_settings: DhJupyter,
    tmp_path: Path,
    mapping: dict[str, dict[str, str]],
    make: str | None,
    problem: str,
) -> None:
    for trait, entries in mapping.items():
        setattr(
            local_settings,
            trait,
            {key: value.format(tmp=tmp_path) for key, value in entries.items()},
        )
    if make == "file":
        (tmp_path / "creds.env").write_text("A=1\n")
    if "local_secrets" in mapping:
        spec = volume("secret", "s", tmp_path / "s", secret_name="creds")
    else:
        spec = volume(
            "persistent_volume_claim", "d", tmp_path / "d", claim_name="datasets"
        )

    error = refusal({"volumes": [spec]})

    assert error.problem == problem.format(tmp=tmp_path)


def test_a_bad_line_in_a_secret_file_is_named_without_its_content(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    source = tmp_path / "bad.env"
    source.write_text(f"GOOD=1\n{SECRET_VALUE}\n")
    local_settings.local_secrets = {"bad": str(source)}

    error = refusal({"secrets": ["bad"]})

    assert error.field == "secrets[0]"
    assert error.problem == (
        f'c.DhJupyter.local_secrets["bad"]: line 2 of "{source}" is not '
        "KEY=VALUE; fix that line."
    )
    assert SECRET_VALUE not in str(error)


def test_a_mount_path_that_cannot_be_made_names_the_mapping_to_add(
    local_settings: DhJupyter, data: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    # /proc refuses new entries even to root, so this fails on any Linux.
    mount = "/proc/dh-jupyter-test/data"

    error = refusal(
        {
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "d",
                    "mount_path": mount,
                    "spec": {"claim_name": "datasets"},
                }
            ]
        }
    )

    assert error.field == "volumes[0].mount_path"
    assert error.problem.startswith(f'"{mount}" cannot be made on this machine (')
    assert error.problem.endswith(
        "); choose a mount path in a folder you can write, or make "
        f'"{mount}" yourself (a folder or a link) and map the claim "datasets" '
        f'to it: c.DhJupyter.local_volumes = {{"pvc:datasets": "{mount}"}}.'
    )


def test_an_existing_path_is_never_replaced(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "precious").write_text("keep me")

    error = refusal(
        {
            "volumes": [
                volume("persistent_volume_claim", "d", taken, claim_name="datasets")
            ]
        }
    )

    assert error.problem.startswith(
        f'"{taken}" already exists on this machine and is not {data}; choose a '
        "mount path in a folder you can write, or make"
    )
    assert (taken / "precious").read_text() == "keep me"


def test_nested_mount_paths_are_refused(
    local_settings: DhJupyter, tmp_path: Path
) -> None:
    error = refusal(
        {
            "volumes": [
                volume("empty_dir", "outer", tmp_path / "a"),
                volume("empty_dir", "inner", tmp_path / "a" / "b"),
            ]
        }
    )

    assert error.field == "volumes[1].mount_path"
    assert error.problem == (
        f'"{tmp_path / "a" / "b"}" is inside "{tmp_path / "a"}", another volume\'s '
        "mount path; the local backend cannot nest mounts, so choose a path "
        "outside it."
    )


def test_a_refused_run_leaves_nothing_behind(
    local_settings: DhJupyter, data: Path, tmp_path: Path
) -> None:
    local_settings.local_volumes = {"pvc:datasets": str(data)}
    taken = tmp_path / "taken"
    taken.mkdir()
    good = tmp_path / "good" / "mount"

    refusal(
        {
            "volumes": [
                volume("persistent_volume_claim", "a", good, claim_name="datasets"),
                volume("persistent_volume_claim", "b", taken, claim_name="datasets"),
            ]
        }
    )

    assert not good.parent.exists()
    assert dh_jupyter.runs.runs(backend="local") == []
