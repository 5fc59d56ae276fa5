"""pytest-jupyter's server fixtures, for the tests of the runs API only.

They are imported here rather than registered as a plugin for the whole
suite: the plugin also takes over every coroutine test and adds autouse
fixtures that would start a Jupyter server for every test. A conftest's
imported fixtures serve the tests of its folder; they look unused to ruff.
"""

# ruff: noqa: F401

from __future__ import annotations

from pytest_jupyter.jupyter_core import (
    echo_kernel_spec,
    jp_asyncio_loop,
    jp_config_dir,
    jp_data_dir,
    jp_env_config_path,
    jp_env_jupyter_path,
    jp_environ,
    jp_home_dir,
    jp_kernel_dir,
    jp_runtime_dir,
    jp_system_config_path,
    jp_system_jupyter_path,
)
from pytest_jupyter.jupyter_server import (
    jp_argv,
    jp_auth_header,
    jp_base_url,
    jp_configurable_serverapp,
    jp_fetch,
    jp_http_port,
    jp_logging_stream,
    jp_nbconvert_templates,
    jp_root_dir,
    jp_server_cleanup,
    jp_serverapp,
    jp_web_app,
)
from pytest_jupyter.pytest_tornasync import (
    http_server,
    http_server_client,
    http_server_port,
)
