"""What ``%load_ext dh_jupyter`` costs, beside ``import ipywidgets``.

Each measurement runs in a fresh Python process (so nothing is cached in
``sys.modules``) that has already imported IPython and made a shell, since a
kernel has both before any cell runs. The result is the ratio of the two
medians from the same run, so a busy machine slows both alike.

Run: ``python benchmarks/bench_load_ext.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PRELUDE = (
    "import time\n"
    "from IPython.core.interactiveshell import InteractiveShell\n"
    "shell = InteractiveShell.instance()\n"
    "start = time.perf_counter()\n"
)
CASES = {
    "%load_ext dh_jupyter": "shell.run_line_magic('load_ext', 'dh_jupyter')\n",
    "import ipywidgets (baseline)": "import ipywidgets\n",
}
REPORT = (
    "elapsed = time.perf_counter() - start\n"
    "import sys\n"
    "assert 'kubernetes' not in sys.modules, 'loading imported kubernetes'\n"
    "print(elapsed)\n"
)


def measure(body: str) -> float:
    """Seconds the ``body`` took in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + body + REPORT],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat

    medians = {}
    for name, body in CASES.items():
        # Interleave nothing: the first run of each warms the disk cache.
        measure(body)
        medians[name] = statistics.median(measure(body) for _ in range(repeat))

    baseline = medians["import ipywidgets (baseline)"]
    print(f"{'case':32} {'median ms':>10} {'ratio':>7}")
    for name, seconds in medians.items():
        print(f"{name:32} {seconds * 1000:10.1f} {seconds / baseline:7.2f}")


if __name__ == "__main__":
    main()
