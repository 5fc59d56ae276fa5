"""Every valid run spec renders objects the Kubernetes API schema accepts.

Hypothesis builds seed-shaped dicts from the valid pieces of each field;
the spec must accept them, round-trip, and render a ConfigMap and a Job that
pass ``kubernetes_validate`` in strict mode (unknown fields are errors) for
Kubernetes 1.30 and for the newest schema it ships.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dh_jupyter import RunSpec, build_manifests

VERSIONS = ("1.30", kubernetes_validate.latest_version())

dns_label = st.from_regex(r"\A[a-z]([a-z0-9-]{0,14}[a-z0-9])?\Z")
label_value = st.from_regex(r"\A([A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?)?\Z")
label_key = st.one_of(
    st.from_regex(r"\A[a-z]([a-z0-9_.-]{0,15}[a-z0-9])?\Z"),
    st.builds(lambda p, n: f"{p}.io/{n}", dns_label, dns_label),
).filter(lambda key: not key.startswith("dh-jupyter.io/"))
number = st.integers(min_value=0, max_value=4096)
suffix = st.sampled_from(["", "m", "k", "M", "G", "Ki", "Mi", "Gi", "e3"])
cpu = st.builds(lambda n, s: f"{n}{s}", number, suffix)
memory = st.builds(lambda n, s: f"{n}{s}", number, suffix.filter(lambda s: s != "m"))


@st.composite
def resource(draw: st.DrawFn, amount: st.SearchStrategy[str]) -> dict[str, str]:
    request, limit = draw(amount), draw(amount)
    from dh_jupyter.spec.quantity import parse_quantity

    if parse_quantity(request) > parse_quantity(limit):
        request, limit = limit, request
    return draw(
        st.sampled_from(
            [
                {"requests": request},
                {"limits": limit},
                {"requests": request, "limits": limit},
            ]
        )
    )


@st.composite
def volumes(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 4))
    names = draw(
        st.lists(
            dns_label.filter(lambda n: not n.startswith("dh-jupyter-")),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    result = []
    for index, name in enumerate(names):
        kind = draw(
            st.sampled_from(
                ["persistent_volume_claim", "config_map", "secret", "empty_dir"]
            )
        )
        spec = {
            "persistent_volume_claim": {
                "claim_name": draw(dns_label),
                "read_only": draw(st.booleans()),
            },
            "config_map": {"name": draw(dns_label)},
            "secret": {"secret_name": draw(dns_label)},
            "empty_dir": {
                "medium": draw(st.sampled_from(["", "Memory"])),
                "size_limit": draw(memory),
            },
        }[kind]
        result.append(
            {
                "volume_type": kind,
                "name": name,
                "mount_path": f"/mnt/{index}/{name}",
                "spec": spec,
            }
        )
    return result


@st.composite
def tolerations(draw: st.DrawFn) -> dict[str, Any]:
    operator = draw(st.sampled_from(["Equal", "Exists"]))
    effect = draw(st.sampled_from(["", "NoSchedule", "PreferNoSchedule", "NoExecute"]))
    toleration: dict[str, Any] = {
        "key": draw(label_key),
        "operator": operator,
        "effect": effect,
    }
    if operator == "Equal":
        toleration["value"] = draw(label_value)
    if effect == "NoExecute" and draw(st.booleans()):
        toleration["toleration_seconds"] = draw(st.integers(0, 3600))
    return toleration


specs = st.fixed_dictionaries(
    {},
    optional={
        "volumes": volumes(),
        "resources": st.fixed_dictionaries(
            {},
            optional={
                "cpu": resource(cpu),
                "mem": resource(memory),
                "gpu": st.builds(lambda n: {"limits": str(n)}, st.integers(0, 8)),
            },
        ),
        "tolerations": st.lists(tolerations(), max_size=3),
        "labels": st.dictionaries(label_key, label_value, max_size=3),
        "node_selector": st.dictionaries(label_key, label_value, max_size=3),
        "secrets": st.lists(dns_label, max_size=3, unique=True),
        "env": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,10}\Z"),
                    "value": st.text(max_size=20),
                }
            ),
            max_size=3,
            unique_by=lambda e: e["name"],
        ),
        "namespace": dns_label,
        "timeout": st.integers(1, 10**6),
        "retries": st.integers(0, 10),
        "ttl": st.integers(0, 10**6),
        "service_account": dns_label,
        "image_pull_secrets": st.lists(dns_label, max_size=2, unique=True),
        "priority_class": dns_label,
        "queue": label_value.filter(bool),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs, st.text(max_size=200))
def test_every_valid_spec_renders_a_job_the_schema_accepts(
    value: dict[str, Any], code: str
) -> None:
    spec = RunSpec.from_dict(value)

    assert RunSpec.from_dict(spec.to_dict()) == spec
    for manifest in build_manifests(spec, code, user="ada", notebook="a.ipynb"):
        for version in VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)
