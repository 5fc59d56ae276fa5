"""Creating a run's objects so that no answer lost on the way breaks the run.

A run is a ConfigMap carrying the cell and a Job that mounts it; the Job
then becomes the ConfigMap's owner, so deleting the Job deletes both. Each
create is retried by the cluster layer under the same client-made name, so
a retry never makes two. What is left to decide here is what a failure
means: a Job that could not be created takes its ConfigMap with it, but a
Job whose every create answer was lost may well exist, and deleting its
ConfigMap then would break a running cell, so it is looked for first.
"""

from __future__ import annotations

import logging
from typing import Any

from dh_jupyter.cluster.client import MARKER_ANNOTATION, Cluster
from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    ConflictError,
    NotFoundError,
)

logger = logging.getLogger(__name__)

Obj = dict[str, Any]


def create_objects(cluster: Cluster, code_map: Obj, job: Obj, marker: str) -> Obj:
    """Create the ConfigMap, then the Job, then link them; returns the Job."""
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]

    try:
        cluster.create(code_map, namespace, marker=marker)
    except ConflictError:
        raise taken(name, namespace) from None
    except ClusterError:
        raise
    except BaseException:
        # Interrupted with the create perhaps sent: take it back.
        _clean_up(cluster, name, namespace)
        raise

    try:
        created = cluster.create(job, namespace, marker=marker)
    except ClusterError as error:
        made = _made_anyway(cluster, job, marker, error)
        if made is None:
            _clean_up(cluster, name, namespace)
            if isinstance(error, ConflictError):
                raise taken(name, namespace) from None
            raise
        created = made
    except BaseException:
        # Stopped (the cell was interrupted) while the Job was being created:
        # the user meant nothing to run, so nothing is left behind.
        _withdraw(cluster, name, namespace)
        raise

    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": name,
        "uid": created["metadata"]["uid"],
        "controller": True,
    }
    try:
        cluster.patch(
            "configmaps", name, namespace, {"metadata": {"ownerReferences": [owner]}}
        )
    except ClusterError as error:
        # The run itself is fine; only the cleanup is at stake.
        logger.warning(
            "The Job %s could not be made the owner of its ConfigMap (%s); "
            "delete the ConfigMap with `kubectl delete configmap %s` when done.",
            name,
            error,
            name,
        )
    return created


def taken(name: str, namespace: str) -> ConflictError:
    """The error for a run name that another run (or object) already has."""
    return ConflictError(
        f'A run called "{name}" already exists in namespace "{namespace}"; pick '
        "another name, or leave the name out to get a fresh one."
    )


def _made_anyway(
    cluster: Cluster, job: Obj, marker: str, error: ClusterError
) -> Obj | None:
    """The Job, if this submission made it although no create was answered.

    Raises ``error`` when even that cannot be told: then the ConfigMap is
    kept, since it may be the cell of a running Job.
    """
    if not isinstance(error, ClusterUnavailableError):
        return None
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]

    try:
        found = cluster.get("jobs", name, namespace)
    except NotFoundError:
        return None
    except ClusterError as unknown:
        logger.warning(
            "Whether the Job %s was created cannot be told (%s); its ConfigMap is "
            "kept: `kubectl get job %s` says whether it runs, and `kubectl delete "
            "configmap %s` cleans up if it does not.",
            name,
            unknown,
            name,
            name,
        )
        raise error from None

    # A Job of that name made by someone else is not ours to run.
    annotations = found["metadata"].get("annotations") or {}
    if annotations.get(MARKER_ANNOTATION) != marker:
        return None
    logger.info(
        "The Job %s was created although no answer to its create came back; "
        "going on with it.",
        name,
    )
    return found


def _withdraw(cluster: Cluster, name: str, namespace: str) -> None:
    """Delete the Job, if its create got through, and then its ConfigMap."""
    try:
        cluster.delete("jobs", name, namespace)
    except NotFoundError:
        pass
    except ClusterError as error:
        logger.warning(
            "The Job %s, created as its cell was interrupted, was not deleted "
            "(%s); delete it with `kubectl delete job %s`.",
            name,
            error,
            name,
        )
    _clean_up(cluster, name, namespace)


def _clean_up(cluster: Cluster, name: str, namespace: str) -> None:
    """Delete the ConfigMap of a Job that was not created: leave nothing behind."""
    try:
        cluster.delete("configmaps", name, namespace)
    except ClusterError as cleanup:
        logger.warning(
            "The ConfigMap %s of a Job that could not be created was not "
            "deleted (%s); delete it with `kubectl delete configmap %s`.",
            name,
            cleanup,
            name,
        )
