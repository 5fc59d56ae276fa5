"""Who is running, and from which notebook, for labels on every object.

The user comes from JupyterHub when there is one (``JUPYTERHUB_USER``), else
from the operating system. The notebook path comes from what Jupyter tells
the kernel (``JPY_SESSION_NAME``, set by jupyter_server for every kernel it
starts); a kernel started some other way has no notebook and says so.
"""

from __future__ import annotations

import getpass
import os


def current_user() -> str:
    """The name of the person running this kernel."""
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if hub_user:
        return hub_user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # A container user with no passwd entry has no name to give.
        return "unknown"


def current_notebook() -> str:
    """The path of the notebook this kernel belongs to, or ``""``."""
    return os.environ.get("JPY_SESSION_NAME", "")
