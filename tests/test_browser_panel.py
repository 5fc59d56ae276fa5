"""The "Kubernetes runs" panel in a real JupyterLab, driven in headless Chromium.

Runs are submitted to the kmock cluster through the runs API, and the fake
kubelet really runs their cells; JupyterLab (a subprocess started by the
``lab`` fixture) reaches the same cluster through ``KUBECONFIG``. Screenshots
go to ``test-results/<test name>/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dh_jupyter.errors import NotFoundError
from dh_jupyter.runs.base import Run
from dh_jupyter.spec import RunSpec

if TYPE_CHECKING:
    from fixtures.kube import Kube
    from fixtures.lab import Lab
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

FINISH_SECONDS = 120.0
# Playwright's waits, in milliseconds: the machine is shared and slow at times.
UI_TIMEOUT = 60_000
PANEL_TAB = ".jp-SideBar .lm-TabBar-tab[data-id='dh-jupyter-runs']"


@pytest.fixture(autouse=True)
def built_front_end() -> None:
    """Fail at once, saying how to fix it, when the panel was never built."""
    built = Path(__file__).parents[1] / "dh_jupyter" / "labextension"
    if not (built / "package.json").is_file():
        pytest.fail(
            f"The front-end is not built ({built} is missing); run `jlpm install "
            "&& jlpm build` in labextension/, or `pip install -e .`."
        )


@pytest.fixture
def lab_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """What the JupyterLab of each test reaches, set before it starts.

    ``cluster`` (the default): the kmock cluster with its kubelet.
    ``local``: the local backend, on the test's ``local_runs`` folder.
    ``unreachable``: a kubeconfig whose API server is not listening.
    ``no server extension``: dh_jupyter's server part disabled.
    """
    setting = getattr(request, "param", "cluster")
    if setting == "no server extension":
        return {"ServerApp": {"jpserver_extensions": {"dh_jupyter": False}}}
    if setting == "local":
        folder = request.getfixturevalue("local_runs")
        return {"DhJupyter": {"backend": "local", "local_state_dir": str(folder)}}
    kube: Kube = request.getfixturevalue("kube")
    if setting == "unreachable":
        refused = kube.refused_kubeconfig(Path(str(kube.kubeconfig) + "-refused"))
        request.getfixturevalue("monkeypatch").setenv("KUBECONFIG", str(refused))
    else:
        request.getfixturevalue("kubelet")
    return {"DhJupyter": {"backend": "kubernetes"}}


@pytest.fixture
def submit(kube: Kube, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start cells as Jobs on kmock, as %%dhrun in analysis/train.ipynb would."""
    from dh_jupyter.runs.kubernetes import KubernetesBackend

    monkeypatch.setenv("JPY_SESSION_NAME", "analysis/train.ipynb")
    backend = KubernetesBackend(kube.config)
    started: list[Run] = []

    def start(code: str) -> Run:
        spec = {"resources": {"cpu": {"requests": "250m"}, "mem": {"requests": "1Gi"}}}
        run = backend.submit(RunSpec.from_dict(spec), code)
        started.append(run)
        return run

    yield start
    for run in started:
        if not run.status.phase.finished and kube.get("jobs", run.name):
            run.cancel()


@pytest.fixture
def local_runs(tmp_path: Path) -> Path:
    """Where the local runs of the test and of its JupyterLab are kept."""
    return tmp_path / "local-runs"


@pytest.fixture
def submit_local(local_runs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start cells as local runs, where the test's JupyterLab looks for them."""
    from dh_jupyter.config import DhJupyter
    from dh_jupyter.runs.local import LocalBackend

    monkeypatch.setenv("JPY_SESSION_NAME", "analysis/train.ipynb")
    backend = LocalBackend(DhJupyter(backend="local", local_state_dir=str(local_runs)))
    started: list[Run] = []

    def start(code: str) -> Run:
        spec = {"resources": {"cpu": {"requests": "100m"}, "mem": {"requests": "64Mi"}}}
        run = backend.submit(RunSpec.from_dict(spec), code)
        started.append(run)
        return run

    yield start
    for run in started:
        with contextlib.suppress(NotFoundError):
            if not run.status.phase.finished:
                run.cancel()


def confirm(page: Page, name: str) -> None:
    """Answer the open confirmation dialog about ``name`` with its warn button."""
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=UI_TIMEOUT)
    assert name in dialog.inner_text()
    dialog.locator(".jp-Dialog-button.jp-mod-warn").click()
    dialog.wait_for(state="detached", timeout=UI_TIMEOUT)


def wait_for_phase(run: Run, phase: str) -> None:
    deadline = time.monotonic() + FINISH_SECONDS
    while run.status.phase.value != phase:
        assert time.monotonic() < deadline, f"{run.name}: {run.status.describe()}"
        time.sleep(0.05)


def open_panel(page: Page) -> None:
    page.click(PANEL_TAB)
    page.wait_for_selector(".dh-RunsPanel", state="visible", timeout=UI_TIMEOUT)


def row(name: str, phase: str | None = None) -> str:
    selector = f".dh-RunsPanel-run[data-name='{name}']"
    return selector + (f"[data-phase='{phase}']" if phase else "")


def test_the_panel_lists_runs_follows_logs_and_cancels(
    lab_settings: dict[str, Any],
    submit: Any,
    kube: Kube,
    page: Page,
    output_dir: Path,
) -> None:
    done = submit("print('hello from the cluster')")
    ticking = submit(
        "import time\n"
        "for i in range(1200):\n"
        "    print('tick', i, flush=True)\n"
        "    time.sleep(0.25)\n"
    )
    wait_for_phase(done, "succeeded")
    wait_for_phase(ticking, "running")

    # The list, with each run's status, notebook, resources and age.
    open_panel(page)
    page.wait_for_selector(row(done.name, "succeeded"), timeout=UI_TIMEOUT)
    page.wait_for_selector(row(ticking.name, "running"), timeout=UI_TIMEOUT)
    finished_row = page.locator(row(done.name))
    assert finished_row.locator(".dh-RunsPanel-status").inner_text() == "✔"
    words = finished_row.locator(".dh-RunsPanel-description").inner_text()
    assert words.startswith("succeeded")
    assert finished_row.locator(".dh-RunsPanel-notebook").inner_text() == "train.ipynb"
    resources = finished_row.locator(".dh-RunsPanel-resources").inner_text()
    assert resources == "cpu 250m · mem 1Gi"
    assert (
        finished_row.locator(".dh-RunsPanel-age").inner_text().endswith((" s", "min"))
    )
    running_row = page.locator(row(ticking.name))
    assert (
        running_row.locator(".dh-RunsPanel-description")
        .inner_text()
        .startswith("running")
    )
    assert running_row.locator("[data-action='cancel']").is_visible()
    assert finished_row.locator("[data-action='delete']").is_visible()
    page.screenshot(path=str(output_dir / "panel.png"))

    # The logs open in a main-area tab and follow new lines.
    running_row.locator(".dh-RunsPanel-name").click()
    output = page.locator(".dh-LogsView-output")
    output.wait_for(timeout=UI_TIMEOUT)
    page.wait_for_function(
        "() => document.querySelector('.dh-LogsView-output').textContent"
        ".includes('tick 2')",
        timeout=UI_TIMEOUT,
    )
    lines_then = output.inner_text().count("tick")
    page.wait_for_function(
        f"() => document.querySelector('.dh-LogsView-output').textContent"
        f".split('tick').length - 1 > {lines_then + 4}",
        timeout=UI_TIMEOUT,
    )
    tab = page.locator(f".lm-TabBar-tab:has-text('Logs: {ticking.name}')")
    assert tab.is_visible()
    page.screenshot(path=str(output_dir / "logs.png"))

    # Cancel asks first; keeping the run changes nothing.
    running_row.locator("[data-action='cancel']").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=UI_TIMEOUT)
    assert ticking.name in dialog.inner_text()
    page.screenshot(path=str(output_dir / "confirm.png"))
    dialog.locator(".jp-Dialog-button.jp-mod-reject").click()
    dialog.wait_for(state="detached", timeout=UI_TIMEOUT)
    assert kube.get("jobs", ticking.name) is not None

    # Confirmed, the run stops; on a cluster that deletes its Job, so it
    # leaves the list; the other one stays.
    running_row.locator("[data-action='cancel']").click()
    confirm(page, ticking.name)
    page.wait_for_selector(row(ticking.name), state="detached", timeout=UI_TIMEOUT)
    assert page.locator(row(done.name)).is_visible()
    assert kube.get("jobs", ticking.name) is None
    # The open log tab keeps what it read and says the run is gone.
    page.wait_for_selector(
        ".dh-LogsView-status[data-phase='removed']", timeout=UI_TIMEOUT
    )
    assert "tick 2" in output.inner_text()
    page.screenshot(path=str(output_dir / "cancelled.png"))


@pytest.mark.parametrize("lab_settings", ["local"], indirect=True)
def test_cancel_leaves_a_local_run_cancelled_and_delete_removes_it(
    lab_settings: dict[str, Any],
    submit_local: Any,
    page: Page,
    output_dir: Path,
) -> None:
    done = submit_local("print('finished')")
    going = submit_local("import time; time.sleep(600)")
    wait_for_phase(done, "succeeded")
    wait_for_phase(going, "running")
    open_panel(page)
    page.wait_for_selector(row(going.name, "running"), timeout=UI_TIMEOUT)
    going_row = page.locator(row(going.name))
    assert going_row.locator("[data-action='delete']").count() == 0

    # Cancel stops the run, and a local run stays listed as cancelled,
    # now offering Delete instead of Cancel.
    going_row.locator("[data-action='cancel']").click()
    confirm(page, going.name)
    page.wait_for_selector(row(going.name, "cancelled"), timeout=UI_TIMEOUT)
    assert going_row.locator(".dh-RunsPanel-status").inner_text() == "⊘"
    assert going_row.locator("[data-action='cancel']").count() == 0
    assert going_row.locator("[data-action='delete']").is_visible()
    assert going.status.phase.value == "cancelled"
    page.screenshot(path=str(output_dir / "cancelled.png"))

    # Delete removes the row, and the run with it; the other one stays.
    going_row.locator("[data-action='delete']").click()
    confirm(page, going.name)
    page.wait_for_selector(row(going.name), state="detached", timeout=UI_TIMEOUT)
    assert page.locator(row(done.name, "succeeded")).is_visible()
    with pytest.raises(NotFoundError):
        going.status  # noqa: B018 (the lookup is the check)
    page.screenshot(path=str(output_dir / "deleted.png"))


@pytest.mark.parametrize(
    ("lab_settings", "kind", "words"),
    [
        (
            "no server extension",
            "server-missing",
            "The dh_jupyter server extension is not running",
        ),
        (
            "unreachable",
            "cluster-unreachable",
            "The Kubernetes cluster cannot be reached; check your kubeconfig",
        ),
    ],
    indirect=["lab_settings"],
)
def test_the_panel_says_what_is_wrong_and_what_to_do(
    lab_settings: dict[str, Any],
    page: Page,
    output_dir: Path,
    kind: str,
    words: str,
) -> None:
    open_panel(page)

    problem = page.locator(f".dh-RunsPanel-problem[data-kind='{kind}']")
    problem.wait_for(timeout=UI_TIMEOUT)
    page.screenshot(path=str(output_dir / "problem.png"))

    assert problem.locator(".dh-RunsPanel-summary").inner_text().startswith(words)
    assert not page.locator(".dh-RunsPanel-run").count()


def test_the_toolbar_button_inserts_a_dhrun_cell(
    lab: Lab, page: Page, output_dir: Path
) -> None:
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []}
    python = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {
        "cells": [{**cell, "execution_count": None}],
        # A named kernel, so JupyterLab asks nothing before showing it.
        "metadata": {"kernelspec": python},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root_dir / "try.ipynb").write_text(json.dumps(notebook))
    page.evaluate(
        "() => window.jupyterapp.commands.execute('docmanager:open', "
        "{path: 'try.ipynb', factory: 'Notebook'})"
    )
    button = page.locator(
        ".jp-NotebookPanel-toolbar [data-command='dh-jupyter:insert-dhrun-cell']"
    )
    button.wait_for(timeout=UI_TIMEOUT)

    button.click()

    sources = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor")
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-Notebook .jp-Cell').length === 3",
        timeout=UI_TIMEOUT,
    )
    page.screenshot(path=str(output_dir / "inserted.png"))
    texts = [sources.nth(i).inner_text().strip() for i in range(3)]
    assert texts[0] == "x = 1"
    assert texts[1] == "%load_ext dh_jupyter"
    assert texts[2].startswith("%%dhrun")


@pytest.mark.parametrize("required", ["1", ""], ids=["required", "not required"])
@pytest.mark.parametrize(
    ("missing", "fixture", "fix"),
    [
        ("chromium", "browser", "apt-get install chromium"),
        ("playwright", "playwright", "pip install -e '.[test]'"),
    ],
)
def test_a_missing_browser_fails_where_browser_tests_are_required(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    required: str,
    missing: str,
    fixture: str,
    fix: str,
) -> None:
    from fixtures import lab

    monkeypatch.setenv(lab.REQUIRE_BROWSER, required)
    if missing == "chromium":
        monkeypatch.setattr(lab, "CHROMIUM", tmp_path / "no-chromium")
    else:
        # None in sys.modules makes the import fail, as if not installed.
        monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception

    with pytest.raises(outcome, match=re.escape(fix)) as raised:
        request.getfixturevalue(fixture)

    assert (lab.REQUIRE_BROWSER in str(raised.value)) == bool(required)
