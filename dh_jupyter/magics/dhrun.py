"""The magics users type: run a cell as a Job, list, read and cancel runs.

Each magic's docstring is its ``%magic?`` help. User mistakes raise
``UsageError`` (shown as one line, without a traceback); a run that fails or
is cancelled raises the project's own error so "Run all" stops there.
"""

from __future__ import annotations

import logging
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from dh_jupyter.config import settings
from dh_jupyter.magics import arguments, blocking, display, dry_run
from dh_jupyter.magics.options import spec_from_line
from dh_jupyter.manifest import naming
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.runs.select import Choice, choose
from dh_jupyter.spec import SpecError

logger = logging.getLogger(__name__)


@magics_class
class DhRunMagics(Magics):
    """``%%dhrun`` and its line magics; settings live in ``c.DhJupyter``."""

    _announced = False

    # Named "%dhrun" so the help's usage line reads "%%dhrun".
    @magic_arguments("%dhrun")
    @argument("--cpu", metavar="REQUEST[:LIMIT]", help="CPU cores, e.g. 2 or 500m:2.")
    @argument("--mem", metavar="REQUEST[:LIMIT]", help="Memory, e.g. 4Gi or 4Gi:8Gi.")
    @argument("--gpu", metavar="COUNT", help="Whole GPUs, e.g. 1.")
    @argument("--gpu-type", metavar="PRODUCT", help="GPU model, e.g. NVIDIA-A100.")
    @argument(
        "--volume",
        action="append",
        metavar="KIND:...",
        help="""Mount a volume; repeatable. pvc:CLAIM:/path[:ro],
        configmap:NAME:/path, secret:NAME:/path, emptydir:/path[:SIZE].""",
    )
    @argument("--shm", metavar="SIZE", help="Shared memory at /dev/shm, e.g. 2Gi.")
    @argument("--env", action="append", metavar="KEY=VALUE", help="Set a variable.")
    @argument(
        "--secret",
        action="append",
        metavar="NAME",
        help="Inject every key of a Secret as environment variables; repeatable.",
    )
    @argument(
        "--toleration",
        action="append",
        metavar="KEY[=VALUE][:EFFECT]",
        help="Tolerate a taint, e.g. nvidia.com/gpu=v100:NoSchedule; repeatable.",
    )
    @argument(
        "--node-selector", action="append", metavar="KEY=VALUE", help="Pick nodes."
    )
    @argument("--label", action="append", metavar="KEY=VALUE", help="Label the pod.")
    @argument(
        "--affinity",
        metavar="VARIABLE",
        help="A notebook variable (or inline JSON) holding a Kubernetes affinity.",
    )
    @argument("--image", metavar="IMAGE", help="Container image.")
    @argument("--namespace", metavar="NAMESPACE", help="Namespace of the Job.")
    @argument("--timeout", metavar="DURATION", help="Stop after, e.g. 3600 or 2h.")
    @argument("--retries", metavar="COUNT", help="Retries after a failure.")
    @argument("--ttl", metavar="DURATION", help="Keep the finished Job this long.")
    @argument("--queue", metavar="LOCALQUEUE", help="Kueue LocalQueue to wait in.")
    @argument("--service-account", metavar="NAME", help="Pod service account.")
    @argument(
        "--image-pull-secret", action="append", metavar="NAME", help="Pull secret."
    )
    @argument("--priority-class", metavar="NAME", help="Pod priority class.")
    @argument("--spec", metavar="VARIABLE", help="A RunSpec, dict or ResourcePicker.")
    @argument("--profile", metavar="NAME", help="A profile from c.DhJupyter.profiles.")
    @argument("--name", metavar="NAME", help="A readable part of the run's name.")
    @argument(
        "--backend",
        metavar="BACKEND",
        help="kubernetes, local or auto (default: c.DhJupyter.backend).",
    )
    @argument("--detach", action="store_true", help="Return at once with the run.")
    @argument("--out", metavar="VARIABLE", help="Also keep the run in this variable.")
    @argument("--dry-run", action="store_true", help="Show the Job; submit nothing.")
    @cell_magic
    def dhrun(self, line: str, cell: str) -> Run | None:
        """Run this cell as a Kubernetes Job with the resources it needs.

        The cell runs in a fresh Python process in the cluster (or on this
        machine with the local backend), not in this kernel: import what it
        uses and read data from volumes. The output shows what the run is
        doing in plain words and its logs as they are written; a failed run
        fails the cell, and the stop button cancels the run (or leaves it
        going, with c.DhJupyter.interrupt_cancels = False).

        Settings merge in this order, each over the one before:
        c.DhJupyter.defaults, --profile, --spec, then the other flags. The
        line is read like a shell command: quote a value that has spaces.

        Examples::

            %%dhrun --gpu 1 --mem 16Gi --volume pvc:datasets:/data --secret hf-token
            import torch; train("/data/imagenet")

            %%dhrun --cpu 500m:2 --env MODE=fast --toleration gpu=v100:NoSchedule
            print("hello")

            %%dhrun --name 'Train ResNet' --env "GREETING=hello world"
            import os; print(os.environ["GREETING"])

            %%dhrun --spec picker --detach --out run
            long_job()

            %%dhrun --profile gpu-v100 --dry-run
            print("what would this Job look like?")
        """
        args = arguments.parse(self.dhrun.parser, line)
        config = settings()
        spec = spec_from_line(args, self._user_ns, config)
        name = naming.job_name(_readable_name(args.name))
        choice = self._choose(args.backend)
        news = self._news(choice)

        if args.dry_run:
            # The news goes inside the YAML, as a comment, to keep it YAML.
            notes = [news] if news else []
            text = dry_run.job_yaml(choice.backend, spec, cell, name, config, notes)
            print(text, end="")
            return None

        if news:
            print(news)
        run = blocking.submit(choice.backend, spec, cell, name)
        if args.out:
            self._user_ns[args.out] = run
        if args.detach:
            print(
                f"Submitted {run.name}; it goes on while you work. "
                f"Follow it with %dhlogs {run.name} --follow."
            )
            return run
        blocking.follow(run, config)
        return None

    @magic_arguments()
    @argument("--backend", metavar="BACKEND", help="kubernetes, local or auto.")
    @line_magic
    def dhjobs(self, line: str) -> None:
        """List your runs: name, status, resources and age, newest first.

        Example::

            %dhjobs
        """
        args = self._parse(self.dhjobs, line)
        found = self._backend(args.backend).runs()
        if not found:
            print("You have no runs yet.")
            return
        rows = [
            [
                run.name,
                display.short_status(run.status),
                display.resources_summary(run.info.resources),
                display.age(run.info),
            ]
            for run in found
        ]
        display.print_table(rows, ["NAME", "STATUS", "RESOURCES", "AGE"])

    @magic_arguments()
    @argument("name", metavar="NAME", help="The run's name, as %%dhjobs lists it.")
    @argument("--follow", "-f", action="store_true", help="Keep showing new lines.")
    @argument("--backend", metavar="BACKEND", help="kubernetes, local or auto.")
    @line_magic
    def dhlogs(self, line: str) -> None:
        """Show a run's logs; with --follow, keep showing them until it ends.

        Example::

            %dhlogs dhrun-train-x7k2p --follow
        """
        args = self._parse(self.dhlogs, line)
        run = self._backend(args.backend).get(args.name)
        try:
            for text in run.logs(follow=args.follow):
                print(text, flush=True)
        except KeyboardInterrupt:
            print(f"Stopped following {run.name}; the run goes on.")
            # Re-raised so the cell ends as interrupted and "Run all" stops.
            raise

    @magic_arguments()
    @argument("name", metavar="NAME", help="The run's name, as %%dhjobs lists it.")
    @argument("--backend", metavar="BACKEND", help="kubernetes, local or auto.")
    @line_magic
    def dhcancel(self, line: str) -> None:
        """Cancel a run: stop it and delete what it made.

        Example::

            %dhcancel dhrun-train-x7k2p
        """
        args = self._parse(self.dhcancel, line)
        run = self._backend(args.backend).get(args.name)

        # A finished run has nothing to stop; cancelling would only delete
        # its Job and logs, which is not what the user asked for.
        phase = run.status.phase
        if phase.finished:
            print(f"{run.name}: already {phase.value}; nothing to cancel.")
            return
        run.cancel()
        print(f"Cancelled {run.name}.")

    @property
    def _user_ns(self) -> dict[str, Any]:
        assert self.shell is not None, "the magics are registered on a shell"
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _parse(self, magic: Any, line: str) -> Any:
        return arguments.parse(magic.parser, line)

    def _backend(self, name: str | None) -> Backend:
        choice = self._choose(name)
        news = self._news(choice)
        if news:
            print(news)
        return choice.backend

    def _choose(self, name: str | None) -> Choice:
        try:
            return choose(name)
        except SpecError as error:
            raise UsageError(str(error)) from None

    def _news(self, choice: Choice) -> str:
        """Why the backend was picked, the first time in this kernel only."""
        if not choice.reason or DhRunMagics._announced:
            return ""
        # Said once per kernel: after that the user knows.
        DhRunMagics._announced = True
        return choice.reason


def _readable_name(given: str | None) -> str:
    """The readable part of the run's name: ``--name``, else the notebook's."""
    if given is None:
        return _notebook_hint()
    if not given.strip():
        raise UsageError(
            "--name is empty; give a readable name such as --name train, or leave "
            "the flag out to name the run after the notebook."
        )
    return given


def _notebook_hint() -> str:
    from dh_jupyter.manifest.identity import current_notebook

    notebook = current_notebook().rsplit("/", 1)[-1]
    return notebook.removesuffix(".ipynb")
