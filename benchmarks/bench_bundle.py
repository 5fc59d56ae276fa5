"""What the runs panel adds to a JupyterLab page: its front-end bundle's size.

The panel's production bundle (the JavaScript a browser downloads for it,
raw and gzipped as a server would send it) is built fresh into a temporary
folder and compared with two baselines measured in the same run:

- a minimal extension (one plugin that logs a line, depending only on
  ``@jupyterlab/application``) built by the same toolchain in the same run:
  the fixed cost of any prebuilt extension (the module federation runtime),
  so the ratio shows what the panel's own code costs above that floor;
- JupyterLab's own front-end as installed (``share/jupyter/lab/static``):
  what every page loads anyway, so the ratio is the panel's share of a page.

Both builds reuse ``labextension/node_modules`` (run ``jlpm install`` there
first) and never touch the checkout's ``dh_jupyter/labextension``. Their
build times (``tsc`` and ``jupyter-builder build``, the median of a few
alternating builds after a warm-up pair) are reported as a ratio too.

Run: ``python benchmarks/bench_bundle.py [--repeat N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "labextension"
COPIED = ("package.json", "tsconfig.json", "src", "style", "schema")

MINIMAL_PLUGIN = """\
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'bench-minimal:plugin',
  autoStart: true,
  activate: () => {
    console.log('bench-minimal is activated');
  }
};

export default plugin;
"""


@dataclass(frozen=True)
class Bundle:
    """A built front-end: what a browser downloads, and how long it took."""

    name: str
    files: int
    raw_bytes: int
    gzip_bytes: int
    build_seconds: float | None = None


def measure(name: str, folder: Path, seconds: float | None = None) -> Bundle:
    """The JavaScript and CSS under ``folder``, raw and gzipped file by file."""
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in (".js", ".css")
    )
    raw = sum(path.stat().st_size for path in files)
    # Level 6 is what web servers use by default.
    packed = sum(len(gzip.compress(path.read_bytes(), 6)) for path in files)
    return Bundle(name, len(files), raw, packed, seconds)


def build(folder: Path, env: dict[str, str]) -> float:
    """Compile and bundle the extension in ``folder``; the seconds it took."""
    start = time.perf_counter()
    for command in (
        ["node_modules/.bin/tsc"],
        [str(Path(sys.executable).with_name("jupyter-builder")), "build", "."],
    ):
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(
                f"`{' '.join(command)}` failed in {folder}:\n{done.stdout}{done.stderr}"
            )
    return time.perf_counter() - start


def prepare_panel(folder: Path) -> Path:
    """A copy of the panel's sources that builds into ``folder/out``."""
    for name in COPIED:
        source = SOURCES / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=_tests)
        else:
            shutil.copy2(source, folder / name)
    package = json.loads((folder / "package.json").read_text())
    package["jupyterlab"]["outputDir"] = "out"
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    (folder / "node_modules").symlink_to(SOURCES / "node_modules")
    return folder / "out" / "static"


def prepare_minimal(folder: Path) -> Path:
    """The smallest prebuilt extension, with the panel's compiler settings."""
    (folder / "src").mkdir()
    (folder / "src" / "index.ts").write_text(MINIMAL_PLUGIN)
    shutil.copy2(SOURCES / "tsconfig.json", folder / "tsconfig.json")
    package = {
        "name": "bench-minimal",
        "version": "0.1.0",
        "main": "lib/index.js",
        "dependencies": {"@jupyterlab/application": "^4.0.0"},
        "devDependencies": {"@jupyter/builder": "^1.3.0"},
        "jupyterlab": {"extension": True, "outputDir": "out"},
    }
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    (folder / "node_modules").symlink_to(SOURCES / "node_modules")
    return folder / "out" / "static"


def _tests(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__tests__"]


def jupyterlab_static() -> Path:
    """Where the installed JupyterLab keeps its own front-end."""
    data = Path(sysconfig.get_path("data"))
    return data / "share" / "jupyter" / "lab" / "static"


def report(panel: Bundle, minimal: Bundle, core: Bundle) -> str:
    """The numbers and the ratios, as a small table."""
    rows = [f"{'bundle':<28}{'files':>6}{'raw KiB':>10}{'gzip KiB':>10}{'build s':>9}"]
    for bundle in (panel, minimal, core):
        built = f"{bundle.build_seconds:.1f}" if bundle.build_seconds else "-"
        rows.append(
            f"{bundle.name:<28}{bundle.files:>6}{bundle.raw_bytes / 1024:>10.1f}"
            f"{bundle.gzip_bytes / 1024:>10.1f}{built:>9}"
        )
    rows += [
        "",
        f"panel / minimal extension, gzip: {panel.gzip_bytes / minimal.gzip_bytes:.2f}",
        f"panel above the minimal extension, gzip: "
        f"{(panel.gzip_bytes - minimal.gzip_bytes) / 1024:.1f} KiB",
        f"panel / JupyterLab's own front-end, gzip: "
        f"{100 * panel.gzip_bytes / core.gzip_bytes:.2f} %",
    ]
    if panel.build_seconds and minimal.build_seconds:
        rows.append(
            f"panel / minimal extension, build time: "
            f"{panel.build_seconds / minimal.build_seconds:.2f}"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed builds of each (median)"
    )
    args = parser.parse_args()

    if not (SOURCES / "node_modules").is_dir():
        raise SystemExit(
            "labextension/node_modules is missing; run `jlpm install` in "
            "labextension/ first."
        )
    core_folder = jupyterlab_static()
    if not core_folder.is_dir():
        raise SystemExit(f"JupyterLab's front-end is not at {core_folder}.")

    # jupyter-builder and node come from this environment's PATH.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    with tempfile.TemporaryDirectory(prefix="dh-bench-bundle-") as scratch:
        panel_dir = Path(scratch, "panel")
        minimal_dir = Path(scratch, "minimal")
        panel_dir.mkdir()
        minimal_dir.mkdir()
        panel_out = prepare_panel(panel_dir)
        minimal_out = prepare_minimal(minimal_dir)

        # A first pair warms node's and the disk's caches and is not counted;
        # then the two alternate, so a busy moment hits both alike.
        build(minimal_dir, env)
        build(panel_dir, env)
        panel_times, minimal_times = [], []
        for _ in range(args.repeat):
            minimal_times.append(build(minimal_dir, env))
            panel_times.append(build(panel_dir, env))
        panel = measure(
            "dh-jupyter (runs panel)", panel_out, statistics.median(panel_times)
        )
        minimal = measure(
            "minimal extension", minimal_out, statistics.median(minimal_times)
        )
    core = measure("JupyterLab front-end", core_folder)

    print(report(panel, minimal, core))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        numbers = {bundle.name: asdict(bundle) for bundle in (panel, minimal, core)}
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
