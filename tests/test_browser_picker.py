"""A user picks resources in the browser, and the run succeeds.

JupyterLab (the ``lab`` fixture) opens a notebook that shows a
``ResourcePicker`` in headless Chromium. The test clicks and types like a
user: CPU, memory and a GPU, a volume from the cluster's claims, a
toleration; checks the problem shown for a typing mistake, the YAML
preview and ``picker.run_kwargs``; submits, and waits for the run monitor
to say "succeeded" with the cell's output. The cluster is the ``kube``
emulator with its fake kubelet, which really runs the cell; the kernel
reaches it through the ``KUBECONFIG`` the lab inherits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

CODE = "print('hello from the browser')\nprint('picked', 6 * 7)"
GPU_MODEL = "NVIDIA-A100-SXM4-80GB"
TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
# Long enough for a cold kernel on a busy 2-core machine.
SLOW = 120_000
EXPECTED_KWARGS = {
    "resources": {
        "cpu": {"requests": "500m"},
        "mem": {"requests": "1Gi"},
        "gpu": {"limits": "1"},
    },
    # The SDK has no GPU model key; run_kwargs carries the node selector.
    "node_selector": {"nvidia.com/gpu.product": GPU_MODEL},
    "volumes": [
        {
            "volume_type": "persistent_volume_claim",
            "name": "datasets",
            "mount_path": "/data",
            "spec": {"claim_name": "datasets"},
        }
    ],
    "tolerations": [{"operator": "Equal", **TAINT}],
}


@pytest.fixture
def cluster(kube: Any) -> Any:
    """The emulator with a GPU node that has a taint, and a claim."""
    kube.add_node(
        "gpu-node-1",
        labels={"nvidia.com/gpu.product": GPU_MODEL},
        allocatable={"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "4"},
        taints=[TAINT],
    )
    kube.put(
        "persistentvolumeclaims",
        {
            "metadata": {"name": "datasets"},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "100Gi"}},
            },
            "status": {"phase": "Bound", "capacity": {"storage": "100Gi"}},
        },
    )
    return kube


def write_notebook(folder: Path) -> str:
    """A notebook showing a picker, and a cell printing its run_kwargs."""
    notebook = new_notebook(
        cells=[
            new_code_cell(
                '%config DhJupyter.backend = "kubernetes"\n'
                "from dh_jupyter import ResourcePicker\n"
                f"picker = ResourcePicker(code={CODE!r})\n"
                "picker"
            ),
            new_code_cell(
                "import json\nprint(json.dumps(picker.run_kwargs, sort_keys=True))"
            ),
        ],
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
        },
    )
    nbformat.write(notebook, folder / "picker.ipynb")
    return "picker.ipynb"


def wait_for_kernel(page: Page) -> None:
    """Wait until the notebook's kernel is connected and idle.

    The status bar can read "Idle" before the kernel's connection is up, and
    a cell run then is lost, so ask the notebook's session itself.
    """
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const kernel = panel?.sessionContext?.session?.kernel;
            return kernel?.connectionStatus === "connected"
                && kernel?.status === "idle";
        }""",
        timeout=SLOW,
    )


def run_cell(page: Page, index: int) -> None:
    """Select cell ``index`` by its prompt and run it with Shift+Enter."""
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def field(page: Page, name: str) -> Locator:
    """The picker field with the class ``dh-<name>``."""
    return page.locator(f".dh-picker .dh-{name}").first


def type_into(page: Page, name: str, text: str) -> None:
    """Click into the field's input and type ``text`` key by key."""
    box = field(page, name).locator("input").first
    box.click()
    box.press_sequentially(text)


def open_tab(page: Page, title: str) -> None:
    page.locator(".dh-sections .lm-TabBar-tab", has_text=title).click()


def test_a_user_picks_resources_in_the_browser_and_the_run_succeeds(
    cluster: Any, kubelet: Any, lab: Any, page: Page, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(lab.lab_url(f"lab/tree/{write_notebook(lab.root_dir)}"))
    wait_for_kernel(page)
    run_cell(page, 0)
    expect(page.locator(".dh-picker")).to_be_visible(timeout=SLOW)
    # The cluster is read once, in the background, when the picker is shown.
    expect(page.locator(".dh-cluster-note")).to_contain_text(
        '"dh-test": 1 claim', timeout=SLOW
    )

    # Resources: each quantity shows what it amounts to.
    type_into(page, "cpu-requests", "500m")
    expect(field(page, "cpu-requests")).to_contain_text("= 0.5 CPU")
    type_into(page, "mem-requests", "1Gi")
    expect(field(page, "mem-requests")).to_contain_text("= 1 GiB (1.07 GB)")
    type_into(page, "gpu-limits", "1")
    type_into(page, "gpu-type", GPU_MODEL)
    expect(field(page, "gpu-type")).to_contain_text("4 allocatable on 1 node")

    # A typing mistake: the spec's sentence beside the field, Submit off.
    type_into(page, "mem-limits", "2GB")
    expect(field(page, "mem-limits")).to_contain_text('did you mean "2G" or "2Gi"?')
    submit = page.locator(".dh-picker button.dh-submit")
    expect(submit).to_be_disabled()
    expect(submit).to_have_text("Fix 1 problem to submit")
    field(page, "mem-limits").locator("input").fill("")
    expect(submit).to_be_enabled()

    # A volume from the cluster's claims, named after the claim.
    open_tab(page, "Volumes")
    page.locator(".dh-picker button.dh-add-volumes").click()
    type_into(page, "volume-persistent-volume-claim-claim-name", "datasets")
    expect(field(page, "volume-persistent-volume-claim-claim-name")).to_contain_text(
        "ReadWriteMany, 100Gi"
    )
    expect(field(page, "volume-name").locator("input")).to_have_value("datasets")
    type_into(page, "volume-mount-path", "/data")

    # The GPU node's taint is suggested; a typed toleration of it clears that.
    open_tab(page, "Scheduling")
    suggested = page.locator(".dh-picker .dh-suggested-tolerations select")
    expect(suggested).to_contain_text("nvidia.com/gpu=present:NoSchedule")
    page.locator(".dh-picker button.dh-add-tolerations").click()
    type_into(page, "toleration-key", "nvidia.com/gpu")
    type_into(page, "toleration-value", "present")
    field(page, "toleration-effect").locator("select").select_option("NoSchedule")
    expect(suggested).to_be_hidden()

    # The preview is the Job these choices make.
    preview = page.locator(".dh-picker .dh-preview-yaml")
    for line in (
        "cpu: 500m",
        "memory: 1Gi",
        "nvidia.com/gpu: '1'",
        f"nvidia.com/gpu.product: {GPU_MODEL}",
        "claimName: datasets",
        "mountPath: /data",
        "effect: NoSchedule",
    ):
        expect(preview).to_contain_text(line)
    page.locator(".dh-picker").screenshot(path=str(output_dir / "picker.png"))

    # The kernel holds the same choices as the seed-shaped dict.
    run_cell(page, 1)
    printed = (
        page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")
    )
    expect(printed).to_contain_text('"node_selector"', timeout=SLOW)
    assert json.loads(printed.inner_text()) == EXPECTED_KWARGS

    # Submit, and follow the run to its end in the monitor.
    open_tab(page, "Resources")
    submit.click()
    status = page.locator(".dh-picker .dh-monitor-status")
    expect(status).to_contain_text("succeeded", timeout=SLOW)
    logs = page.locator(".dh-picker .dh-monitor-logs")
    expect(logs).to_contain_text("hello from the browser")
    expect(logs).to_contain_text("picked 42")
    page.locator(".dh-picker").screenshot(path=str(output_dir / "succeeded.png"))
    page.screenshot(path=str(output_dir / "notebook.png"))
