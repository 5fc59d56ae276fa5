"""Reaching the cluster: credentials, the API client, and the namespace.

Credentials come from the pod's service account when this kernel runs in a
pod, otherwise from the kubeconfig ``kubectl`` would use (``KUBECONFIG``,
else ``~/.kube/config``) with the configured or current context. A named
context (``c.DhJupyter.kube_context``) always means the kubeconfig, even in
a pod. The ``kubernetes`` package is imported here, on first use only.

Nothing here ever prints or logs a token, a client key or a kubeconfig's
content: only the server URL and the context's name leave this module.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dh_jupyter.cluster.detect import SERVICE_ACCOUNT_DIR, in_cluster, kubeconfig_paths
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import CredentialsError

logger = logging.getLogger(__name__)

# Enough pooled connections for many followed runs: each log stream and each
# watch holds one while it is open.
POOL_SIZE = 128


@dataclass(frozen=True)
class Connection:
    """An API client ready to use, and where it points.

    ``namespace`` is the namespace of the context (or of the service
    account): where runs go when neither the spec nor the configuration
    names one.
    """

    api: Any
    server: str
    namespace: str
    source: str
    context: str = ""


_lock = threading.Lock()
_cache: dict[tuple[str, ...], Connection] = {}


def connect(config: DhJupyter) -> Connection:
    """The connection ``config`` asks for, made once and then shared."""
    key = _cache_key(config)
    with _lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = _connect(config)
            logger.info(
                "Connected to the Kubernetes API at %s (%s), namespace %s.",
                found.server,
                found.source,
                found.namespace,
            )
        return found


def forget_connections() -> None:
    """Drop cached connections, so the next ``connect`` reads credentials anew."""
    with _lock:
        for connection in _cache.values():
            connection.api.close()
        _cache.clear()


def _cache_key(config: DhJupyter) -> tuple[str, ...]:
    # A changed kubeconfig (another file, a login that rewrote it) is a new
    # connection; the modification times make that visible.
    paths = kubeconfig_paths()
    stamps = [f"{path}:{path.stat().st_mtime_ns}" for path in paths]
    return (config.kube_context, str(in_cluster()), *stamps)


def _connect(config: DhJupyter) -> Connection:
    if in_cluster() and not config.kube_context:
        return _service_account()
    return _kubeconfig(config.kube_context)


def _new_configuration() -> Any:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.connection_pool_maxsize = POOL_SIZE
    # The cluster layer retries with its own bounded backoff and decides what
    # is safe to repeat; urllib3's silent retries would hide both.
    configuration.retries = False
    return configuration


def _service_account() -> Connection:
    from kubernetes import client
    from kubernetes import config as kube_config

    configuration = _new_configuration()
    try:
        # The client's configuration loaders carry no type annotations.
        kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
    except Exception as error:  # the loader's errors, a missing file
        raise CredentialsError(
            f"This pod's service account cannot be used ({_why(error)}); ask an "
            "administrator to mount a service account token, or set "
            "c.DhJupyter.kube_context to use a kubeconfig."
        ) from None
    namespace_file = SERVICE_ACCOUNT_DIR / "namespace"
    namespace = (
        namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    )
    return Connection(
        api=client.ApiClient(configuration),
        server=configuration.host,
        namespace=namespace,
        source="the pod's service account",
    )


def _kubeconfig(context: str) -> Connection:
    from kubernetes import client
    from kubernetes import config as kube_config

    paths = kubeconfig_paths()
    if not paths:
        raise CredentialsError(
            "No Kubernetes credentials were found: this is not a pod with a "
            "service account and there is no kubeconfig at "
            f"{_kubeconfig_places()}; set KUBECONFIG to your kubeconfig, or "
            'run cells on this machine with c.DhJupyter.backend = "local".'
        )
    # The client reads KUBECONFIG once, when it is imported; pass the files
    # found now, so a changed environment is honoured.
    files = os.pathsep.join(str(path) for path in paths)
    try:
        contexts, current = kube_config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            files
        )
    except Exception as error:  # YAML, I/O and the loader's own errors
        raise CredentialsError(
            f"The kubeconfig {files} cannot be read ({_why(error)}); check the "
            "file with `kubectl config view`."
        ) from None

    names = [item["name"] for item in contexts or []]
    chosen = context or (current or {}).get("name", "")
    if chosen not in names:
        listed = ", ".join(names) or "none"
        where = "c.DhJupyter.kube_context" if context else "its current-context"
        raise CredentialsError(
            f'The kubeconfig {files} has no context "{chosen}" (named by '
            f"{where}); the contexts are: {listed}. Pick one with "
            "c.DhJupyter.kube_context or `kubectl config use-context`."
        )

    configuration = _new_configuration()
    try:
        kube_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=files,
            context=chosen,
            client_configuration=configuration,
            persist_config=False,
        )
    except Exception as error:  # YAML, I/O, exec plugins, the loader's errors
        raise CredentialsError(
            f'The kubeconfig context "{chosen}" in {files} cannot be used '
            f"({_why(error)}); check it with `kubectl --context {chosen} get pods`."
        ) from None

    entry = next(item for item in contexts if item["name"] == chosen)
    namespace = (entry.get("context") or {}).get("namespace") or "default"
    return Connection(
        api=client.ApiClient(configuration),
        server=configuration.host,
        namespace=namespace,
        source=f'kubeconfig context "{chosen}"',
        context=chosen,
    )


def _kubeconfig_places() -> str:
    listed = os.environ.get("KUBECONFIG")
    if listed:
        return f"KUBECONFIG ({listed})"
    return str(Path("~/.kube/config").expanduser())


def _why(error: Exception) -> str:
    """Why a credentials file failed, without quoting the file's content.

    A YAML error's text shows the offending line, which may hold a token, so
    only its position is given; the loader's own messages name keys only.
    """
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return f"it is not valid YAML at line {mark.line + 1}"
    if type(error).__name__ == "ConfigException":
        return str(error).rstrip(".")
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return type(error).__name__
