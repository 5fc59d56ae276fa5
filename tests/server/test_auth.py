"""No endpoint of the runs API answers anyone who has not logged in.

Two checks, in the spirit of the extension template's ``check_auth.py``:
the server's own start-up check (it warns about any handler method without
``@web.authenticated``), turned into a failure; and a live one that finds
every endpoint dh_jupyter serves (a handler from a ``dh_jupyter`` module,
or any handler under ``<base_url>dh-jupyter``) and calls each verb its
handler implements without a token and with a wrong one. A new handler is
covered without editing this file, and a test-only extension with a hole
proves the live check finds one. A logged-in user whom the server's
Authorizer refuses the ``dh-jupyter`` resource is refused too, with a
sentence of its own.
"""

from __future__ import annotations

import json
import re
import secrets
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado import web
from tornado.routing import PathMatches, Rule

from dh_jupyter.server.handlers import AUTH_RESOURCE, NOT_AUTHORIZED

# Verbs a browser could send; OPTIONS answers CORS preflights without a
# login on every Jupyter API handler, by design.
VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

Handler = type[web.RequestHandler]


class RefuseRunsPanel(Authorizer):
    """An Authorizer that allows a logged-in user everything but the panel."""

    def is_authorized(
        self, handler: web.RequestHandler, user: Any, action: str, resource: str
    ) -> bool:
        return resource != AUTH_RESOURCE


@pytest.fixture
def extensions() -> dict[str, bool]:
    """The server extensions to load; a test parametrizes it to add one."""
    return {"dh_jupyter": True}


@pytest.fixture
def authorizer() -> type[Authorizer] | None:
    """The server's Authorizer class; None keeps jupyter_server's own."""
    return None


@pytest.fixture
def jp_server_config(
    tmp_path: Any, extensions: dict[str, bool], authorizer: type[Authorizer] | None
) -> dict[str, Any]:
    """A server with dh_jupyter on the local backend (no cluster needed)."""
    server: dict[str, Any] = {"jpserver_extensions": extensions}
    if authorizer is not None:
        server["authorizer_class"] = authorizer
    return {
        "ServerApp": server,
        "DhJupyter": {"backend": "local", "local_state_dir": str(tmp_path / "runs")},
    }


def handler_rules(rules: list[Rule]) -> Iterator[tuple[str, Handler]]:
    """Every (path regex, handler class) in a tornado router tree."""
    for rule in rules:
        target = rule.target
        nested = getattr(target, "rules", None)
        if nested is not None:
            yield from handler_rules(nested)
        elif (
            isinstance(target, type)
            and issubclass(target, web.RequestHandler)
            and isinstance(rule.matcher, PathMatches)
        ):
            yield rule.matcher.regex.pattern, target


def registered(web_app: web.Application) -> list[tuple[str, Handler]]:
    """Every endpoint of dh_jupyter: by its handler's module, or by its path."""
    prefix = web_app.settings["base_url"] + "dh-jupyter"
    return [
        (pattern, handler)
        for pattern, handler in handler_rules(web_app.default_router.rules)
        if handler.__module__.startswith("dh_jupyter") or pattern.startswith(prefix)
    ]


def example_path(pattern: str) -> str:
    """A concrete path the regex ``pattern`` matches, with a valid run name."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "dhrun-auth-check-b2c4d", pattern)
    path = path.rstrip("$").replace("/?", "")
    assert re.fullmatch(pattern, path), f"{path} does not match {pattern}"
    return path


def implemented(handler: Handler) -> list[str]:
    """The verbs ``handler`` answers."""
    missing = web.RequestHandler._unimplemented_method
    return [verb for verb in VERBS if getattr(handler, verb.lower()) is not missing]


def endpoints(web_app: web.Application) -> list[tuple[str, str]]:
    """(verb, path) for every verb of every endpoint of dh_jupyter."""
    return [
        (verb, example_path(pattern))
        for pattern, handler in registered(web_app)
        for verb in implemented(handler)
    ]


def answers(
    web_app: web.Application, client: Any, loop: Any, headers: dict[str, str]
) -> dict[str, int]:
    """The status each ``VERB path`` of dh_jupyter answers a caller sending ``headers``.

    0 stands for an answer from the XSRF check, which would otherwise refuse
    DELETE and POST on its own and hide a handler that lets anyone in.
    """
    # A matching XSRF cookie and header get past the XSRF check.
    xsrf = secrets.token_hex(16)
    headers = {**headers, "Cookie": f"_xsrf={xsrf}", "X-XSRFToken": xsrf}
    fetch: Callable[..., Any] = client.fetch
    found: dict[str, int] = {}
    for verb, path in endpoints(web_app):
        response = loop.run_until_complete(
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
        found[f"{verb} {path}"] = response.code if reached else 0
    return found


def let_in(found: dict[str, int]) -> dict[str, int]:
    """The answers that were not a refusal."""
    return {key: code for key, code in found.items() if code != 403}


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

    found = [pattern for pattern, _ in registered(app.web_app)]
    problems = [
        str(record.message)
        for record in records
        if issubclass(record.category, JupyterServerAuthWarning)
    ]
    assert found, "dh_jupyter registered no handler."
    assert problems == []


def test_every_runs_endpoint_is_under_the_server_s_base_url(
    jp_web_app: Any, jp_base_url: str
) -> None:
    found = [pattern for pattern, _ in registered(jp_web_app)]

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
    found = answers(jp_web_app, http_server_client, jp_asyncio_loop, headers)

    assert found, "dh_jupyter registered no handler."
    assert {key.split()[0] for key in found} >= {"GET", "POST", "DELETE"}
    # 0 would mean the XSRF check answered, so authentication was not tested.
    assert let_in(found) == {}


@pytest.mark.parametrize("extensions", [{"dh_jupyter": True, "leaky_extension": True}])
def test_the_live_check_reports_an_endpoint_that_lets_anyone_in(
    jp_web_app: Any,
    http_server_client: Any,
    jp_asyncio_loop: Any,
    jp_base_url: str,
) -> None:
    found = answers(jp_web_app, http_server_client, jp_asyncio_loop, {})

    assert let_in(found) == {f"GET {jp_base_url}dh-jupyter/leak": 200}


@pytest.mark.parametrize("authorizer", [RefuseRunsPanel])
def test_a_user_the_authorizer_refuses_gets_403_and_a_sentence_on_every_verb(
    jp_web_app: Any,
    http_server_client: Any,
    jp_asyncio_loop: Any,
    jp_auth_header: dict[str, str],
) -> None:
    bodies: dict[str, Any] = {}
    for verb, path in endpoints(jp_web_app):
        response = jp_asyncio_loop.run_until_complete(
            http_server_client.fetch(
                path,
                method=verb,
                headers=jp_auth_header,
                body=b"" if verb in ("POST", "PUT", "PATCH") else None,
                raise_error=False,
            )
        )
        bodies[f"{verb} {path}"] = (response.code, json.loads(response.body))

    assert {key.split()[0] for key in bodies} >= {"GET", "POST", "DELETE"}
    refusal = {"message": NOT_AUTHORIZED, "reason": "Forbidden"}
    expected = (403, {**refusal, "error": "NotAuthorizedError"})
    assert bodies == dict.fromkeys(bodies, expected)


@pytest.mark.parametrize("authorizer", [RefuseRunsPanel])
def test_the_refusing_authorizer_still_lets_the_user_use_jupyter(
    jp_fetch: Callable[..., Any], jp_asyncio_loop: Any
) -> None:
    response = jp_asyncio_loop.run_until_complete(jp_fetch("api", "contents"))

    assert response.code == 200
