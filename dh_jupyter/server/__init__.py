"""The Jupyter server extension behind the JupyterLab "Kubernetes runs" panel.

It adds a small REST API under the server's base URL (``/dh-jupyter/runs``,
see ``handlers``) that lists the user's runs, shows one, follows its logs
and cancels it. It talks to the runs layer only (``Backend`` and ``Run``),
so it neither knows nor imports the Kubernetes client; the backend is
chosen and loaded at the first request, off the event loop, which keeps the
server's start-up as fast as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dh_jupyter.server.handlers import default_handlers
from dh_jupyter.server.service import SETTINGS_KEY, RunsService

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

__all__ = ["RunsService", "default_handlers"]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    """Register the runs API on ``serverapp``'s web application."""
    from jupyter_server.utils import url_path_join

    from dh_jupyter.config import DhJupyter

    web_app = serverapp.web_app
    service = RunsService(DhJupyter(parent=serverapp), log=serverapp.log)
    web_app.settings[SETTINGS_KEY] = service

    base_url = web_app.settings["base_url"]
    handlers = [
        (url_path_join(base_url, pattern), handler)
        for pattern, handler in default_handlers
    ]
    # jupyter_server's add_handlers has no annotations.
    web_app.add_handlers(".*$", handlers)  # type: ignore[no-untyped-call]
    serverapp.log.info(
        "dh_jupyter serves the runs API at %s; the backend is chosen at the "
        "first request.",
        url_path_join(base_url, "dh-jupyter/runs"),
    )
