"""No endpoint of the runs API answers anyone who has not logged in.

Two checks, in the spirit of the extension template's ``check_auth.py``:
the server's own start-up check (it warns about any handler method without
``@web.authenticated``), turned into a failure; and a live one that finds
every handler dh_jupyter registered and calls each of its verbs without a
token and with a wrong one. A new handler is covered without editing this
file.
"""

from __future__ import annotations

import re
import secrets
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tornado import web
from tornado.routing import PathMatches, Rule

from dh_jupyter.server.handlers import RunsHandler

# Verbs a browser could send; OPTIONS answers CORS preflights without a
# login on every Jupyter API handler, by design.
VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def jp_server_config(tmp_path: Any) -> dict[str, Any]:
    """A server with dh_jupyter on the local backend (no cluster needed)."""
    return {
        "ServerApp": {"jpserver_extensions": {"dh_jupyter": True}},
        "DhJupyter": {"backend": "local", "local_state_dir": str(tmp_path / "runs")},
    }


def registered(rules: list[Rule]) -> Iterator[tuple[str, type[RunsHandler]]]:
    """Every (path regex, handler) of dh_jupyter in a tornado router tree."""
    for rule in rules:
        target = rule.target
        nested = getattr(target, "rules", None)
        if nested is not None:
            yield from registered(nested)
        elif isinstance(target, type) and issubclass(target, RunsHandler):
            assert isinstance(rule.matcher, PathMatches)
            yield rule.matcher.regex.pattern, target


def example_path(pattern: str) -> str:
    """A concrete path the regex ``pattern`` matches, with a valid run name."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "dhrun-auth-check-b2c4d", pattern)
    path = path.rstrip("$").replace("/?", "")
    assert re.fullmatch(pattern, path), f"{path} does not match {pattern}"
    return path


def implemented(handler: type[web.RequestHandler]) -> list[str]:
    """The verbs ``handler`` answers."""
    missing = web.RequestHandler._unimplemented_method
    return [verb for verb in VERBS if getattr(handler, verb.lower()) is not missing]


def test_the_server_finds_no_runs_endpoint_without_authentication(
    jp_environ: Any, tmp_path: Any
) -> None:
    from jupyter_server.serverapp import ServerApp
    from jupyter_server.utils import JupyterServerAuthWarning

    app = ServerApp(
        allow_unauthenticated_access=False,
        jpserver_extensions={"dh_jupyter": True},
        # A broken extension must fail here, not pass as "nothing to warn about".
        reraise_server_extension_failures=True,
        root_dir=str(tmp_path),
    )
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        app.initialize(argv=[], find_extensions=False, new_httpserver=False)

    found = [pattern for pattern, _ in registered(app.web_app.default_router.rules)]
    problems = [
        str(record.message)
        for record in records
        if issubclass(record.category, JupyterServerAuthWarning)
    ]
    assert len(found) == 3, found
    assert problems == []


def test_every_runs_endpoint_is_under_the_server_s_base_url(
    jp_web_app: Any, jp_base_url: str
) -> None:
    found = [pattern for pattern, _ in registered(jp_web_app.default_router.rules)]

    assert found, "dh_jupyter registered no handler."
    for pattern in found:
        assert pattern.startswith(jp_base_url + "dh-jupyter/runs"), pattern


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "token not-the-right-one"}],
    ids=["no token", "wrong token"],
)
def test_every_verb_of_every_runs_endpoint_refuses_an_unknown_caller(
    jp_web_app: Any,
    http_server_client: Any,
    jp_asyncio_loop: Any,
    headers: dict[str, str],
) -> None:
    # A matching XSRF cookie and header get past the XSRF check, which would
    # otherwise refuse DELETE and POST on its own and hide a handler that
    # lacks @web.authenticated.
    xsrf = secrets.token_hex(16)
    headers = {**headers, "Cookie": f"_xsrf={xsrf}", "X-XSRFToken": xsrf}
    fetch: Callable[..., Any] = http_server_client.fetch
    answers: dict[str, int] = {}
    for pattern, handler in registered(jp_web_app.default_router.rules):
        path = example_path(pattern)
        for verb in implemented(handler):
            response = jp_asyncio_loop.run_until_complete(
                fetch(
                    path,
                    method=verb,
                    headers=headers,
                    body=b"{}" if verb in ("POST", "PUT", "PATCH") else None,
                    raise_error=False,
                    follow_redirects=False,
                )
            )
            reached = b"xsrf" not in (response.body or b"").lower()
            answers[f"{verb} {path}"] = response.code if reached else 0

    assert len(answers) >= 4, answers
    # 0 would mean the XSRF check answered, so authentication was not tested.
    allowed = {key: code for key, code in answers.items() if code != 403}
    assert allowed == {}
