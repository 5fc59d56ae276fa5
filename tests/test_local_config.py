"""The Python API outside IPython reads the configuration %load_ext would see.

A plain ``python`` script (a CI job, a cron task) has no shell to keep the
settings on, so ``dh_jupyter.config.settings()`` reads the IPython profile's
``ipython_config.py`` and ``.json`` once and shares one instance. These tests
run such scripts in a subprocess with a temporary ``IPYTHONDIR``, so nothing
of this machine's own configuration is read, and pass ``config=`` to the API
in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fixtures.local import finished, output
from traitlets.config import Config

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs import Phase
from dh_jupyter.runs.local import LocalBackend, LocalRun

SECRET_VALUE = "hf-value-never-shown"
LOCAL_REASON = "No Kubernetes cluster is configured"


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """An IPYTHONDIR whose default profile maps a Secret and a state folder."""
    ipython_dir = tmp_path / "ipython"
    folder = ipython_dir / "profile_default"
    folder.mkdir(parents=True)
    secret = tmp_path / "hf-token.env"
    secret.write_text(f"HF_TOKEN={SECRET_VALUE}\n")
    (folder / "ipython_config.py").write_text(
        textwrap.dedent(
            f"""
            c = get_config()
            c.DhJupyter.local_secrets = {{"hf-token": {str(secret)!r}}}
            c.DhJupyter.local_state_dir = {str(tmp_path / "runs")!r}
            """
        )
    )
    return ipython_dir


def script(
    code: str, ipython_dir: Path, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with plain ``python -c``: no IPython shell, no cluster."""
    env = {
        **os.environ,
        "IPYTHONDIR": str(ipython_dir),
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("KUBERNETES_SERVICE_HOST", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_a_plain_script_uses_the_secret_mapped_in_the_profiles_config(
    profile: Path, tmp_path: Path
) -> None:
    done = script(
        """
        import json, logging
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        import dh_jupyter.runs

        code = "import os; print('token set:', bool(os.environ.get('HF_TOKEN')))"
        run = dh_jupyter.runs.submit({"secrets": ["hf-token"]}, code)
        again = dh_jupyter.runs.submit({}, "pass")
        print(json.dumps({
            "phase": run.wait(timeout=120).phase.value,
            "again": again.wait(timeout=120).phase.value,
            "lines": [l for l in run.logs() if not l.startswith("[dh-jupyter]")],
            "root": str(run.folder.root),
            "reason": run.backend_reason,
        }))
        """,
        profile,
        tmp_path,
    )

    result = json.loads(done.stdout)
    assert result["phase"] == result["again"] == "succeeded"
    assert result["lines"] == ["token set: True"]
    assert result["root"] == str(tmp_path / "runs")
    assert result["reason"].startswith(LOCAL_REASON)
    # Said once per process, however many runs follow.
    assert done.stderr.count(LOCAL_REASON) == 1
    assert SECRET_VALUE not in done.stdout + done.stderr


def test_settings_changed_in_a_plain_script_last_for_later_runs(
    profile: Path, tmp_path: Path
) -> None:
    chosen = tmp_path / "chosen-runs"

    done = script(
        f"""
        import dh_jupyter.runs
        from dh_jupyter.config import settings

        assert settings() is settings()
        settings().local_state_dir = {str(chosen)!r}
        run = dh_jupyter.runs.submit({{}}, "pass", backend="local")
        run.wait(timeout=120)
        print(run.folder.root)
        print([r.name for r in dh_jupyter.runs.runs("local")] == [run.name])
        """,
        profile,
        tmp_path,
    )

    assert done.stdout.splitlines() == [str(chosen), "True"]


def test_a_broken_config_file_is_skipped_with_a_warning(
    profile: Path, tmp_path: Path
) -> None:
    (profile / "profile_default" / "ipython_config.json").write_text("{not json")

    done = script(
        """
        from dh_jupyter.config import settings
        print(sorted(settings().local_secrets))
        """,
        profile,
        tmp_path,
    )

    assert done.stdout.strip() == "['hf-token']"
    assert "Skipped the configuration file" in done.stderr
    assert "ipython_config.json" in done.stderr


@pytest.mark.parametrize("kind", ["instance", "traitlets-config"])
def test_config_given_to_the_api_chooses_the_state_folder_and_the_secrets(
    kind: str, tmp_path: Path, local_settings: DhJupyter
) -> None:
    secret = tmp_path / "api.env"
    secret.write_text(f"API_TOKEN={SECRET_VALUE}\n")
    values = {
        "backend": "local",
        "local_state_dir": str(tmp_path / "given-runs"),
        "local_secrets": {"api": str(secret)},
    }
    config = DhJupyter(**values) if kind == "instance" else Config(DhJupyter=values)

    run = dh_jupyter.runs.submit(
        {"secrets": ["api"]},
        "import os; print(os.environ['API_TOKEN'] == " + repr(SECRET_VALUE) + ")",
        config=config,
    )

    assert isinstance(run, LocalRun)
    assert finished(run).phase is Phase.SUCCEEDED
    assert output(run) == "True"
    assert run.folder.root == tmp_path / "given-runs"
    # The shell's own settings were not used, nor changed.
    assert LocalBackend(local_settings).runs() == []
    assert local_settings.local_secrets == {}
    listed = dh_jupyter.runs.runs(config=config)
    assert [r.name for r in listed] == [run.name]
    assert dh_jupyter.runs.get_run(run.name, config=config).name == run.name


def test_config_of_the_wrong_kind_is_refused_with_the_fix() -> None:
    with pytest.raises(TypeError, match="config must be a DhJupyter instance or a"):
        dh_jupyter.runs.runs(config={"DhJupyter": {}})  # type: ignore[arg-type]
