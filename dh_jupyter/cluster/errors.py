"""The API's errors, as the project's own errors with one sentence for the user.

Every call into the ``kubernetes`` client goes through ``call``: it retries
what is safe to retry (5xx, 429, a refused or dropped connection) a bounded
number of times with backoff, and turns whatever is left into a subclass of
``dh_jupyter.errors.ClusterError``. The client's exceptions never leave the
cluster layer.

The user-facing text comes from the request we made (verb, resource,
namespace, name) and, for 422 and for a 403 that RBAC did not write (a
quota, an admission policy), from the API's ``Status`` body, shortened.
Bodies the API did not shape as a ``Status`` are not shown: they may hold
anything.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    ConflictError,
    CredentialsError,
    InvalidError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds to wait before each retry; its length bounds the retries.
BACKOFF = (0.2, 0.5, 1.0)
RETRIED_STATUSES = {429, 500, 502, 503, 504}
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Action:
    """What a request was trying to do, in RBAC words, for messages."""

    verb: str
    resource: str
    namespace: str = ""
    name: str = ""
    group: str = ""
    server: str = ""

    @property
    def what(self) -> str:
        """``create jobs`` or ``get pods/log``, for sentences."""
        return f"{self.verb} {self.resource}"

    @property
    def where(self) -> str:
        return f' in namespace "{self.namespace}"' if self.namespace else ""


class RejectedSpecError(InvalidError):
    """A 422 whose causes point at run-spec fields.

    ``fields`` lists the run-spec paths (``resources.cpu.requests``) the API
    complained about, so a form can show the sentence beside the field.
    """

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.fields = fields


class GoneError(ClusterError):
    """A watch asked for history the API no longer keeps (HTTP 410)."""


def call(action: Action, request: Callable[[], T], *, retry: bool = True) -> T:
    """``request()``, retried while it fails transiently, else a ClusterError."""
    attempts = len(BACKOFF) + 1 if retry else 1
    for attempt in range(attempts):
        try:
            return request()
        except Exception as error:  # the client raises many unrelated types
            translated = translate(error, action)
            transient = isinstance(translated, ClusterUnavailableError)
            if not transient or attempt == attempts - 1:
                raise translated from None
            pause = _retry_after(error) or BACKOFF[attempt]
            logger.info(
                "The request to %s%s failed (%s); trying again in %.1f s.",
                action.what,
                action.where,
                translated,
                pause,
            )
            time.sleep(pause)
    raise AssertionError("unreachable: the last attempt raises")


def translate(error: BaseException, action: Action) -> ClusterError:
    """The project's error for ``error`` raised while doing ``action``."""
    if isinstance(error, ClusterError):
        return error
    status = getattr(error, "status", None)
    if isinstance(status, int) and status >= 400:
        return _from_status(status, _status_body(error), action)
    if _is_connection_error(error):
        return ClusterUnavailableError(
            f"Cannot reach the Kubernetes API at {action.server or 'the cluster'} "
            f"({_connection_reason(error)}); check that the cluster is running "
            "and that KUBECONFIG or c.DhJupyter.kube_context points at it."
        )
    return ClusterError(
        f"The request to {action.what}{action.where} failed unexpectedly "
        f"({type(error).__name__}); try again, and report it if it persists."
    )


def again(error: ClusterError) -> ClusterError:
    """``error`` fit to be raised once more, in another thread than the first.

    A watch keeps its error for every caller that asks; raising the kept
    object itself would pile each caller's traceback onto it.
    """
    try:
        copied = copy.copy(error)
    except TypeError:  # an error whose arguments cannot be replayed
        return error
    copied.__traceback__ = None
    return copied


def is_gone(error: BaseException) -> bool:
    """Whether ``error`` is the API's 410 Gone (expired resourceVersion)."""
    return isinstance(error, GoneError) or getattr(error, "status", None) == 410


def _from_status(status: int, body: dict[str, Any], action: Action) -> ClusterError:
    message = _short(str(body.get("message", "")))
    if status == 401:
        return CredentialsError(
            f"The cluster rejected your credentials (HTTP 401) when asked to "
            f"{action.what}{action.where}; log in again or refresh the token in "
            "your kubeconfig."
        )
    if status == 403:
        return _forbidden(str(body.get("message", "")), action)
    if status == 404:
        return _not_found(body, action)
    if status == 409:
        return ConflictError(
            f'A {_singular(action.resource)} called "{action.name}" already '
            f"exists{action.where}; submit again to get a fresh name."
        )
    if status == 410:
        return GoneError(
            f"The API no longer has the history of {action.resource}{action.where} "
            "that was asked for (HTTP 410)."
        )
    if status == 422:
        return _invalid(body, action)
    if status in RETRIED_STATUSES:
        reason = body.get("reason") or "an error"
        return ClusterUnavailableError(
            f"The Kubernetes API answered HTTP {status} ({reason}) when asked to "
            f"{action.what}{action.where}; try again in a minute, or ask an "
            "administrator whether the cluster is healthy."
        )
    detail = f": {message}" if message else ""
    return ClusterError(
        f"The Kubernetes API refused to {action.what}{action.where} (HTTP "
        f"{status}){detail}."
    )


# kube-apiserver's RBAC refusal: 'User "u" cannot create resource "jobs" in
# API group "batch" in the namespace "ns"' (or "at the cluster scope").
_RBAC_DENIAL = re.compile(
    r'cannot [\w*]+ resource "[^"]*"(?: in API group "[^"]*")?'
    r'(?: in the namespace "[^"]*"| at the cluster scope)'
)
# The ResourceQuota admission plugin's: "exceeded quota: <name>, requested:
# <a=1,b=2>, used: <...>, limited: <...>".
_QUOTA_DENIAL = re.compile(
    r"exceeded quota: (?P<quota>[^,]+), requested: (?P<requested>.*?), "
    r"used: (?P<used>.*?), limited: (?P<limited>.*)$"
)


def _forbidden(message: str, action: Action) -> PermissionDeniedError:
    """A 403 in the words of whoever refused: RBAC, a quota, or a policy.

    Only RBAC's refusal (or a 403 without a message) means a missing rule;
    a quota or an admission webhook (Gatekeeper, Kyverno, Pod Security)
    refuses for reasons a Role cannot fix, so their own words are quoted.
    """
    quota = _QUOTA_DENIAL.search(" ".join(message.split()))
    if quota:
        return QuotaExceededError(
            f"You may not {action.what}{action.where} now: it would exceed the "
            f'ResourceQuota "{_short(quota["quota"])}" (requested '
            f"{_short(quota['requested'])}, used {_short(quota['used'])}, limited "
            f"{_short(quota['limited']).rstrip('.')}); delete runs you no longer "
            "need, wait for others to finish, or ask an administrator for more "
            "quota."
        )
    if message.strip() and not _RBAC_DENIAL.search(message):
        return PermissionDeniedError(
            f"The cluster refused to {action.what}{action.where} (HTTP 403): "
            f'"{_short(message).rstrip(".")}"; change the run spec as it says, or '
            "ask an administrator about the cluster's policy."
        )
    role, scope = (
        ("Role", " in that namespace") if action.namespace else ("ClusterRole", "")
    )
    return PermissionDeniedError(
        f"You may not {action.what}{action.where} (HTTP 403); ask an "
        f"administrator for a {role} with the rule {rbac_rule(action)} bound "
        f"to your account{scope}."
    )


def rbac_rule(action: Action) -> str:
    """The RBAC rule that allows ``action``, as a Role would spell it."""
    return (
        f'{{apiGroups: ["{action.group}"], resources: ["{action.resource}"], '
        f'verbs: ["{action.verb}"]}}'
    )


def _not_found(body: dict[str, Any], action: Action) -> NotFoundError:
    details = body.get("details") or {}
    message = str(body.get("message", ""))
    if details.get("kind") == "namespaces" or message.startswith('namespaces "'):
        namespace = details.get("name") or action.namespace
        return NotFoundError(
            f'The namespace "{namespace}" does not exist; set namespace in the '
            "run spec or c.DhJupyter.namespace to a namespace you can use."
        )
    if action.name:
        return NotFoundError(
            f'There is no {_singular(action.resource)} "{action.name}"{action.where}.'
        )
    return NotFoundError(
        f"The cluster does not serve {action.resource} (HTTP 404); the API or "
        "the custom resource definition is not installed."
    )


def _invalid(body: dict[str, Any], action: Action) -> InvalidError:
    causes = (body.get("details") or {}).get("causes") or []
    kind = _singular(action.resource).capitalize()
    if action.resource == "configmaps":
        kind = "ConfigMap carrying the cell"
    parts: list[str] = []
    fields: list[str] = []
    for cause in causes:
        text = _short(str(cause.get("message", "")).rstrip("."))
        field = spec_field(str(cause.get("field", "")), action.resource)
        if field == "resources":
            # "requests: must be less than or equal to cpu limit" names the
            # resource only in the message.
            named = re.search(r"\b(cpu|memory|[\w.-]+/gpu) limit", text)
            if named:
                kind_name = {"cpu": "cpu", "memory": "mem"}.get(named[1], "gpu")
                field = f"resources.{kind_name}.requests"
        parts.append(f"{field}: {text}" if field else text)
        if field:
            fields.append(field)
    if not parts:
        parts.append(_short(str(body.get("message", "")).rstrip(".")) or "invalid")
    return RejectedSpecError(
        f"The cluster rejected the {kind}: {'; '.join(parts)}.", tuple(fields)
    )


# Paths in a Job (after spec.template.spec. or the container) and the
# run-spec field each comes from; the first match wins.
_POD_FIELDS: tuple[tuple[str, str], ...] = (
    (
        r"^containers\[0\]\.resources\.(requests|limits)\[?\.?cpu\]?",
        r"resources.cpu.\1",
    ),
    (
        r"^containers\[0\]\.resources\.(requests|limits)\[?\.?memory\]?",
        r"resources.mem.\1",
    ),
    (
        r"^containers\[0\]\.resources\.(requests|limits)\[?\.?[\w./-]*gpu\]?",
        r"resources.gpu.\1",
    ),
    (r"^containers\[0\]\.resources\.(requests|limits)", r"resources"),
    (r"^containers\[0\]\.volumeMounts\[(\d+)\]\.mountPath", r"volumes[\1].mount_path"),
    (r"^containers\[0\]\.volumeMounts\[(\d+)\]", r"volumes[\1]"),
    (r"^containers\[0\]\.env\[\d+\]", "env"),
    (r"^containers\[0\]\.envFrom\[(\d+)\]", r"secrets[\1]"),
    (r"^containers\[0\]\.image", "image"),
    (
        r"^volumes\[(\d+)\]\.persistentVolumeClaim\.claimName",
        r"volumes[\1].spec.claim_name",
    ),
    (r"^volumes\[(\d+)\]\.configMap\.name", r"volumes[\1].spec.name"),
    (r"^volumes\[(\d+)\]\.secret\.secretName", r"volumes[\1].spec.secret_name"),
    (r"^volumes\[(\d+)\]\.emptyDir\.sizeLimit", r"volumes[\1].spec.size_limit"),
    (r"^volumes\[(\d+)\]\.name", r"volumes[\1].name"),
    (r"^volumes\[(\d+)\]", r"volumes[\1]"),
    (r"^tolerations\[(\d+)\]", r"tolerations[\1]"),
    (r"^nodeSelector", "node_selector"),
    (r"^affinity", "affinity"),
    (r"^serviceAccountName", "service_account"),
    (r"^imagePullSecrets\[(\d+)\]", r"image_pull_secrets[\1]"),
    (r"^priorityClassName", "priority_class"),
)
_JOB_FIELDS: tuple[tuple[str, str], ...] = (
    (r"^spec\.activeDeadlineSeconds", "timeout"),
    (r"^spec\.backoffLimit", "retries"),
    (r"^spec\.ttlSecondsAfterFinished", "ttl"),
    (r"^spec\.template\.metadata\.labels", "labels"),
    (r"^metadata\.labels\[kueue\.x-k8s\.io/queue-name\]", "queue"),
    (r"^metadata\.labels", "labels"),
    (r"^metadata\.name", "name"),
    (r"^metadata\.namespace", "namespace"),
)


def spec_field(path: str, resource: str = "jobs") -> str:
    """The run-spec field a Kubernetes field path comes from, or ``""``.

    ``spec.template.spec.containers[0].resources.requests[cpu]`` becomes
    ``resources.cpu.requests``; a path no run-spec field produces (our own
    ConfigMap's data) becomes the cell, or ``""``.
    """
    if resource == "configmaps":
        return "cell" if path.startswith("data") else ""
    pod_prefix = "spec.template.spec."
    if path.startswith(pod_prefix):
        rest = path[len(pod_prefix) :]
        for pattern, field in _POD_FIELDS:
            if re.match(pattern, rest):
                return re.sub(pattern + r".*$", field, rest)
        return ""
    for pattern, field in _JOB_FIELDS:
        if re.match(pattern, path):
            return field
    return ""


def _singular(resource: str) -> str:
    names = {
        "jobs": "Job",
        "pods": "Pod",
        "configmaps": "ConfigMap",
        "secrets": "Secret",
        "events": "Event",
        "persistentvolumeclaims": "PersistentVolumeClaim",
        "nodes": "Node",
        "pods/log": "Pod log",
    }
    return names.get(resource, resource.rstrip("s"))


def _status_body(error: BaseException) -> dict[str, Any]:
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        return parsed
    return {}


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MESSAGE_LIMIT:
        return text[: MESSAGE_LIMIT - 1] + "…"
    return text


def _retry_after(error: BaseException) -> float | None:
    headers = getattr(error, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(value), 5.0) if value else None
    except ValueError:
        return None


def _is_connection_error(error: BaseException) -> bool:
    import urllib3

    return isinstance(error, urllib3.exceptions.HTTPError | OSError)


def _connection_reason(error: BaseException) -> str:
    text = str(getattr(error, "reason", None) or error).lower()
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or "timeout" in text:
        return "the connection timed out"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "the server name does not resolve"
    if "certificate" in text or "ssl" in text:
        return "the TLS handshake failed; check the cluster's certificate"
    return "the connection failed or was dropped"
