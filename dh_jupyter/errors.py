"""The project's own exceptions, one family for every layer.

Surfaces (magics, widgets, server handlers) catch these and show their text
as it is: every message is already one sentence written for the user. Code
below the surfaces never lets a third-party exception (the ``kubernetes``
client's, ``urllib3``'s) escape; the cluster layer translates them into the
classes here.
"""

from __future__ import annotations


class DhJupyterError(Exception):
    """Base class of every error dh_jupyter raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the message already says
        # what happened and what to do, and the frames would only hide it.
        return [f"{type(self).__name__}: {self}"]


class ClusterError(DhJupyterError):
    """The cluster refused a request or could not be reached."""


class CredentialsError(ClusterError):
    """No usable credentials, or the cluster rejected them (HTTP 401)."""


class PermissionDeniedError(ClusterError):
    """The user's credentials lack an RBAC permission (HTTP 403)."""


class QuotaExceededError(PermissionDeniedError):
    """A namespace's ResourceQuota has no room for the request (HTTP 403)."""


class NotFoundError(ClusterError):
    """A namespace, Job or other object does not exist (HTTP 404)."""


class ConflictError(ClusterError):
    """An object with that name already exists (HTTP 409)."""


class InvalidError(ClusterError):
    """The API server rejected an object as invalid (HTTP 422)."""


class ClusterUnavailableError(ClusterError):
    """The API server answered 5xx or could not be reached at all."""


class RunError(DhJupyterError):
    """A run could not be submitted, or ended without succeeding."""


class RunFailedError(RunError):
    """The run ended as failed; the message says why and what to try."""


class RunCancelledError(RunError):
    """The run was cancelled before it finished."""


class CellTooLargeError(RunError):
    """The cell's source is larger than a Job can carry."""
