"""A server extension with a hole on purpose, for the auth check's own test.

It answers ``GET /dh-jupyter/leak`` to anyone, logged in or not, as a
careless handler would. ``@allow_unauthenticated`` keeps the server's
start-up warning quiet, so only the live check can catch it; the test that
loads this extension proves that it does.
"""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join

LEAK_PATH = "dh-jupyter/leak"


class LeakHandler(APIHandler):
    """Answers without asking who is calling."""

    @allow_unauthenticated
    def get(self) -> None:
        """Tell anyone that nobody checked."""
        self.finish(json.dumps({"checked": False}))


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    """Register the leak under the server's base URL."""
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$", [(url_path_join(base_url, LEAK_PATH), LeakHandler)]
    )
