"""A small wrapper over the ``kubernetes`` client that speaks plain dicts.

The rest of the project sees Kubernetes objects as the JSON the API sends
(camelCase dicts), never the client's model classes: they cost time to
build and tie every layer to the client's version. Each method names what
it does in RBAC words, so an error can say exactly which permission was
missing. Streams (watches, logs) are objects that another thread can close
at any moment, which is how a followed run stops without polling.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dh_jupyter.cluster.connect import Connection
from dh_jupyter.cluster.errors import Action, call, translate

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

# Connect within this many seconds; a silent API server is noticed after the
# read timeout (longer for streams, which are quiet while nothing happens).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
STREAM_READ_TIMEOUT = 330.0
# Ask the API server to end each watch after this long, so a connection that
# died silently is replaced at the latest then.
WATCH_SECONDS = 290


@dataclass(frozen=True)
class Kind:
    """Where a resource lives in the API and which client methods reach it."""

    resource: str
    group: str
    version: str
    api: str
    suffix: str = ""
    namespaced: bool = True

    @property
    def custom(self) -> bool:
        return self.api == "CustomObjectsApi"


KUEUE_GROUP = "kueue.x-k8s.io"
KUEUE_VERSION = "v1beta1"

KINDS: dict[str, Kind] = {
    kind.resource: kind
    for kind in (
        Kind("jobs", "batch", "v1", "BatchV1Api", "job"),
        Kind("pods", "", "v1", "CoreV1Api", "pod"),
        Kind("events", "", "v1", "CoreV1Api", "event"),
        Kind("configmaps", "", "v1", "CoreV1Api", "config_map"),
        Kind("secrets", "", "v1", "CoreV1Api", "secret"),
        Kind(
            "persistentvolumeclaims", "", "v1", "CoreV1Api", "persistent_volume_claim"
        ),
        Kind("nodes", "", "v1", "CoreV1Api", "node", namespaced=False),
        Kind("workloads", KUEUE_GROUP, KUEUE_VERSION, "CustomObjectsApi"),
        Kind("localqueues", KUEUE_GROUP, KUEUE_VERSION, "CustomObjectsApi"),
    )
}
KIND_RESOURCES = {"Job": "jobs", "ConfigMap": "configmaps", "Pod": "pods"}
# Set on every object a submission creates, unique to that submission.
MARKER_ANNOTATION = "dh-jupyter.io/submission"


class Stream:
    """An open HTTP response read line by line; ``close`` works from any thread."""

    def __init__(self, response: Any, action: Action) -> None:
        self._response = response
        self._action = action
        self._lock = threading.Lock()
        self._closed = False

    def lines(self) -> Iterator[bytes]:
        """The response's lines, without line ends, as they arrive.

        Ends when the server ends the response or ``close`` is called; a
        dropped connection raises ``ClusterUnavailableError``.
        """
        pending = b""
        try:
            for chunk in self._chunks():
                pending += chunk
                *complete, pending = pending.split(b"\n")
                yield from complete
            if pending:
                yield pending
        except Exception as error:
            if self._closed:
                return
            raise translate(error, self._action) from None
        finally:
            self.close()

    def _chunks(self) -> Iterator[bytes]:
        response = self._response
        if response.chunked and response.supports_chunked_reads():
            yield from response.read_chunked(decode_content=True)
            return
        while chunk := response.read1(65536):
            yield chunk

    def close(self) -> None:
        """Stop reading: a reader blocked in ``lines`` ends at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Shutting the socket down wakes a reader blocked in another thread;
        # it fails harmlessly when the response already ended.
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            self._response.shutdown()
        with contextlib.suppress(OSError):
            self._response.close()


class Cluster:
    """The requests runs need, against one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._apis: dict[str, Any] = {}

    @property
    def namespace(self) -> str:
        """The connection's own namespace (context or service account)."""
        return self.connection.namespace

    def _api(self, kind: Kind) -> Any:
        if kind.api not in self._apis:
            from kubernetes import client

            self._apis[kind.api] = getattr(client, kind.api)(self.connection.api)
        return self._apis[kind.api]

    def action(
        self, verb: str, resource: str, namespace: str = "", name: str = ""
    ) -> Action:
        """The ``Action`` describing a request, for errors."""
        base = resource.split("/", 1)[0]
        group = KINDS[base].group if base in KINDS else ""
        return Action(verb, resource, namespace, name, group, self.connection.server)

    # single objects

    def create(self, body: Obj, namespace: str, *, marker: str = "") -> Obj:
        """Create ``body`` (a Job or a ConfigMap), retried while that is safe.

        Names are made on the client, so a retried create asks for the same
        name: when the API answers 409, the object is ours if it carries our
        ``marker`` annotation (the same submission, whose first answer was
        lost), and a genuine conflict otherwise.
        """
        import time

        from dh_jupyter.cluster.errors import BACKOFF
        from dh_jupyter.errors import ClusterUnavailableError, ConflictError

        kind = KINDS[KIND_RESOURCES[body["kind"]]]
        name = body["metadata"]["name"]
        action = self.action("create", kind.resource, namespace, name)
        method = getattr(self._api(kind), f"create_namespaced_{kind.suffix}")
        for attempt in range(len(BACKOFF) + 1):
            try:
                return _json(method(namespace, body, **_raw()), action)
            except Exception as error:  # the client raises many unrelated types
                translated = translate(error, action)
            if isinstance(translated, ConflictError) and marker:
                existing = self.get(kind.resource, name, namespace)
                annotations = existing["metadata"].get("annotations") or {}
                if annotations.get(MARKER_ANNOTATION) == marker:
                    logger.info(
                        "The %s %s was already created by this submission; "
                        "its first answer was lost.",
                        body["kind"],
                        name,
                    )
                    return existing
            last = attempt == len(BACKOFF)
            if not isinstance(translated, ClusterUnavailableError) or last:
                raise translated
            logger.info(
                "Creating the %s %s failed (%s); trying again in %.1f s.",
                body["kind"],
                name,
                translated,
                BACKOFF[attempt],
            )
            time.sleep(BACKOFF[attempt])
        raise AssertionError("unreachable: the last attempt raises")

    def get(self, resource: str, name: str, namespace: str) -> Obj:
        """The object; ``NotFoundError`` if there is none."""
        kind = KINDS[resource]
        action = self.action("get", resource, namespace, name)
        method = getattr(self._api(kind), f"read_namespaced_{kind.suffix}")
        return _request(action, lambda: method(name, namespace, **_raw()))

    def patch(self, resource: str, name: str, namespace: str, patch: Obj) -> Obj:
        """Merge ``patch`` into the object (RFC 7386: lists are replaced)."""
        kind = KINDS[resource]
        action = self.action("patch", resource, namespace, name)
        method = getattr(self._api(kind), f"patch_namespaced_{kind.suffix}")
        return _request(
            action,
            lambda: method(
                name,
                namespace,
                patch,
                _content_type="application/merge-patch+json",
                **_raw(),
            ),
        )

    def delete(
        self, resource: str, name: str, namespace: str, propagation: str = "Background"
    ) -> bool:
        """Delete the object and, by ``propagation``, what it owns.

        Returns False when it was already gone; deleting twice is not an error.
        """
        from dh_jupyter.errors import NotFoundError

        kind = KINDS[resource]
        action = self.action("delete", resource, namespace, name)
        method = getattr(self._api(kind), f"delete_namespaced_{kind.suffix}")
        try:
            _request(
                action,
                lambda: method(
                    name, namespace, propagation_policy=propagation, **_raw()
                ),
            )
        except NotFoundError:
            return False
        return True

    # collections

    def list_objects(
        self, resource: str, namespace: str, *, labels: str = "", fields: str = ""
    ) -> tuple[list[Obj], str]:
        """The objects and the list's resourceVersion (to watch from)."""
        kind = KINDS[resource]
        action = self.action("list", resource, namespace)
        options = _selectors(labels, fields)
        if kind.custom:
            api = self._api(kind)
            body = _request(
                action,
                lambda: api.list_namespaced_custom_object(
                    kind.group,
                    kind.version,
                    namespace,
                    resource,
                    **options,
                    **_raw(),
                ),
            )
        elif kind.namespaced:
            method = getattr(self._api(kind), f"list_namespaced_{kind.suffix}")
            body = _request(action, lambda: method(namespace, **options, **_raw()))
        else:
            method = getattr(self._api(kind), f"list_{kind.suffix}")
            body = _request(action, lambda: method(**options, **_raw()))
        version = str((body.get("metadata") or {}).get("resourceVersion", ""))
        return list(body.get("items") or []), version

    def list_metadata(self, resource: str, namespace: str) -> list[Obj]:
        """Only the metadata of the objects: names and labels, never their data.

        The API is asked for a ``PartialObjectMetadataList``, so Secret values
        do not even travel to this process; a server that ignores the request
        is guarded against by keeping ``metadata`` alone.
        """
        kind = KINDS[resource]
        action = self.action("list", resource, namespace)
        method = getattr(self._api(kind), f"list_namespaced_{kind.suffix}")
        accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
        body = _request(
            action, lambda: method(namespace, _headers={"Accept": accept}, **_raw())
        )
        return [
            {"metadata": item.get("metadata") or {}} for item in body.get("items") or []
        ]

    def watch(
        self,
        resource: str,
        namespace: str,
        *,
        resource_version: str,
        labels: str = "",
        fields: str = "",
    ) -> Stream:
        """A watch from ``resource_version``: one JSON event per line."""
        kind = KINDS[resource]
        action = self.action("watch", resource, namespace)
        options = {
            **_selectors(labels, fields),
            "watch": True,
            "resource_version": resource_version,
            "allow_watch_bookmarks": True,
            "timeout_seconds": WATCH_SECONDS,
        }
        stream_options = _raw(STREAM_READ_TIMEOUT)
        if kind.custom:
            api = self._api(kind)
            response = call(
                action,
                lambda: api.list_namespaced_custom_object(
                    kind.group,
                    kind.version,
                    namespace,
                    resource,
                    **options,
                    **stream_options,
                ),
            )
        else:
            method = getattr(self._api(kind), f"list_namespaced_{kind.suffix}")
            response = call(
                action, lambda: method(namespace, **options, **stream_options)
            )
        return Stream(response, action)

    def log(
        self,
        pod: str,
        namespace: str,
        *,
        container: str,
        follow: bool,
        since_time: str = "",
    ) -> Stream:
        """A pod's log with RFC 3339 timestamps, followed or not.

        ``since_time`` (RFC 3339) resumes a log; the generated
        ``read_namespaced_pod_log`` does not offer the API's ``sinceTime``,
        so the request is built with the client's own serializer.
        """
        action = self.action("get", "pods/log", namespace, pod)
        api = self.connection.api
        query: list[tuple[str, Any]] = [
            ("container", container),
            ("follow", follow),
            ("timestamps", True),
        ]
        if since_time:
            query.append(("sinceTime", since_time))
        request = api.param_serialize(
            method="GET",
            resource_path="/api/v1/namespaces/{namespace}/pods/{name}/log",
            path_params={"namespace": namespace, "name": pod},
            query_params=query,
            header_params={"Accept": "text/plain"},
            auth_settings=["BearerToken"],
        )

        def send() -> Any:
            from kubernetes.client.exceptions import ApiException

            response = api.call_api(
                *request, _request_timeout=(CONNECT_TIMEOUT, STREAM_READ_TIMEOUT)
            )
            if not 200 <= response.status <= 299:
                response.read()
                raise ApiException.from_response(
                    http_resp=response, body=None, data=None
                )
            return response.response

        return Stream(call(action, send), action)


def _selectors(labels: str, fields: str) -> dict[str, str]:
    options = {}
    if labels:
        options["label_selector"] = labels
    if fields:
        options["field_selector"] = fields
    return options


def _raw(read_timeout: float = READ_TIMEOUT) -> dict[str, Any]:
    # Raw JSON instead of model objects: faster, and what the upper layers use.
    return {
        "_preload_content": False,
        "_request_timeout": (CONNECT_TIMEOUT, read_timeout),
    }


def _request(action: Action, send: Callable[[], Any]) -> Obj:
    """``send()``'s answer as a dict, retried like any request (``call``)."""
    return call(action, lambda: _json(send(), action))


def _json(response: Any, action: Action) -> Obj:
    """The answer's JSON object; anything else is a failing proxy's, not the API's.

    Reading the body is part of the request, so a connection dropped half-way
    through it is retried like one dropped before the answer.
    """
    from dh_jupyter.errors import ClusterUnavailableError

    try:
        data = response.data
    finally:
        response.release_conn()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        # What came is not shown: it may be anything a proxy had at hand.
        raise ClusterUnavailableError(
            f"The answer to {action.what}{action.where} from "
            f"{action.server or 'the cluster'} is not a Kubernetes object; a "
            "proxy between you and the API server may be failing, try again in a "
            "minute."
        )
    return parsed
