"""The runs REST API, called over HTTP on a real Jupyter server.

Each endpoint is exercised against both backends: the local one (runs are
processes on this machine) and the Kubernetes one, against the kmock
emulator whose fake kubelet really runs the cells. Runs are submitted with
the runs layer, as a notebook would, and read back through the server.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import NotFoundError
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.spec import RunSpec

# Generous: cells here take well under a second, but the machine is shared.
FINISH_SECONDS = 120.0

SMALL = {"resources": {"cpu": {"requests": "100m"}, "mem": {"requests": "64Mi"}}}


@dataclass
class Place:
    """Where the test's runs happen, and the server settings that reach it."""

    name: str
    backend: Backend
    settings: dict[str, Any]
    kube: Any = None
    started: list[Run] = field(default_factory=list)

    def submit(self, code: str, spec: dict[str, Any] | None = None) -> Run:
        """Start ``code`` as a run, as a notebook's %%dhrun would."""
        run = self.backend.submit(RunSpec.from_dict(spec or SMALL), code)
        self.started.append(run)
        return run


@pytest.fixture(params=["local", "kubernetes"])
def place(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Place]:
    """A backend with nothing on it yet, which the server will use too."""
    monkeypatch.setenv("JPY_SESSION_NAME", "work/train.ipynb")
    if request.param == "local":
        from dh_jupyter.runs.local import LocalBackend

        settings: dict[str, Any] = {
            "backend": "local",
            "local_state_dir": str(tmp_path / "local-runs"),
        }
        found = Place("local", LocalBackend(DhJupyter(**settings)), settings)
    else:
        kubernetes = pytest.importorskip("dh_jupyter.runs.kubernetes")
        kube = request.getfixturevalue("kube")
        request.getfixturevalue("kubelet")
        settings = {"backend": "kubernetes"}
        backend = kubernetes.KubernetesBackend(kube.config)
        found = Place("kubernetes", backend, settings, kube)

    yield found

    # No cell may outlive its test; a run the test deleted is already gone.
    for run in found.started:
        with contextlib.suppress(NotFoundError):
            if not run.status.phase.finished:
                run.cancel()


@pytest.fixture
def jp_server_config(place: Place) -> dict[str, Any]:
    """The server with dh_jupyter enabled on the test's backend."""
    return {
        "ServerApp": {"jpserver_extensions": {"dh_jupyter": True}},
        "DhJupyter": place.settings,
    }


@dataclass
class Answer:
    """An HTTP answer: its status code and its JSON body (None when empty)."""

    code: int
    body: Any
    text: str


class Api:
    """The runs API as plain synchronous calls."""

    def __init__(self, fetch: Callable[..., Any], loop: Any) -> None:
        self._fetch = fetch
        self._loop = loop

    def call(
        self,
        method: str,
        *parts: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """``method`` on ``/dh-jupyter/runs/<parts>``, whatever the status."""
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        response: HTTPResponse = self._loop.run_until_complete(
            self._fetch(
                "dh-jupyter",
                "runs",
                *parts,
                method=method,
                params=params,
                headers=headers,
                body=body,
                raise_error=False,
                request_timeout=60,
            )
        )
        text = response.body.decode() if response.body else ""
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = None
        return Answer(response.code, body, text)

    def get(self, *parts: str, **params: Any) -> Answer:
        return self.call("GET", *parts, params=params)

    def delete(self, *parts: str) -> Answer:
        return self.call("DELETE", *parts)

    def cancel(self, name: str) -> Answer:
        return self.call("POST", name, "cancel", body=b"")

    def all_logs(self, name: str) -> list[str]:
        """Every line of ``name``'s log, following it until it is complete."""
        lines: list[str] = []
        offset = 0
        deadline = time.monotonic() + FINISH_SECONDS
        while time.monotonic() < deadline:
            answer = self.get(name, "logs", offset=offset, wait=10)
            assert answer.code == 200, answer.text
            lines += answer.body["lines"]
            offset = answer.body["offset"]
            if answer.body["done"]:
                return lines
        raise AssertionError(f"The log of {name} was not complete: {lines}")


@pytest.fixture
def api(jp_fetch: Callable[..., Any], jp_asyncio_loop: Any) -> Api:
    """The runs API of a server with dh_jupyter on the test's backend."""
    return Api(jp_fetch, jp_asyncio_loop)


def finished(run: Run) -> None:
    status = run.wait(timeout=FINISH_SECONDS)
    assert status.phase.finished, f"{run.name} did not finish: {status.describe()}"


def started(run: Run) -> None:
    """Wait until ``run`` is running (its cell has begun)."""
    deadline = time.monotonic() + FINISH_SECONDS
    while run.status.phase.value != "running":
        assert time.monotonic() < deadline, f"{run.name} never started"
        time.sleep(0.05)


@pytest.fixture
def cluster(place: Place) -> Any:
    """The kmock cluster behind the server (tests using it ask for Kubernetes)."""
    assert place.kube is not None, "Parametrize the test with on_kubernetes."
    return place.kube


on_kubernetes = pytest.mark.parametrize("place", ["kubernetes"], indirect=True)


def test_the_list_shows_each_run_with_status_notebook_resources_and_age(
    place: Place, api: Api
) -> None:
    done = place.submit("print('hello')")
    finished(done)
    going = place.submit("import time; time.sleep(600)")
    started(going)

    answer = api.get()

    assert answer.code == 200, answer.text
    assert answer.body["backend"] == place.name
    by_name = {run["name"]: run for run in answer.body["runs"]}
    assert set(by_name) == {done.name, going.name}
    # Newest first; a cluster keeps creation times to the second only.
    created = [run["created"] for run in answer.body["runs"]]
    assert created == sorted(created, reverse=True)
    first = by_name[done.name]
    assert first["status"]["phase"] == "succeeded"
    assert first["status"]["done"] is True
    assert first["status"]["description"].startswith("succeeded")
    assert by_name[going.name]["status"]["phase"] == "running"
    assert by_name[going.name]["status"]["done"] is False
    assert first["notebook"] == "work/train.ipynb"
    assert first["resources"]["cpu"] == {"requests": "100m"}
    assert first["resources"]["mem"] == {"requests": "64Mi"}
    assert first["backend"] == place.name
    assert first["age"] >= 0
    assert first["created"]


def test_the_list_is_empty_before_any_run(place: Place, api: Api) -> None:
    answer = api.get()

    assert answer.code == 200, answer.text
    assert answer.body["runs"] == []
    assert answer.body["backend"] == place.name


def test_a_run_s_details_match_its_line_in_the_list(place: Place, api: Api) -> None:
    run = place.submit("print('hello')")
    finished(run)

    detail = api.get(run.name)
    listed = api.get().body["runs"][0]

    assert detail.code == 200, detail.text
    assert detail.body["name"] == run.name
    for key in ("namespace", "backend", "user", "notebook", "created", "resources"):
        assert detail.body[key] == listed[key]
    assert detail.body["status"]["phase"] == "succeeded"


def test_the_logs_of_a_finished_run_are_its_output_then_done(
    place: Place, api: Api
) -> None:
    run = place.submit("for i in range(3): print('line', i)")
    finished(run)

    lines = api.all_logs(run.name)

    output = [line for line in lines if not line.startswith("[dh-jupyter]")]
    assert output == ["line 0", "line 1", "line 2"]


def test_the_logs_follow_a_running_cell_as_it_writes(
    place: Place, api: Api, tmp_path: Path
) -> None:
    # The cell prints, then waits for the test's go-ahead file before it
    # prints again, so the second line surely comes while a poll waits.
    go = tmp_path / "go"
    code = (
        "import pathlib, time\n"
        "print('before', flush=True)\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.05)\n"
        "print('after', flush=True)\n"
    )
    run = place.submit(code)

    seen: list[str] = []
    offset = 0
    while "before" not in seen:
        answer = api.get(run.name, "logs", offset=offset, wait=10)
        assert answer.code == 200, answer.text
        assert not answer.body["done"], f"The log ended early: {seen}"
        seen += answer.body["lines"]
        offset = answer.body["offset"]
    threading.Timer(0.5, go.touch).start()
    rest: list[str] = []
    while not rest or not answer.body["done"]:
        answer = api.get(run.name, "logs", offset=offset, wait=30)
        assert answer.code == 200, answer.text
        rest += answer.body["lines"]
        offset = answer.body["offset"]

    assert "after" in rest
    assert "after" not in seen


def test_tail_gives_only_the_last_lines_and_where_they_start(
    place: Place, api: Api
) -> None:
    run = place.submit("for i in range(20): print('line', i)")
    finished(run)
    everything = api.all_logs(run.name)

    answer = api.get(run.name, "logs", tail=3)

    assert answer.code == 200, answer.text
    assert answer.body["lines"] == everything[-3:]
    assert answer.body["start"] == len(everything) - 3
    assert answer.body["skipped"] == len(everything) - 3
    assert answer.body["offset"] == len(everything)


def test_delete_stops_a_running_run_and_removes_it(place: Place, api: Api) -> None:
    keep = place.submit("print('stay')")
    finished(keep)
    going = place.submit("import time; time.sleep(600)")
    started(going)

    answer = api.delete(going.name)

    assert answer.code == 204, answer.text
    assert answer.text == ""
    assert [run["name"] for run in api.get().body["runs"]] == [keep.name]
    gone = api.get(going.name)
    assert gone.code == 404
    assert gone.body["error"] == "NotFoundError"


def test_delete_removes_a_finished_run(place: Place, api: Api) -> None:
    run = place.submit("print('done')")
    finished(run)

    answer = api.delete(run.name)

    assert answer.code == 204, answer.text
    assert api.get().body["runs"] == []


def test_cancel_stops_a_running_run_and_answers_it_cancelled(
    place: Place, api: Api
) -> None:
    going = place.submit("import time; time.sleep(600)")
    started(going)

    answer = api.cancel(going.name)

    assert answer.code == 202, answer.text
    assert answer.body["name"] == going.name
    assert answer.body["status"]["phase"] == "cancelled"
    assert answer.body["status"]["done"] is True
    assert going.status.phase.value == "cancelled"


@pytest.mark.parametrize("place", ["local"], indirect=True)
def test_a_cancelled_local_run_stays_listed_with_its_logs(
    place: Place, api: Api
) -> None:
    going = place.submit("print('before', flush=True); import time; time.sleep(600)")
    started(going)
    while "before" not in api.get(going.name, "logs", wait=10).body["lines"]:
        pass

    api.cancel(going.name)

    listed = {run["name"]: run for run in api.get().body["runs"]}
    assert listed[going.name]["status"]["phase"] == "cancelled"
    assert "before" in api.all_logs(going.name)


def test_cancel_only_stops_delete_removes(place: Place, api: Api) -> None:
    # The cluster's way to stop a Job is to delete it, so there Cancel also
    # removes; a local run stays until Delete.
    going = place.submit("import time; time.sleep(600)")
    started(going)

    api.cancel(going.name)
    after_cancel = api.get(going.name).code
    deleted = api.delete(going.name)

    assert after_cancel == (200 if place.name == "local" else 404)
    assert deleted.code == (204 if place.name == "local" else 404), deleted.text
    assert api.get(going.name).code == 404


def test_cancelling_a_finished_run_is_409_saying_to_delete_it(
    place: Place, api: Api
) -> None:
    run = place.submit("print('done')")
    finished(run)

    answer = api.cancel(run.name)

    assert answer.code == 409, answer.text
    assert answer.body["error"] == "RunFinishedError"
    assert answer.body["message"] == (
        f"{run.name} has already finished (succeeded), so there is nothing to "
        "cancel; delete it instead to remove it and its logs."
    )
    assert api.get(run.name).body["status"]["phase"] == "succeeded"


def test_a_deleted_run_s_logs_are_404_not_served_from_memory(
    place: Place, api: Api
) -> None:
    run = place.submit("print('secret-free line')")
    finished(run)
    assert "secret-free line" in api.all_logs(run.name)

    api.delete(run.name)
    answer = api.get(run.name, "logs")

    assert answer.code == 404, answer.text
    assert answer.body["error"] == "NotFoundError"


@pytest.mark.parametrize("place", ["local"], indirect=True)
def test_a_new_log_tab_gets_only_the_tail_of_a_long_log(place: Place, api: Api) -> None:
    # The tab's first request is the server's first for this log: the lines
    # are still being read when it comes, with no wait.
    run = place.submit("for i in range(12000): print('line', i)")
    finished(run)

    answer = api.get(run.name, "logs", offset=0, wait=0, tail=100)

    assert answer.code == 200, answer.text
    output = [line for line in answer.body["lines"] if line.startswith("line ")]
    assert output[-1] == "line 11999"
    assert len(answer.body["lines"]) == 100
    assert answer.body["skipped"] == answer.body["start"] > 11000
    assert answer.body["offset"] == answer.body["start"] + 100


@on_kubernetes
def test_a_cluster_refusing_pod_logs_ends_the_log_with_its_sentence(
    place: Place, cluster: Any, api: Api
) -> None:
    # The run itself is readable; only its pods' logs are refused. The logs
    # endpoint answers 200 and ends the log with the sentence, as for any
    # log that stops early: the lines before it, if any, stay valid.
    run = place.submit("print('hidden')")
    finished(run)
    cluster.fail("log", "pods", 403, times=10)

    answer = api.get(run.name, "logs", wait=10)

    assert answer.code == 200, answer.text
    assert answer.body["done"] is True
    assert answer.body["lines"] == []
    assert answer.body["error"].startswith("You may not get pods/log")
    assert "(HTTP 403); ask an administrator for a Role" in answer.body["error"]
    assert cluster.token not in answer.text


@on_kubernetes
def test_a_log_refused_once_is_read_again_from_the_start_once_allowed(
    place: Place, cluster: Any, api: Api
) -> None:
    run = place.submit("print('shown at last')")
    finished(run)
    cluster.fail("log", "pods", 403, times=10)
    refused = api.get(run.name, "logs", wait=10)
    assert refused.body["error"]

    # The administrator grants the Role; a new log tab reads from 0 again.
    cluster.clear_faults()
    answer = api.get(run.name, "logs", offset=0, wait=10)

    assert answer.code == 200, answer.text
    assert answer.body["error"] == ""
    assert "shown at last" in answer.body["lines"]


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ("dhrun-nothing-zzzzz",)),
        ("GET", ("dhrun-nothing-zzzzz", "logs")),
        ("POST", ("dhrun-nothing-zzzzz", "cancel")),
        ("DELETE", ("dhrun-nothing-zzzzz",)),
    ],
)
def test_a_run_that_does_not_exist_is_404_with_a_sentence(
    place: Place, api: Api, method: str, parts: tuple[str, ...]
) -> None:
    answer = api.call(method, *parts)

    assert answer.code == 404, answer.text
    assert answer.body["error"] == "NotFoundError"
    assert "dhrun-nothing-zzzzz" in answer.body["message"]
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Not_A_Name", 'run name: "Not_A_Name" is not a valid Kubernetes object'),
        ("-dash", 'run name: "-dash" is not a valid Kubernetes object'),
    ],
)
def test_a_name_that_cannot_name_a_run_is_400_with_the_fix(
    place: Place, api: Api, name: str, problem: str
) -> None:
    answer = api.get(name)

    assert answer.code == 400, answer.text
    assert answer.body["message"].startswith(problem)
    assert "such as" in answer.body["message"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"offset": "-1"}, 'offset: "-1" is not a whole number from 0 to'),
        ({"offset": "1.5"}, 'offset: "1.5" is not a whole number from 0 to'),
        ({"wait": "99"}, 'wait: "99" is not a number from 0 to 30; use one such'),
        ({"tail": "many"}, 'tail: "many" is not a whole number from 0 to'),
        ({"limit": "0"}, 'limit: "0" is not a whole number from 1 to 5000;'),
    ],
)
def test_a_bad_log_query_is_400_naming_the_value_and_the_fix(
    place: Place, api: Api, params: dict[str, str], message: str
) -> None:
    run = place.submit("print('x')")
    finished(run)

    answer = api.get(run.name, "logs", **params)

    assert answer.code == 400, answer.text
    assert answer.body["message"].startswith(message)


def test_blocking_calls_run_on_the_extension_s_threads(
    place: Place, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    backend_class = type(place.backend)
    real_runs = backend_class.runs

    def runs(self: Backend) -> list[Run]:
        threads.append(threading.current_thread().name)
        return real_runs(self)

    monkeypatch.setattr(backend_class, "runs", runs)

    assert api.get().code == 200

    assert threads, "The server never asked the backend for runs."
    assert all(name.startswith("dh-jupyter") for name in threads), threads


def test_no_token_or_secret_value_is_in_any_answer(place: Place, api: Api) -> None:
    secret = "s3cr3t-value-that-must-stay-home"
    spec = {**SMALL, "env": [{"name": "API_KEY", "value": secret}]}
    run = place.submit("import os; print(len(os.environ['API_KEY']))", spec)
    finished(run)

    answers = [
        api.get(),
        api.get(run.name),
        api.get(run.name, "logs", wait=5),
        api.get("dhrun-nothing-zzzzz"),
        api.get("Bad_Name"),
    ]

    forbidden = [secret]
    if place.kube is not None:
        forbidden.append(place.kube.token)
    for answer in answers:
        for value in forbidden:
            assert value not in answer.text


@on_kubernetes
@pytest.mark.parametrize(
    ("verb", "kind", "status", "method", "on_run", "code", "error", "words"),
    [
        ("list", "jobs", 403, "GET", False, 403, "PermissionDeniedError", "list"),
        ("get", "jobs", 403, "GET", True, 403, "PermissionDeniedError", "get"),
        ("delete", "jobs", 403, "DELETE", True, 403, "PermissionDeniedError", "delete"),
        ("get", "jobs", 404, "GET", True, 404, "NotFoundError", "no run called"),
        ("list", "jobs", 401, "GET", False, 502, "CredentialsError", "log in again"),
        ("list", "jobs", 503, "GET", False, 503, "ClusterUnavailableError", "503"),
    ],
)
def test_a_cluster_refusal_comes_back_as_its_status_and_sentence(
    place: Place,
    cluster: Any,
    api: Api,
    verb: str,
    kind: str,
    status: int,
    method: str,
    on_run: bool,
    code: int,
    error: str,
    words: str,
) -> None:
    run = place.submit("print('x')")
    finished(run)
    # Retried statuses (503) fail every attempt, the others the first.
    cluster.fail(verb, kind, status, times=10 if status == 503 else 1)

    answer = api.call(method, *((run.name,) if on_run else ()))

    assert answer.code == code, answer.text
    assert answer.body["error"] == error
    assert words in answer.body["message"]
    assert answer.body["message"].endswith(".")
    assert cluster.token not in answer.text


@on_kubernetes
def test_a_cancel_the_cluster_refuses_is_403_and_the_run_goes_on(
    place: Place, cluster: Any, api: Api
) -> None:
    going = place.submit("import time; time.sleep(600)")
    started(going)
    cluster.fail("delete", "jobs", 403)

    answer = api.cancel(going.name)

    assert answer.code == 403, answer.text
    assert answer.body["error"] == "PermissionDeniedError"
    assert answer.body["message"].startswith("You may not delete")
    assert api.get(going.name).body["status"]["phase"] == "running"


@on_kubernetes
def test_an_unreachable_cluster_is_503_saying_what_to_check(
    cluster: Any, api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The server connects at its first request, so the kubeconfig can still
    # be swapped for one whose API server is not listening.
    monkeypatch.setenv("KUBECONFIG", str(cluster.refused_kubeconfig(tmp_path / "k")))

    answer = api.get()

    assert answer.code == 503, answer.text
    assert answer.body["error"] == "ClusterUnavailableError"
    assert "Cannot reach the Kubernetes API" in answer.body["message"]
    assert "KUBECONFIG" in answer.body["message"]


@pytest.mark.parametrize("place", ["local"], indirect=True)
def test_following_more_logs_than_allowed_is_429_saying_what_to_do(
    place: Place, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dh_jupyter.server import service

    monkeypatch.setattr(service, "MAX_FOLLOWED_LOGS", 1)
    first = place.submit("import time; time.sleep(600)")
    second = place.submit("import time; time.sleep(600)")
    started(first)
    started(second)

    followed = api.get(first.name, "logs")
    refused = api.get(second.name, "logs")

    assert followed.code == 200, followed.text
    assert refused.code == 429, refused.text
    assert refused.body["error"] == "TooManyLogsError"
    assert refused.body["message"].endswith("close some log tabs and try again.")
