"""How much a run costs the cluster and the client, measured against kmock.

Run it as ``python benchmarks/bench_kubernetes.py`` from the repository root.
It prints three tables:

1. API requests per run, from create to finished (the watches are shared by
   every run of a namespace, so a batch of runs costs fewer per run);
2. open connections while following 50 runs at once, status only and
   status with logs;
3. client-side time per submission beside a bare ``create_namespaced_job``
   in the same run, as a ratio (wall time, and the calling thread's CPU
   time, which leaves out the emulator's work).

The emulator serves from a thread of this process (``tests/fixtures``), so
absolute times include its share of the interpreter; only the ratio is
meant to be compared between machines.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.kube import Call, Kube, running_kube  # noqa: E402

from dh_jupyter.cluster import informer  # noqa: E402
from dh_jupyter.cluster.connect import forget_connections  # noqa: E402
from dh_jupyter.manifest import build_job  # noqa: E402
from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun  # noqa: E402
from dh_jupyter.runs.status import Phase  # noqa: E402
from dh_jupyter.spec import RunSpec  # noqa: E402

TIMEOUT = 120


def table(title: str, rows: list[tuple[str, str]]) -> None:
    """Print ``rows`` as a two-column table under ``title``."""
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}\n{'-' * len(title)}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def use(kube: Kube) -> KubernetesBackend:
    os.environ["KUBECONFIG"] = str(kube.kubeconfig)
    informer.stop_all()
    forget_connections()
    return KubernetesBackend(kube.config)


def gated(gate: Path) -> str:
    return (
        "import pathlib, time\n"
        "print('started', flush=True)\n"
        f"while not pathlib.Path({str(gate)!r}).exists():\n"
        "    time.sleep(0.05)\n"
        "print('done')\n"
    )


def requests_per_run(directory: Path, batch: int) -> list[tuple[str, str]]:
    rows = []
    with running_kube(directory) as kube:
        kube.start_kubelet(step=0.01)
        backend = use(kube)

        before = len(kube.calls())
        run = backend.submit(RunSpec(), "print('hello')")
        assert run.wait(timeout=TIMEOUT).phase is Phase.SUCCEEDED
        single = kube.calls()[before:]
        list(run.logs())
        with_logs = kube.calls()[before:]
        rows.append(("one run, first in its namespace", f"{len(single)} requests"))
        rows.append(("  by verb", _by_verb(single)))
        rows.append(("  reading its logs adds", f"{len(with_logs) - len(single)}"))

        before = len(kube.calls())
        for _ in range(batch):
            run = backend.submit(RunSpec(), "print('hello')")
            final = run.wait(timeout=TIMEOUT)
            assert final.phase is Phase.SUCCEEDED, (run.name, final)
        more = kube.calls()[before:]
        rows.append(
            (
                f"{batch} more runs, one after another",
                f"{len(more) / batch:.1f} requests per run",
            )
        )
        rows.append(("  by verb", _by_verb(more)))
    informer.stop_all()
    return rows


def _by_verb(calls: Sequence[Call]) -> str:
    counts = Counter(f"{call.verb} {call.kind}" for call in calls)
    return ", ".join(f"{name} x{count}" for name, count in sorted(counts.items()))


def fifty_at_once(directory: Path, runs: int) -> list[tuple[str, str]]:
    rows = []
    gate = directory / "gate"
    with running_kube(directory) as kube:
        kube.start_kubelet(step=0.01)
        backend = use(kube)
        idle = kube.open_connections()

        submitted = [backend.submit(RunSpec(), gated(gate)) for _ in range(runs)]
        waiters = _threads(submitted, lambda run: run.wait(timeout=TIMEOUT))
        for run in submitted:
            _until(run, lambda _, status: status.phase is Phase.RUNNING)
        rows.append(("before following", f"{idle} connections"))
        rows.append(
            (
                f"{runs} runs, status followed",
                f"{kube.open_connections()} connections, {kube.open_streams()} "
                f"streams, {informer_watches(submitted[0])} watches",
            )
        )

        first_lines = threading.Barrier(runs + 1)
        readers = _threads(submitted, lambda run: _read_logs(run, first_lines))
        first_lines.wait(TIMEOUT)
        rows.append(
            (
                f"{runs} runs, status and logs followed",
                f"{kube.open_connections()} connections, {kube.open_streams()} "
                f"streams, {informer_watches(submitted[0])} watches",
            )
        )

        gate.touch()
        for thread in waiters + readers:
            thread.join(TIMEOUT)
        done = sum(run.status.phase is Phase.SUCCEEDED for run in submitted)
        rows.append(("runs that succeeded", f"{done} of {runs}"))
    informer.stop_all()
    return rows


def informer_watches(run: KubernetesRun) -> int:
    return run.tracker.informer.open_watches()


def _read_logs(run: KubernetesRun, first_line: threading.Barrier) -> None:
    told = False
    for _ in run.logs(follow=True):
        if not told:
            first_line.wait(TIMEOUT)
            told = True


def _threads(
    runs: list[KubernetesRun], work: Callable[[KubernetesRun], object]
) -> list[threading.Thread]:
    threads = [threading.Thread(target=work, args=(run,), daemon=True) for run in runs]
    for thread in threads:
        thread.start()
    return threads


def _until(run: KubernetesRun, ready: Callable[..., bool]) -> None:
    with run.tracker.following():
        if not run.tracker.wait_until(ready, TIMEOUT):
            raise RuntimeError(f"{run.name} did not get there: {run.status.describe()}")


def submission_time(directory: Path, rounds: int) -> list[tuple[str, str]]:
    from kubernetes import client

    with running_kube(directory) as kube:
        backend = use(kube)
        batch = client.BatchV1Api(backend.cluster.connection.api)
        spec = RunSpec()

        def ours() -> None:
            backend.submit(spec, "print(1)")

        def bare() -> None:
            body = build_job(spec, "print(1)")
            # The client takes a manifest dict as well as a V1Job, as users call it.
            batch.create_namespaced_job("dh-test", body)  # type: ignore[arg-type]

        for function in (ours, bare):
            for _ in range(5):  # warm-up: imports, pools, pydantic's first builds
                function()
        timings: dict[str, tuple[list[float], list[float]]] = {
            "ours": ([], []),
            "bare": ([], []),
        }
        for _ in range(rounds):
            for name, function in (("ours", ours), ("bare", bare)):
                wall, cpu = time.perf_counter(), time.thread_time()
                function()
                timings[name][0].append(time.perf_counter() - wall)
                timings[name][1].append(time.thread_time() - cpu)

    wall_ours, cpu_ours = (statistics.median(v) * 1000 for v in timings["ours"])
    wall_bare, cpu_bare = (statistics.median(v) * 1000 for v in timings["bare"])
    return [
        (
            "submit (ConfigMap, Job, owner patch)",
            f"{wall_ours:.2f} ms wall, {cpu_ours:.2f} ms CPU",
        ),
        (
            "bare create_namespaced_job",
            f"{wall_bare:.2f} ms wall, {cpu_bare:.2f} ms CPU",
        ),
        ("ratio, wall time", f"{wall_ours / wall_bare:.2f}"),
        ("ratio, client thread CPU time", f"{cpu_ours / cpu_bare:.2f}"),
        ("rounds (medians)", str(rounds)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs followed at once")
    parser.add_argument("--batch", type=int, default=10, help="runs in the batch")
    parser.add_argument("--rounds", type=int, default=40, help="timed submissions")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="dh-bench-") as scratch:
        base = Path(scratch)
        for name in ("requests", "fifty", "timing"):
            (base / name).mkdir()
        table(
            "API requests per run, create to finished",
            requests_per_run(base / "requests", options.batch),
        )
        table(
            f"Following {options.runs} runs at once",
            fifty_at_once(base / "fifty", options.runs),
        )
        table(
            "Client-side time per submission",
            submission_time(base / "timing", options.rounds),
        )


if __name__ == "__main__":
    main()
