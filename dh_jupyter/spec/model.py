"""The run spec: one validated description of how to run a cell.

Every surface (the magic's flags, the picker's form, a DigitalHub SDK dict)
becomes a ``RunSpec``, and only a ``RunSpec`` becomes a Job. Instances are
frozen and always valid: ``RunSpec.from_dict``, the constructor and
``dataclasses.replace`` all run the same checks in ``parse`` and raise
``SpecError``. The mappings a spec holds are its own copies, never the
caller's dicts, and ``to_dict`` and the Job hand out fresh copies in turn,
so changing what went in or came out never changes the spec. Those mappings
are plain dicts, so that they print, compare and dump as YAML like any
other; they are there to be read, and changing one in place is the one way
around the checks. Nothing here knows about Kubernetes objects;
``manifest`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

VOLUME_TYPES = ("persistent_volume_claim", "config_map", "secret", "empty_dir")
RESOURCE_KINDS = ("cpu", "mem", "gpu")


@dataclass(frozen=True)
class Volume:
    """A volume mounted into the container at ``mount_path``.

    ``spec`` holds the type's own keys in snake_case: ``claim_name`` and
    ``read_only`` for a persistent volume claim, ``name`` for a config map,
    ``secret_name`` for a secret, ``size_limit`` and ``medium`` for an empty
    dir.
    """

    volume_type: str
    name: str
    mount_path: str
    spec: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    """The request and limit of one resource, as Kubernetes quantities."""

    requests: str | None = None
    limits: str | None = None


@dataclass(frozen=True)
class Resources:
    """CPU, memory and GPU; an unset resource has neither request nor limit."""

    cpu: Resource = Resource()
    mem: Resource = Resource()
    gpu: Resource = Resource()


@dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration of a node taint."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    toleration_seconds: int | None = None


@dataclass(frozen=True)
class RunSpec:
    """How to run a cell: resources, volumes, scheduling and Job options.

    Build one with ``RunSpec.from_dict`` (the DigitalHub SDK's dict shape)
    or the constructor, and read it back with ``to_dict``. Both check every
    field and raise ``SpecError`` naming each bad one.
    """

    volumes: tuple[Volume, ...] = ()
    resources: Resources = Resources()
    tolerations: tuple[Toleration, ...] = ()
    affinity: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    node_selector: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    # Values are often tokens; a spec printed in a traceback must not show them.
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    image: str | None = None
    namespace: str | None = None
    timeout: int | None = None
    retries: int | None = None
    ttl: int | None = None
    service_account: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    priority_class: str | None = None
    queue: str | None = None
    gpu_type: str | None = None

    def __post_init__(self) -> None:
        # The constructor is a public way in, so it runs the parser's rules
        # too, and keeps the parser's clean copies instead of what it was given.
        from dh_jupyter.spec.parse import check_given

        checked = check_given(self)
        for item in fields(self):
            object.__setattr__(self, item.name, getattr(checked, item.name))

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> RunSpec:
        """Read and check a seed-shaped dict; raise ``SpecError`` if it is bad."""
        from dh_jupyter.spec.parse import parse_spec

        return parse_spec(value)

    def to_dict(self) -> dict[str, Any]:
        """The seed-shaped dict: what ``from_dict`` and the SDK's ``run`` accept."""
        from dh_jupyter.spec.render import spec_to_dict

        return spec_to_dict(self)

    def merged(self, override: RunSpec) -> RunSpec:
        """This spec with every field that ``override`` sets taken from it.

        Scalars are replaced; resources are replaced per request and limit;
        labels, node selectors and environment variables are merged by key;
        volumes are replaced by name or mount path; tolerations and secrets
        are added. The result is checked again, so a merged request above
        a merged limit is still an error.
        """
        from dh_jupyter.spec.merge import merge_specs

        return merge_specs(self, override)

    def is_empty(self) -> bool:
        """Whether nothing at all is set."""
        return self == RunSpec()

    def set_fields(self) -> list[str]:
        """The names of the fields that differ from their defaults."""
        empty = RunSpec()
        return [
            item.name
            for item in fields(self)
            if getattr(self, item.name) != getattr(empty, item.name)
        ]

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with ``changes`` applied, checked like a new spec."""
        return replace(self, **changes)


def checked_spec(values: Mapping[str, Any]) -> RunSpec:
    """A ``RunSpec`` of field values the parser has just checked and built.

    Only the parser calls this: it skips ``__post_init__``, whose check
    would run the parser again on its own result.
    """
    spec = object.__new__(RunSpec)
    for item in fields(RunSpec):
        object.__setattr__(spec, item.name, values[item.name])
    return spec
