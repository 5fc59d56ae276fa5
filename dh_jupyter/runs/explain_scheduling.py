"""Why no node takes a run's pod, from the scheduler's FailedScheduling message.

The scheduler says "0/5 nodes are available: 2 Insufficient cpu, 3 node(s)
didn't match Pod's node affinity/selector. preemption: ...". Here that becomes
"2 of 5 nodes lack free cpu, 3 of 5 nodes do not match its node selector or
affinity", with one hint a reason naming the run-spec field to change:
resources for a lack of cpu, memory or GPUs, tolerations for a taint,
node_selector, gpu_type and affinity for labels that do not match.

What it deliberately does not do: hint at tolerating a system taint (a
control-plane or not-ready node is not meant for work), or guess at a reason
it does not know, which is shown as the scheduler wrote it. Claims that
block scheduling are ``runs.explain_volumes``' business.
"""

from __future__ import annotations

import json
import re

from dh_jupyter.runs.explain_seen import Obj, Seen, short
from dh_jupyter.runs.status import Phase, Status

# Taints that mark nodes not meant for workloads: never suggest tolerating them.
SYSTEM_TAINTS = (
    "node-role.kubernetes.io/",
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
)


def no_node(seen: Seen, message: str) -> Status:
    """The pending status for a FailedScheduling ``message``, reason by reason."""
    total = re.match(r"\s*0/(\d+) nodes are available:\s*(.*)", message)
    if not total:
        return Status(Phase.PENDING, f"no node can take it: {short(message)}")
    nodes = int(total[1])
    reasons = re.split(r"\.\s+preemption:", total[2], maxsplit=1)[0].rstrip(".")
    parts: list[str] = []
    hints: list[str] = []
    for item in _split_reasons(reasons):
        counted = re.match(r"(\d+)\s+(.*)", item)
        count, text = (int(counted[1]), counted[2]) if counted else (0, item)
        part, hint = _node_reason(seen, count, nodes, text)
        parts.append(part)
        if hint and hint not in hints:
            hints.append(hint)
    hint = "; ".join(hints)
    return Status(
        Phase.PENDING,
        "no node can take it: " + ", ".join(parts),
        (hint[0].upper() + hint[1:] + ".") if hint else "",
    )


def _split_reasons(text: str) -> list[str]:
    # Commas separate reasons, but not inside a taint's braces.
    items, depth, current = [], 0, ""
    for char in text:
        depth += char == "{"
        depth -= char == "}"
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def _node_reason(seen: Seen, count: int, nodes: int, text: str) -> tuple[str, str]:
    one = count == 1
    of = f"{count} of {nodes} nodes"

    def verb(singular: str, plural: str) -> str:
        return f"{of} {singular if one else plural}"

    insufficient = re.match(r"Insufficient (\S+)", text)
    if insufficient:
        return _lacking(seen, insufficient[1], verb("lacks", "lack"))
    taint = re.search(r"taint \{([^:}]+):\s*([^}]*)\}", text)
    if taint:
        return _untolerated(taint[1].strip(), taint[2].strip(), verb("has", "have"))
    scheduling = "selector" in text or "affinity" in text
    if "didn't match" in text and scheduling and "volume node affinity" not in text:
        return (
            f"{verb('does', 'do')} not match its node selector or affinity",
            "check node_selector, gpu_type and affinity against the labels your "
            "nodes have",
        )
    if "volume node affinity conflict" in text:
        return (f"{verb('is', 'are')} in another zone than its volume", "")
    if "unschedulable" in text:
        return (f"{verb('is', 'are')} cordoned", "")
    if "Too many pods" in text:
        return (
            f"{verb('is', 'are')} full (too many pods)",
            "wait for running work to finish",
        )
    if "free ports" in text:
        return (f"{verb('has', 'have')} no free port it needs", "")
    return (f"{of}: {text}" if count else text, "")


def _lacking(seen: Seen, resource: str, lack: str) -> tuple[str, str]:
    # The run-spec field that asks for the resource the nodes lack.
    if resource == "cpu":
        return (
            f"{lack} free cpu",
            "ask for less cpu (resources.cpu.requests) or wait for running "
            "work to finish",
        )
    if resource == "memory":
        return (
            f"{lack} free memory",
            "ask for less memory (resources.mem.requests) or wait for running "
            "work to finish",
        )
    if resource == seen.gpu_resource or resource.endswith("/gpu"):
        return (
            f"{lack} a free GPU ({resource})",
            "ask for fewer GPUs (resources.gpu), pick another gpu_type, or wait "
            "until one is free",
        )
    return (f"{lack} free {resource}", f"ask for less {resource}")


def _untolerated(key: str, value: str, has: str) -> tuple[str, str]:
    shown = f"{key}={value}" if value else key
    part = f"{has} the taint {shown} it does not tolerate"
    if key.startswith(SYSTEM_TAINTS):
        return (part, "")
    toleration: Obj = (
        {"key": key, "operator": "Equal", "value": value}
        if value
        else {"key": key, "operator": "Exists"}
    )
    return (
        part,
        f"to use the {shown} nodes, add the toleration "
        f"{json.dumps(toleration)} to tolerations",
    )
