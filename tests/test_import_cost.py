"""Importing dh_jupyter stays cheap: no Kubernetes, jsonschema or widgets."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("kubernetes", "jsonschema", "ipywidgets")


def test_importing_the_package_loads_no_heavy_module() -> None:
    probe = (
        "import json, sys, dh_jupyter\n"
        "from dh_jupyter import RunSpec, build_job\n"
        "build_job(RunSpec.from_dict({'resources': {'cpu': '1'}}), 'print(1)')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    loaded = json.loads(done.stdout)
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


def test_loading_the_extension_imports_no_kubernetes_nor_widgets() -> None:
    probe = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'dh_jupyter')\n"
        "assert shell.find_cell_magic('dhrun') is not None\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )

    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
