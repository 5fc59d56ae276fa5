"""What running a cell through the local backend costs, beside a bare subprocess.

Run it as ``python benchmarks/bench_local.py [--repeat N] [--json PATH]`` from
the repository root. It prints three tables:

1. wall time of a short cell, run alternately as a bare subprocess
   (``subprocess.run([python, "-u", cell.py])``, the least any separate
   process costs) and through ``LocalBackend.submit(spec, code).wait()``
   (which also writes the run's folder, starts the supervisor, records and
   polls the status), without and with a CPU and memory limit; medians and
   their ratio to the bare subprocess;
2. how long ``submit`` blocks the kernel, beside ``subprocess.Popen`` of the
   same cell (both return before the cell ends), as a ratio;
3. the supervisor's CPU use while a cell sleeps, as a share of one core,
   without and with a memory limit: the cost of watching the process tree;
   and with a memory limit and two empty dirs of 2,000 files each (one in
   memory, one with a size_limit): the cost of walking them too.

Only ratios and shares are meant to be compared between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dh_jupyter.config import DhJupyter  # noqa: E402
from dh_jupyter.runs.local import LocalBackend  # noqa: E402
from dh_jupyter.runs.status import Phase  # noqa: E402
from dh_jupyter.spec import RunSpec  # noqa: E402

CELL = "print(sum(range(10**6)))\n"
LIMITS = {"resources": {"cpu": {"limits": "1"}, "mem": {"limits": "512Mi"}}}
SLEEP = "import time\ntime.sleep(3)\n"
# A cell that fills two empty dirs with small files, then sleeps.
FILES = (
    "import os, time\n"
    "for folder in ({fast!r}, {disk!r}):\n"
    "    for index in range(2000):\n"
    "        open(os.path.join(folder, str(index)), 'w').write('x' * 100)\n"
    "time.sleep(3)\n"
)


def empty_dirs(scratch: Path) -> dict[str, object]:
    """A memory limit and two watched empty dirs, mounted under ``scratch``."""
    fast, disk = scratch / "fast", scratch / "disk"
    return {
        **LIMITS,
        "volumes": [
            {
                "volume_type": "empty_dir",
                "name": "fast",
                "mount_path": str(fast),
                "spec": {"medium": "Memory"},
            },
            {
                "volume_type": "empty_dir",
                "name": "disk",
                "mount_path": str(disk),
                "spec": {"size_limit": "1Gi"},
            },
        ],
    }


def bare(code: str, folder: Path) -> None:
    """Run ``code`` as a plain subprocess of the kernel's Python."""
    path = folder / "bare.py"
    path.write_text(code)
    subprocess.run([sys.executable, "-u", str(path)], check=True, capture_output=True)


def local(backend: LocalBackend, spec: RunSpec, code: str) -> None:
    """Run ``code`` through the local backend and wait until it finished."""
    status = backend.submit(spec, code).wait(timeout=120)
    if status.phase is not Phase.SUCCEEDED:
        raise SystemExit(f"The benchmark's run did not succeed: {status.describe()}")


def medians(cases: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """The median of what each case returns, run alternately after a warm-up."""
    for measure in cases.values():
        measure()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, measure in cases.items():
            samples[name].append(measure())
    return {name: statistics.median(values) for name, values in samples.items()}


def wall(work: Callable[[], None]) -> Callable[[], float]:
    """A case measuring the wall seconds ``work`` takes."""

    def measure() -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    return measure


def submit_blocks(backend: LocalBackend, folder: Path) -> float:
    """Seconds ``submit`` blocks; the run is then waited for, untimed."""
    start = time.perf_counter()
    run = backend.submit(RunSpec(), CELL)
    seconds = time.perf_counter() - start
    run.wait(timeout=120)
    return seconds


def popen_blocks(folder: Path) -> float:
    """Seconds ``Popen`` blocks for the same cell; then waited for, untimed."""
    path = folder / "bare.py"
    path.write_text(CELL)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-u", str(path)], stdout=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    process.wait()
    return seconds


def supervisor_share(backend: LocalBackend, spec: RunSpec, code: str = SLEEP) -> float:
    """The supervisor's CPU seconds per second while its cell sleeps."""
    run = backend.submit(spec, code)
    while run.status.phase is not Phase.RUNNING:
        time.sleep(0.01)
    time.sleep(0.5)
    pid = int(run.folder.state()["supervisor"]["pid"])
    before, start = _cpu_seconds(pid), time.perf_counter()
    time.sleep(2)
    share = (_cpu_seconds(pid) - before) / (time.perf_counter() - start)
    run.wait(timeout=120)
    return share


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def table(title: str, results: dict[str, float], baseline: str | None) -> None:
    print(f"\n{title}\n{'-' * len(title)}")
    if baseline is None:
        for name, share in results.items():
            print(f"{name:34} {share * 100:9.1f} % of a core")
        return
    print(f"{'':34} {'median ms':>10} {'ratio':>7}")
    for name, seconds in results.items():
        ratio = seconds / results[baseline]
        print(f"{name:34} {seconds * 1000:10.1f} {ratio:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per case")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dh-bench-local-") as scratch:
        folder = Path(scratch)
        backend = LocalBackend(DhJupyter(local_state_dir=str(folder / "runs")))
        limited = RunSpec.from_dict(LIMITS)
        with_dirs = RunSpec.from_dict(empty_dirs(folder))
        files = FILES.format(fast=str(folder / "fast"), disk=str(folder / "disk"))
        short = medians(
            {
                "bare subprocess": wall(lambda: bare(CELL, folder)),
                "local run": wall(lambda: local(backend, RunSpec(), CELL)),
                "local run, cpu and memory limits": wall(
                    lambda: local(backend, limited, CELL)
                ),
            },
            args.repeat,
        )
        blocking = medians(
            {
                "subprocess.Popen": lambda: popen_blocks(folder),
                "LocalBackend.submit": lambda: submit_blocks(backend, folder),
            },
            args.repeat,
        )
        # Each sample takes seconds; a few are enough for a median.
        watching = medians(
            {
                "supervisor, no limit": lambda: supervisor_share(backend, RunSpec()),
                "supervisor, memory limit": lambda: supervisor_share(backend, limited),
                "supervisor, + 2 empty dirs": lambda: supervisor_share(
                    backend, with_dirs, files
                ),
            },
            max(3, args.repeat // 3),
        )

    table(
        "Wall time of a short cell (sum of a million numbers)", short, "bare subprocess"
    )
    table("How long starting a cell blocks the kernel", blocking, "subprocess.Popen")
    table("Supervisor CPU while the cell sleeps", watching, None)
    if args.json:
        results = {"short_cell": short, "blocking": blocking, "watching": watching}
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
