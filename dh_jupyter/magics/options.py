"""Reading a ``%%dhrun`` line: flags, ``--spec``, ``--profile`` and defaults.

The layers are merged in one order, each overriding the one before:
configuration defaults, then the profile, then ``--spec``, then flags.
Splitting the line and refusing unknown flags is ``magics.arguments``'s work.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError

from dh_jupyter.config import DhJupyter
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.flags import flags_to_dict
from dh_jupyter.spec.keys import closest


def spec_from_line(
    args: argparse.Namespace, user_ns: Mapping[str, Any], config: DhJupyter
) -> RunSpec:
    """The merged run spec of one ``%%dhrun`` line; ``UsageError`` if it is bad."""
    try:
        spec = config.default_spec()
        if args.profile:
            spec = spec.merged(config.profile(args.profile))
        if args.spec:
            spec = spec.merged(_named_spec(args.spec, user_ns))
        flags = flags_to_dict(
            cpu=args.cpu,
            mem=args.mem,
            gpu=args.gpu,
            gpu_type=args.gpu_type,
            volumes=args.volume or (),
            shm=args.shm,
            env=args.env or (),
            secrets=args.secret or (),
            tolerations=args.toleration or (),
            node_selector=args.node_selector or (),
            labels=args.label or (),
            affinity=_affinity(args.affinity, user_ns),
            image=args.image,
            namespace=args.namespace,
            timeout=args.timeout,
            retries=args.retries,
            ttl=args.ttl,
            queue=args.queue,
            service_account=args.service_account,
            image_pull_secrets=args.image_pull_secret or (),
            priority_class=args.priority_class,
        )
        return spec.merged(RunSpec.from_dict(flags))
    except SpecError as error:
        raise UsageError(str(error)) from None


def _named_spec(name: str, user_ns: Mapping[str, Any]) -> RunSpec:
    """The spec held by the notebook variable ``name``."""
    if name not in user_ns:
        guess = closest(name, [k for k in user_ns if not k.startswith("_")])
        kinds = "a RunSpec, a run spec dict or a ResourcePicker"
        fix = (
            f'did you mean "{guess}"? Give the name of {kinds}.'
            if guess
            else f"pass the name of {kinds}."
        )
        raise SpecError("--spec", f'"{name}" is not a variable in this notebook; {fix}')
    value = user_ns[name]
    if isinstance(value, RunSpec):
        return value
    if isinstance(value, Mapping):
        return RunSpec.from_dict(value)
    # A ResourcePicker, or anything else that carries a checked spec.
    carried = getattr(value, "spec", None)
    if isinstance(carried, RunSpec):
        return carried
    raise SpecError(
        "--spec",
        f'"{name}" holds a {type(value).__name__}; pass a RunSpec, a run spec '
        "dict or a ResourcePicker.",
    )


def _affinity(value: str | None, user_ns: Mapping[str, Any]) -> Any:
    """An affinity from a notebook variable's name, or inline JSON."""
    if value is None:
        return None
    if value.isidentifier() and value in user_ns:
        return user_ns[value]
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise SpecError(
            "--affinity",
            f'"{value}" is neither a variable in this notebook nor JSON; pass the '
            "name of a dict holding the affinity.",
        ) from None
