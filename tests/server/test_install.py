"""``pip install .`` gives a package whose two parts Jupyter finds enabled.

The editable install that every other test uses links the checkout's dev
build; this one builds a wheel the way a user's ``pip install .`` does,
from a copy of the tracked files only (so no ``dh_jupyter/labextension``
left by a dev build can slip in), then installs it with ``--no-deps`` in a
fresh virtual environment that sees this environment's packages but not its
editable dh_jupyter. Jupyter's own commands, run with that environment's
Python, must list the labextension and the server extension as enabled and
OK, the installed bundle must be a production build, and JupyterLab in
headless Chromium must load that bundle and show the panel.

Building the wheel runs ``jlpm install`` and the production build; with
jlpm's cache warm, the whole module takes about a minute.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fixtures.lab import REPO, LabPython

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Generous: a shared machine can be slow, and the build reads jlpm's cache.
BUILD_SECONDS = 600
COMMAND_SECONDS = 120
UI_TIMEOUT = 60_000
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SOURCE_MAP_LINE = re.compile(r"^//# sourceMappingURL=", re.MULTILINE)
VERSION = importlib.metadata.version("dh_jupyter")

# The build must really run, even where a developer skips it for speed.
BUILD_SKIPS = ("HATCH_JUPYTER_BUILDER_SKIP_NPM",)


@dataclass(frozen=True)
class Installed:
    """A fresh environment with the wheel installed, and what it took."""

    python: Path
    prefix: Path
    wheel: Path
    seconds: float

    @property
    def labextension(self) -> Path:
        """Where the wheel put the front-end."""
        return self.prefix / "share" / "jupyter" / "labextensions" / "dh-jupyter"

    def run(self, *args: str, home: Path) -> str:
        """``python args`` in the environment, with its own Jupyter folders."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "PYTHONPATH", "VIRTUAL_ENV"))
        }
        env.update(
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        )
        # Not from the checkout: `python -c` puts its folder first on sys.path.
        done = subprocess.run(
            [str(self.python), *args],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        output = ANSI.sub("", done.stdout + done.stderr)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{output}"
        return output


def copy_tracked(target: Path) -> Path:
    """The files git tracks in the checkout, as they are now, under ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=COMMAND_SECONDS,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        # A tracked file deleted in the work tree is not part of it any more.
        if not source.exists() and not source.is_symlink():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name, follow_symlinks=False)
    return target


def call(command: list[str], what: str) -> None:
    """Run ``command``; fail with its output, saying ``what`` failed."""
    env = {key: value for key, value in os.environ.items() if key not in BUILD_SKIPS}
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"{what} failed:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel of a clean copy, installed in a fresh environment."""
    folder = tmp_path_factory.mktemp("wheel")
    started = time.monotonic()
    source = copy_tracked(folder / "source")
    assert not (source / "dh_jupyter" / "labextension").exists()

    dist = folder / "dist"
    pip = [sys.executable, "-m", "pip"]
    call([*pip, "wheel", "--no-deps", "-w", str(dist), str(source)], "pip wheel")
    (wheel,) = dist.glob("dh_jupyter-*.whl")

    # A venv of this venv's Python starts from the base interpreter; a .pth
    # line adds this venv's packages (the dependencies), but the .pth files
    # in there are not read, so its editable dh_jupyter stays out.
    prefix = folder / "venv"
    call([sys.executable, "-m", "venv", str(prefix)], "python -m venv")
    python = prefix / "bin" / "python"
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    there = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_SECONDS,
    ).stdout.strip()
    (Path(there) / "dh-jupyter-test-deps.pth").write_text("\n".join(sorted(here)))
    call(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        "pip install of the wheel",
    )
    return Installed(python, prefix, wheel, time.monotonic() - started)


def test_the_wheel_is_installed_and_not_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    output = installed.run(
        "-c", "import dh_jupyter; print(dh_jupyter.__file__)", home=tmp_path
    )

    assert Path(output.strip()).is_relative_to(installed.prefix), output


def test_jupyter_lists_the_labextension_enabled_and_ok(
    installed: Installed, tmp_path: Path
) -> None:
    output = installed.run("-m", "jupyterlab.labextensions", "list", home=tmp_path)

    assert str(installed.prefix / "share" / "jupyter" / "labextensions") in output
    assert f"dh-jupyter v{VERSION} enabled OK (python, dh_jupyter)" in output


def test_jupyter_lists_the_server_extension_enabled_and_ok(
    installed: Installed, tmp_path: Path
) -> None:
    output = installed.run(
        "-m", "jupyter_server.extension.serverextension", "list", home=tmp_path
    )

    config = installed.prefix / "etc" / "jupyter"
    section = output.split(f"Config dir: {config}", 1)[-1].split("Config dir:")[0]
    assert "dh_jupyter enabled" in section, output
    assert f"dh_jupyter {VERSION} OK" in section, output


def test_the_installed_front_end_is_a_production_build(installed: Installed) -> None:
    static = installed.labextension / "static"
    scripts = sorted(static.glob("*.js"))

    assert not installed.labextension.is_symlink()
    assert [path.name for path in static.glob("remoteEntry.*.js")], scripts
    assert list(static.glob("*.map")) == []
    # A dev build ends each file with its source map's address and names
    # modules by their paths; the production one does neither.
    for script in scripts:
        text = script.read_text()
        assert not SOURCE_MAP_LINE.search(text), script.name
        assert '"./lib/' not in text, script.name


@pytest.fixture
def lab_python(installed: Installed) -> LabPython:
    """JupyterLab from the fresh environment, with this one's JupyterLab assets."""
    from jupyterlab.commands import get_app_dir

    # The environment has no JupyterLab assets of its own: its JupyterLab
    # is this one's, seen through the .pth line.
    assets = f"--LabApp.app_dir={get_app_dir()}"
    return LabPython(str(installed.python), checkout=False, args=(assets,))


@pytest.fixture
def lab_settings(tmp_path: Path) -> dict[str, Any]:
    """Runs on this machine, kept in the test's folder."""
    folder = tmp_path / "local-runs"
    return {"DhJupyter": {"backend": "local", "local_state_dir": str(folder)}}


@pytest.mark.browser
def test_jupyterlab_loads_the_installed_bundle_and_shows_the_panel(
    installed: Installed, page: Page, output_dir: Path
) -> None:
    (entry,) = (installed.labextension / "static").glob("remoteEntry.*.js")

    page.click(".jp-SideBar .lm-TabBar-tab[data-id='dh-jupyter-runs']")
    page.wait_for_selector(".dh-RunsPanel-empty", state="visible", timeout=UI_TIMEOUT)
    page.screenshot(path=str(output_dir / "installed-panel.png"))

    sources = page.evaluate("() => [...document.scripts].map(s => s.src)")
    assert any(
        src.endswith(f"/lab/extensions/dh-jupyter/static/{entry.name}")
        for src in sources
    ), sources
    backend = page.locator(".dh-RunsPanel-backend").inner_text()
    assert backend == "Runs happen on this machine (the local backend)."
