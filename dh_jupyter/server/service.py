"""What the runs API does, apart from HTTP: the backend, a thread pool, logs.

Every call into the runs layer can block (it talks to the Kubernetes API
server), so each one runs on a small thread pool of its own and the
server's event loop never waits on the network. The backend is chosen at
the first request and kept; a failed choice (no credentials yet) is not
kept, so the next request tries again.

The service deliberately holds no state about runs besides the log books
of runs someone is reading: the cluster is the only source of truth, and a
restarted server loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, TypeVar

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.server.logbook import LogBook, LogChunk
from dh_jupyter.server.payload import run_payload

SETTINGS_KEY = "dh_jupyter_runs"

# A few threads are enough for one user's panel and log tabs; more would
# only pile more requests onto the API server at once.
WORKERS = 4

# Log books for runs nobody has read for this long are dropped.
IDLE_BOOK_SECONDS = 600.0

# Each followed log holds one thread while its run goes on.
MAX_FOLLOWED_LOGS = 16

T = TypeVar("T")


class TooManyLogsError(DhJupyterError):
    """More logs are followed at once than the server keeps threads for."""


class RunFinishedError(DhJupyterError):
    """A run that has already finished was asked to stop."""


class RunsService:
    """The runs of the user this Jupyter server belongs to."""

    def __init__(self, config: DhJupyter, log: logging.Logger | None = None) -> None:
        self.config = config
        self.log = log or logging.getLogger(__name__)
        self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="dh-jupyter")
        # The pool must not outlive the web application that owns the service.
        weakref.finalize(self, self._executor.shutdown, wait=False)
        self._backend: Backend | None = None
        self._reason = ""
        self._choosing = asyncio.Lock()
        self._books: dict[str, LogBook] = {}

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the pool, awaited without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    async def backend(self) -> tuple[Backend, str]:
        """The backend runs are on, and why it was picked when it was automatic."""
        async with self._choosing:
            if self._backend is None:
                from dh_jupyter.runs.select import choose

                choice = await self.call(choose, None, self.config)
                self._backend, self._reason = choice.backend, choice.reason
                self.log.info(
                    "dh_jupyter lists runs with the %s backend%s",
                    choice.backend.name,
                    f": {choice.reason}" if choice.reason else ".",
                )
        return self._backend, self._reason

    async def list_runs(self) -> dict[str, Any]:
        """The user's runs, newest first, with the backend that holds them."""
        backend, reason = await self.backend()

        gpu = self.config.gpu_resource

        def work() -> list[dict[str, Any]]:
            now = datetime.now(timezone.utc)
            return [run_payload(run, now, gpu) for run in backend.runs()]

        runs = await self.call(work)
        return {"backend": backend.name, "reason": reason, "runs": runs}

    async def run(self, name: str) -> dict[str, Any]:
        """One run's details; ``NotFoundError`` when there is no such run."""
        backend, _ = await self.backend()

        gpu = self.config.gpu_resource

        def work() -> dict[str, Any]:
            now = datetime.now(timezone.utc)
            return run_payload(backend.get(name), now, gpu)

        return await self.call(work)

    async def cancel(self, name: str) -> dict[str, Any]:
        """Stop the run called ``name``; the run as it is afterwards.

        ``RunFinishedError`` when it has already finished: stopping it would
        change nothing, and the user most likely meant Delete.
        """
        backend, _ = await self.backend()

        gpu = self.config.gpu_resource

        def work() -> dict[str, Any]:
            run = backend.get(name)
            phase = run.status.phase
            if phase.finished:
                raise RunFinishedError(
                    f"{name} has already finished ({phase.value}), so there is "
                    "nothing to cancel; delete it instead to remove it and its logs."
                )
            run.cancel()
            return run_payload(run, datetime.now(timezone.utc), gpu)

        payload = await self.call(work)
        self.log.info("dh_jupyter cancelled the run %s at the user's request.", name)
        return payload

    async def delete(self, name: str) -> None:
        """Stop the run called ``name`` if it is going, then remove it and its logs."""
        backend, _ = await self.backend()

        def work() -> None:
            backend.get(name).delete()

        await self.call(work)

        # Its lines must not outlive it: a log tab asking again gets a 404.
        book = self._books.pop(name, None)
        if book is not None:
            book.abandon()
        self.log.info("dh_jupyter deleted the run %s at the user's request.", name)

    async def logs(
        self, name: str, offset: int, *, wait: float, tail: int | None, limit: int
    ) -> LogChunk:
        """``name``'s log from ``offset`` on, waiting up to ``wait`` s for a line."""
        book = await self._book(name, reopen_failed=offset == 0)
        return await book.read(offset, wait=wait, tail=tail, limit=limit)

    async def _book(self, name: str, *, reopen_failed: bool = False) -> LogBook:
        self._drop_idle_books()
        book = self._books.get(name)
        if book is not None and reopen_failed and book.done and book.error:
            # A log read from the start again (a new tab) gets a new try: the
            # cause, a missing Role say, may have been fixed since.
            del self._books[name]
            book = None
        if book is not None:
            return book

        backend, _ = await self.backend()
        run: Run = await self.call(backend.get, name)

        # Another request may have opened the book while this one waited.
        book = self._books.get(name)
        if book is not None:
            return book
        following = sum(1 for b in self._books.values() if not b.done)
        if following >= MAX_FOLLOWED_LOGS:
            raise TooManyLogsError(
                f"{following} run logs are being followed at once, the most this "
                "server allows; close some log tabs and try again."
            )
        book = LogBook(name, lambda: run.logs(follow=True), log=self.log)
        self._books[name] = book
        book.start()
        return book

    def _drop_idle_books(self) -> None:
        for name, book in list(self._books.items()):
            if book.idle_for() > IDLE_BOOK_SECONDS:
                book.abandon()
                del self._books[name]
