"""The runs REST API: list, show, follow the logs of, cancel and delete a run.

All under the server's base URL; every answer is JSON.

``GET /dh-jupyter/runs``
    ``{"backend", "reason", "runs": [run, ...]}``, newest first. A run is
    ``{"name", "namespace", "backend", "user", "notebook", "created", "age",
    "resources", "status": {"phase", "done", "description", "reason",
    "hint", "started", "finished", "elapsed", "exit_code"}}``.
``GET /dh-jupyter/runs/<name>``
    One run, as above.
``GET /dh-jupyter/runs/<name>/logs?offset=0&wait=20&tail=1000&limit=5000``
    ``{"start", "offset", "lines", "skipped", "done", "error"}``: the lines
    from ``offset`` on (at most ``limit``, only the last ``tail`` if given).
    Following is a long poll: with ``wait`` the answer comes as soon as
    there is a new line, or after ``wait`` seconds (at most 30) with none;
    ask again with the ``offset`` returned until ``done`` is true. A log
    the cluster stops serving (a 403 on pods/log, a deleted pod) still
    answers 200: it ends there, ``done`` with the sentence in ``error``,
    since the lines before stay valid and asking again would not help.
    With ``tail``, a log the server has only begun to read is given up to
    a few seconds to read what is already written (see ``LogBook``).
``POST /dh-jupyter/runs/<name>/cancel``
    Stops a run that is going (the panel's Cancel); 202 with the run as it
    is then, or 409 when it has already finished. What stays afterwards is
    the backend's choice: a local run stays, cancelled, with its logs; on a
    cluster, deleting the Job is how a run stops, so it is gone.
``DELETE /dh-jupyter/runs/<name>``
    Stops the run if it is going, then removes it and its logs (the panel's
    Delete); 204 No Content.

Errors are ``{"message", "reason", "error"}``: the message is the one
sentence the runs layer wrote for the user, ``error`` names its kind
(``NotFoundError``, ``PermissionDeniedError``, ``ClusterUnavailableError``
...), so a client can tell "no such run" from "no such endpoint". A user
the server's Authorizer does not allow the ``dh-jupyter`` resource gets a
403 whose ``error`` is ``NotAuthorizedError``, apart from a lost login
(a 403 without ``error``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.client import responses
from typing import Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    ConflictError,
    CredentialsError,
    DhJupyterError,
    InvalidError,
    NotFoundError,
    PermissionDeniedError,
)
from dh_jupyter.server.service import (
    SETTINGS_KEY,
    RunFinishedError,
    RunsService,
    TooManyLogsError,
)
from dh_jupyter.spec.names import dns_subdomain

AUTH_RESOURCE = "dh-jupyter"
API_ROOT = "dh-jupyter/runs"
MAX_WAIT = 30.0
MAX_LINES = 5000

# What a logged-in user whom the server's Authorizer refuses is told. It is
# also how write_error tells that refusal from a lost login: both are 403.
NOT_AUTHORIZED = (
    "Your Jupyter account may not use the runs panel; ask the administrator "
    f"to allow the '{AUTH_RESOURCE}' resource."
)

# Most specific first. A cluster that rejects the server's credentials is a
# bad gateway, not a 401: the browser's own login is fine.
HTTP_STATUS: list[tuple[type[DhJupyterError], int]] = [
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (CredentialsError, 502),
    (ConflictError, 409),
    (InvalidError, 422),
    (ClusterUnavailableError, 503),
    (ClusterError, 502),
    (RunFinishedError, 409),
    (TooManyLogsError, 429),
    (DhJupyterError, 500),
]

# Messages are sentences written for the user; anything longer than this is
# not one, and is cut rather than risk echoing a whole upstream body.
MAX_MESSAGE = 500


class RunsAPIError(web.HTTPError):
    """An HTTP error carrying a dh_jupyter error's sentence and kind."""

    def __init__(self, status_code: int, message: str, kind: str) -> None:
        # Tornado formats log_message with %, so a literal % must be doubled.
        super().__init__(status_code, message.replace("%", "%%"))
        self.message = message
        self.kind = kind

    @classmethod
    def from_error(cls, error: DhJupyterError) -> RunsAPIError:
        """The HTTP error that reports ``error`` to the client."""
        status = next(code for kind, code in HTTP_STATUS if isinstance(error, kind))
        message = str(error)
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        return cls(status, message, type(error).__name__)


Verb = TypeVar("Verb", bound=Callable[..., Awaitable[None]])


def allowed(verb: Verb) -> Verb:
    """jupyter_server's ``@authorized`` on ``verb``, saying ``NOT_AUTHORIZED``.

    Each verb gets a decorator of its own: the decorator remembers the
    action (read, write) of the first request it sees.
    """
    # With arguments, jupyter_server's decorator has no usable type.
    return cast(Verb, authorized(message=NOT_AUTHORIZED)(verb))


@contextmanager
def reported() -> Iterator[None]:
    """Turn the runs layer's errors into HTTP errors with the same sentence."""
    try:
        yield
    except DhJupyterError as error:
        raise RunsAPIError.from_error(error) from None


class RunsHandler(APIHandler):
    """Base of the runs API: its auth resource, its service, its errors."""

    auth_resource = AUTH_RESOURCE

    @property
    def service(self) -> RunsService:
        """The runs service the extension put in the application's settings."""
        service: RunsService = self.settings[SETTINGS_KEY]
        return service

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as ``{"message", "reason", "error"}``, never a traceback."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, web.HTTPError) and error.log_message == NOT_AUTHORIZED:
            error = RunsAPIError(status_code, NOT_AUTHORIZED, "NotAuthorizedError")
        if not isinstance(error, RunsAPIError):
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "application/json")
        reply = {
            "message": error.message,
            "reason": responses.get(status_code, "Unknown HTTP Error"),
            "error": error.kind,
        }
        self.finish(json.dumps(reply))

    def run_name(self, name: str) -> str:
        """``name`` if it can name a run; a 400 with the fix otherwise."""
        problem = dns_subdomain(name)
        if problem is not None:
            raise RunsAPIError(400, f"run name: {problem}", "SpecError")
        return name

    def query_number(
        self, key: str, low: float, high: float, *, whole: bool, example: float
    ) -> float | None:
        """The query argument ``key``, a number from ``low`` to ``high``, or None."""
        text = self.get_query_argument(key, None)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high or (whole and not value.is_integer()):
            kind = "a whole number" if whole else "a number"
            raise RunsAPIError(
                400,
                f'{key}: "{text}" is not {kind} from {low:g} to {high:g}; '
                f"use one such as {key}={example:g}.",
                "SpecError",
            )
        return value


class RunListHandler(RunsHandler):
    """``/dh-jupyter/runs``: the user's runs."""

    @web.authenticated
    @allowed
    async def get(self) -> None:
        """List the user's runs, newest first, with their status."""
        with reported():
            listing = await self.service.list_runs()
        self.finish(json.dumps(listing))


class RunHandler(RunsHandler):
    """``/dh-jupyter/runs/<name>``: one run."""

    @web.authenticated
    @allowed
    async def get(self, name: str) -> None:
        """Show one run with its status."""
        with reported():
            run = await self.service.run(self.run_name(name))
        self.finish(json.dumps(run))

    @web.authenticated
    @allowed
    async def delete(self, name: str) -> None:
        """Stop the run if it is going, then remove it and its logs."""
        with reported():
            await self.service.delete(self.run_name(name))
        self.set_status(204)
        self.finish()


class RunCancelHandler(RunsHandler):
    """``/dh-jupyter/runs/<name>/cancel``: stop a run that is going."""

    @web.authenticated
    @allowed
    async def post(self, name: str) -> None:
        """Stop the run; 202 with the run, 409 when it has already finished."""
        with reported():
            run = await self.service.cancel(self.run_name(name))
        self.set_status(202)
        self.finish(json.dumps(run))


class RunLogsHandler(RunsHandler):
    """``/dh-jupyter/runs/<name>/logs``: a run's log, followed by long poll."""

    @web.authenticated
    @allowed
    async def get(self, name: str) -> None:
        """The log's lines from ``offset``, waiting up to ``wait`` s for new ones."""
        offset = self.query_number("offset", 0, 2**53, whole=True, example=0)
        wait = self.query_number("wait", 0, MAX_WAIT, whole=False, example=20)
        tail = self.query_number("tail", 0, 2**31, whole=True, example=1000)
        limit = self.query_number("limit", 1, MAX_LINES, whole=True, example=1000)
        with reported():
            chunk = await self.service.logs(
                self.run_name(name),
                int(offset or 0),
                wait=wait or 0.0,
                tail=None if tail is None else int(tail),
                limit=int(limit or MAX_LINES),
            )
        self.finish(json.dumps(chunk.to_json()))


_NAME = r"(?P<name>[^/]+)"

default_handlers: list[tuple[str, type[RunsHandler]]] = [
    (rf"{API_ROOT}/?", RunListHandler),
    (rf"{API_ROOT}/{_NAME}/?", RunHandler),
    (rf"{API_ROOT}/{_NAME}/cancel/?", RunCancelHandler),
    (rf"{API_ROOT}/{_NAME}/logs/?", RunLogsHandler),
]
