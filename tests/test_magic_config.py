"""Loading and configuring the magics: light, documented, a bad profile contained.

The profile tests start a real ``ipython`` with an ``ipython_config.py``, as
an administrator's configuration reaches a user, and in the test's own shell
through ``%config``-style settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dh_jupyter.config import DhJupyter

SETTINGS = sorted(DhJupyter.class_trait_names(config=True))

BAD_PROFILE = (
    "c.DhJupyter.profiles['huge'] (the profile \"huge\") is not a valid run spec: "
    'resources.mem.requests: "64GB" is not a Kubernetes quantity; did you mean '
    '"64G" or "64Gi"?'
)


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_says_what_it_does_with_an_example_and_its_default(
    name: str,
) -> None:
    text = " ".join((DhJupyter.class_traits()[name].help or "").split())

    assert len(text.split("Example")[0].split()) >= 6, f"{name}: say what it does"
    assert "Example: " in text or "Examples: " in text, f"{name}: give an example"
    assert "Default: " in text, f"{name}: say its default"


def test_loading_the_extension_leaves_the_cluster_layer_unloaded() -> None:
    probe = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'dh_jupyter')\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    loaded = done.stdout.split()
    assert "dh_jupyter.magics.dhrun" in loaded
    # The cluster layer loads with the first run on a cluster, not before.
    assert [m for m in loaded if m.startswith("dh_jupyter.runs.kubernetes")] == []
    assert [m for m in loaded if m.startswith("dh_jupyter.cluster.client")] == []


def run_ipython(tmp_path: Path, config: str, *cells: str) -> str:
    """What ``ipython`` prints running ``cells`` under this ``ipython_config.py``."""
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    lines = [config, f"c.InteractiveShellApp.exec_lines = {list(cells)!r}"]
    (profile / "ipython_config.py").write_text("\n".join(lines) + "\n")
    # Unbuffered, so printed lines and UsageErrors arrive in their order.
    env = {
        **os.environ,
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("KUBECONFIG", None)

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--no-banner",
            "--colors=nocolor",
            "-c",
            "pass",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert "Traceback" not in done.stdout, done.stdout
    return done.stdout


def test_a_bad_profile_in_ipython_config_disables_only_that_profile(
    tmp_path: Path,
) -> None:
    config = "\n".join(
        [
            'c.DhJupyter.backend = "local"',
            f"c.DhJupyter.local_state_dir = {str(tmp_path / 'runs')!r}",
            "c.DhJupyter.profiles = {",
            "    'huge': {'resources': {'mem': {'requests': '64GB'}}},",
            "    'small': {'resources': {'cpu': {'requests': '250m'}}},",
            "}",
        ]
    )

    out = run_ipython(
        tmp_path,
        config,
        "%load_ext dh_jupyter",
        "print('--- huge')",
        "%%dhrun --profile huge --dry-run\nprint(1)",
        "print('--- small')",
        "%%dhrun --profile small --dry-run\nprint(1)",
    )

    loading, huge, small = out.split("--- ")
    assert loading.strip() == BAD_PROFILE
    assert huge.strip() == f"huge\nUsageError: {BAD_PROFILE}"
    _, job = yaml.safe_load_all(small.removeprefix("small\n"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "250m"}}


def test_bad_defaults_are_said_at_load_and_refuse_every_run(tmp_path: Path) -> None:
    out = run_ipython(
        tmp_path,
        'c.DhJupyter.backend = "local"\n'
        "c.DhJupyter.defaults = {'resources': {'cpus': '2'}}",
        "%load_ext dh_jupyter",
        "%%dhrun --dry-run\nprint(1)",
    )

    sentence = (
        "c.DhJupyter.defaults is not a valid run spec: resources.cpus: unknown key "
        '"cpus"; did you mean "cpu"?'
    )
    assert out.splitlines() == [sentence, f"UsageError: {sentence}"]


def test_using_a_bad_profile_is_a_usage_error_while_others_work(
    shell: InteractiveShell, dh_settings: DhJupyter
) -> None:
    dh_settings.profiles = {
        "huge": {"resources": {"mem": {"requests": "64GB"}}},
        "small": {"resources": {"cpu": "250m"}},
    }

    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("dhrun", "--profile huge --dry-run", "print(1)\n")

    assert str(caught.value) == BAD_PROFILE
    assert dh_settings.problems() == [BAD_PROFILE]
    assert dh_settings.profile("small").to_dict()["resources"] == {
        "cpu": {"requests": "250m"}
    }
