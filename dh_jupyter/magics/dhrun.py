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
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from dh_jupyter.config import settings
from dh_jupyter.errors import DhJupyterError, RunCancelledError, RunFailedError
from dh_jupyter.magics import display
from dh_jupyter.magics.options import check_flags, flag_tokens, spec_from_line
from dh_jupyter.manifest import build_manifests, naming
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.runs.select import choose
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import SpecError

logger = logging.getLogger(__name__)


@magics_class
class DhRunMagics(Magics):
    """``%%dhrun`` and its line magics; settings live in ``c.DhJupyter``."""

    _announced = False

    @magic_arguments()
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
        fails the cell, and the stop button cancels the run.

        Settings merge in this order, each over the one before:
        c.DhJupyter.defaults, --profile, --spec, then the other flags.

        Examples::

            %%dhrun --gpu 1 --mem 16Gi --volume pvc:datasets:/data --secret hf-token
            import torch; train("/data/imagenet")

            %%dhrun --cpu 500m:2 --env MODE=fast --toleration gpu=v100:NoSchedule
            print("hello")

            %%dhrun --spec picker --detach --out run
            long_job()

            %%dhrun --profile gpu-v100 --dry-run
            print("what would this Job look like?")
        """
        check_flags(flag_tokens(line), self.dhrun.parser)
        args = parse_argstring(self.dhrun, line)
        config = settings()
        spec = spec_from_line(args, self._user_ns, config)
        name = naming.job_name(args.name or _notebook_hint())

        if args.dry_run:
            self._show_yaml(spec, cell, name, config)
            return None

        backend = self._backend(args.backend)
        try:
            run = backend.submit(spec, cell, name=name)
        except SpecError as error:
            raise UsageError(str(error)) from None
        if args.out:
            self._user_ns[args.out] = run
        if args.detach:
            print(
                f"Submitted {run.name}; it goes on while you work. "
                f"Follow it with %dhlogs {run.name} --follow."
            )
            return run
        self._follow(run, config)
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
        run.cancel()
        print(f"Cancelled {run.name}.")

    @property
    def _user_ns(self) -> dict[str, Any]:
        assert self.shell is not None, "the magics are registered on a shell"
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _parse(self, magic: Any, line: str) -> Any:
        check_flags(flag_tokens(line), magic.parser)
        return parse_argstring(magic, line)

    def _backend(self, name: str | None) -> Backend:
        try:
            choice = choose(name)
        except SpecError as error:
            raise UsageError(str(error)) from None
        if choice.reason and not DhRunMagics._announced:
            # Said once per kernel: after that the user knows.
            DhRunMagics._announced = True
            print(choice.reason)
        return choice.backend

    def _show_yaml(self, spec: Any, cell: str, name: str, config: Any) -> None:
        import yaml

        try:
            manifests = build_manifests(
                spec, cell, name=name, defaults=config.job_defaults()
            )
        except SpecError as error:
            raise UsageError(str(error)) from None
        print(yaml.safe_dump_all(manifests, sort_keys=False), end="")

    def _follow(self, run: Run, config: Any) -> None:
        try:
            if display.use_widget(config):
                final = display.follow_as_widget(run)
            else:
                final = display.follow_as_text(run)
        except KeyboardInterrupt:
            if not config.interrupt_cancels:
                print(
                    f"Stopped following {run.name}; it goes on. "
                    f"Follow it again with %dhlogs {run.name} --follow."
                )
                return None
            run.cancel()
            raise RunCancelledError(
                f"Cancelled {run.name} because the cell was interrupted."
            ) from None
        except DhJupyterError:
            raise
        _raise_unless_succeeded(run, final)
        return None


def _raise_unless_succeeded(run: Run, final: Status) -> None:
    if final.phase is Phase.SUCCEEDED:
        return
    if final.phase is Phase.CANCELLED:
        raise RunCancelledError(f"{run.name} was {final.describe()}")
    raise RunFailedError(f"{run.name} {final.describe()}")


def _notebook_hint() -> str:
    from dh_jupyter.manifest.identity import current_notebook

    notebook = current_notebook().rsplit("/", 1)[-1]
    return notebook.removesuffix(".ipynb")
