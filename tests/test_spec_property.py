"""Every valid run spec renders objects the Kubernetes API schema accepts.

Hypothesis builds seed-shaped dicts from the valid pieces of each field, in
every spelling the spec reads: snake_case and camelCase keys, ``env`` and
``envs``, flat and full resources, labels and node selectors as mappings or
lists of pairs, quantities such as ``1.5Gi``, ``0.5`` and ``1e9``, node
affinity and pod anti-affinity, GPU models and images. The spec must accept
each dict, round-trip, and render a ConfigMap and a Job that pass
``kubernetes_validate`` in strict mode (unknown fields are errors) for
Kubernetes 1.30 and for the newest schema it ships.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dh_jupyter import RunSpec, build_manifests
from dh_jupyter.spec.keys import camel, snake
from dh_jupyter.spec.quantity import parse_quantity

VERSIONS = ("1.30", kubernetes_validate.latest_version())

dns_label = st.from_regex(r"\A[a-z]([a-z0-9-]{0,14}[a-z0-9])?\Z")
label_value = st.from_regex(r"\A([A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?)?\Z")
label_key = st.one_of(
    st.from_regex(r"\A[a-z]([a-z0-9_.-]{0,15}[a-z0-9])?\Z"),
    st.builds(lambda p, n: f"{p}.io/{n}", dns_label, dns_label),
).filter(lambda key: not key.startswith("dh-jupyter.io/"))
# The GPU model has its own key; a node selector on the same label would
# have to agree with it, which the rules test covers.
selector_key = label_key.filter(lambda key: key != "nvidia.com/gpu.product")

whole = st.integers(min_value=0, max_value=4096).map(str)
decimal = st.builds(
    lambda whole, part: f"{whole}.{part}",
    st.integers(0, 64),
    st.integers(0, 999),
)
exponent = st.builds(lambda n, e: f"{n}e{e}", st.integers(0, 9), st.integers(0, 9))
binary = st.sampled_from(["Ki", "Mi", "Gi", "Ti"])
decimal_suffix = st.sampled_from(["", "k", "M", "G", "T"])
memory = st.one_of(
    st.builds(lambda n, s: n + s, st.one_of(whole, decimal), binary),
    st.builds(lambda n, s: n + s, st.one_of(whole, decimal), decimal_suffix),
    exponent,
)
cpu = st.one_of(
    st.builds(lambda n, s: n + s, st.one_of(whole, decimal), decimal_suffix),
    st.builds(lambda n: f"{n}m", st.integers(0, 64000)),
    exponent,
    st.integers(0, 64),
)


def spelled(name: str, camel_case: bool) -> str:
    return camel(name) if camel_case else name


@st.composite
def resource(draw: st.DrawFn, amount: st.SearchStrategy[Any]) -> Any:
    request, limit = draw(amount), draw(amount)
    if parse_quantity(request) > parse_quantity(limit):
        request, limit = limit, request
    return draw(
        st.sampled_from(
            [
                # The newer SDK's flat spelling: a bare quantity is the request.
                request,
                {"requests": request},
                {"limits": limit},
                {"requests": request, "limits": limit},
            ]
        )
    )


@st.composite
def gpus(draw: st.DrawFn) -> Any:
    count = draw(st.integers(0, 8))
    text = draw(st.sampled_from([str(count), count]))
    return draw(
        st.sampled_from(
            [
                text,
                {"requests": text},
                {"limits": text},
                {"requests": text, "limits": text},
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
        camel_case = draw(st.booleans())
        kind = draw(
            st.sampled_from(
                ["persistent_volume_claim", "config_map", "secret", "empty_dir"]
            )
        )
        specs: dict[str, dict[str, Any]] = {
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
        }
        spec = specs[kind]
        trailing = draw(st.sampled_from(["", "/"]))
        volume = {
            "volume_type": kind,
            "name": name,
            "mount_path": f"/mnt/{index}/{name}{trailing}",
            "spec": {spelled(key, camel_case): item for key, item in spec.items()},
        }
        result.append({spelled(key, camel_case): item for key, item in volume.items()})
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
        seconds = spelled("toleration_seconds", draw(st.booleans()))
        toleration[seconds] = draw(st.integers(0, 3600))
    return toleration


some_values = st.lists(label_value.filter(bool), min_size=1, max_size=3)
node_requirement = st.one_of(
    st.fixed_dictionaries(
        {
            "key": label_key,
            "operator": st.sampled_from(["In", "NotIn"]),
            "values": st.one_of(some_values, some_values.map(tuple)),
        }
    ),
    st.fixed_dictionaries(
        {"key": label_key, "operator": st.sampled_from(["Exists", "DoesNotExist"])}
    ),
    st.fixed_dictionaries(
        {
            "key": label_key,
            "operator": st.sampled_from(["Gt", "Lt"]),
            "values": st.integers(-100, 100).map(lambda n: [str(n)]),
        }
    ),
)
label_requirement = st.one_of(
    st.fixed_dictionaries(
        {
            "key": label_key,
            "operator": st.sampled_from(["In", "NotIn"]),
            "values": some_values,
        }
    ),
    st.fixed_dictionaries(
        {"key": label_key, "operator": st.sampled_from(["Exists", "DoesNotExist"])}
    ),
)
node_term = st.fixed_dictionaries(
    {"matchExpressions": st.lists(node_requirement, min_size=1, max_size=2)}
)
pod_term = st.fixed_dictionaries(
    {
        "topologyKey": label_key,
        "labelSelector": st.fixed_dictionaries(
            {},
            optional={
                "matchLabels": st.dictionaries(label_key, label_value, max_size=2),
                "matchExpressions": st.lists(label_requirement, max_size=2),
            },
        ),
    }
)
camel_affinity = st.fixed_dictionaries(
    {},
    optional={
        "nodeAffinity": st.fixed_dictionaries(
            {},
            optional={
                "requiredDuringSchedulingIgnoredDuringExecution": st.fixed_dictionaries(
                    {"nodeSelectorTerms": st.lists(node_term, min_size=1, max_size=2)}
                ),
                "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                    st.fixed_dictionaries(
                        {"weight": st.integers(1, 100), "preference": node_term}
                    ),
                    max_size=2,
                ),
            },
        ),
        "podAntiAffinity": st.fixed_dictionaries(
            {},
            optional={
                "requiredDuringSchedulingIgnoredDuringExecution": st.lists(
                    pod_term, max_size=2
                ),
                "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                    st.fixed_dictionaries(
                        {"weight": st.integers(1, 100), "podAffinityTerm": pod_term}
                    ),
                    max_size=2,
                ),
            },
        ),
    },
)


def snake_keys(value: Any) -> Any:
    """``value`` with its keys in snake_case, except label keys."""
    if isinstance(value, dict):
        return {
            snake(key): item if key == "matchLabels" else snake_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [snake_keys(item) for item in value]
    return value


affinity = st.one_of(camel_affinity, camel_affinity.map(snake_keys))


def pairs(key: st.SearchStrategy[str], key_name: str) -> st.SearchStrategy[Any]:
    """A mapping, or the seed's list of ``{key_name: ..., "value": ...}``."""
    mapping = st.dictionaries(key, label_value, max_size=3)
    return st.one_of(
        mapping,
        mapping.map(
            lambda items: [{key_name: k, "value": v} for k, v in items.items()]
        ),
    )


env_list = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,10}\Z"),
            "value": st.text(max_size=20),
        }
    ),
    max_size=3,
    unique_by=lambda e: e["name"],
)
image = st.builds(
    lambda registry, repo, tag: f"{registry}{repo}{tag}",
    st.sampled_from(["", "ghcr.io/", "registry.local:5000/"]),
    dns_label,
    st.sampled_from(["", ":3.12-slim", ":latest", "@sha256:" + "a" * 64]),
)


@st.composite
def spec_dicts(draw: st.DrawFn) -> dict[str, Any]:
    value = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "volumes": volumes(),
                "resources": st.fixed_dictionaries(
                    {},
                    optional={
                        "cpu": resource(cpu),
                        "mem": resource(memory),
                        "gpu": gpus(),
                    },
                ),
                "tolerations": st.lists(tolerations(), max_size=3),
                "affinity": affinity,
                "labels": pairs(label_key, "name"),
                "node_selector": pairs(selector_key, "key"),
                "secrets": st.lists(dns_label, max_size=3, unique=True),
                "image": image,
                "namespace": dns_label,
                "timeout": st.one_of(
                    st.integers(1, 10**6), st.sampled_from(["90s", "1h30m", "2d"])
                ),
                "retries": st.integers(0, 10),
                "ttl": st.integers(0, 10**6),
                "service_account": dns_label,
                "image_pull_secrets": st.lists(dns_label, max_size=2, unique=True),
                "priority_class": dns_label,
                "queue": label_value.filter(bool),
                "gpu_type": label_value.filter(bool),
            },
        )
    )
    env_key = draw(st.sampled_from(["env", "envs", None]))
    if env_key is not None:
        value[env_key] = draw(env_list)
    return value


# Other tests (the picker's round trip) draw from this strategy too.
specs = spec_dicts()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs, st.text(max_size=200))
def test_every_valid_spec_renders_a_job_the_schema_accepts(
    value: dict[str, Any], code: str
) -> None:
    spec = RunSpec.from_dict(value)

    assert RunSpec.from_dict(spec.to_dict()) == spec
    for manifest in build_manifests(spec, code, user="ada", notebook="a.ipynb"):
        for version in VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)
