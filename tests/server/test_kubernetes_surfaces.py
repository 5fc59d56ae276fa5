"""No ``kubernetes`` or ``urllib3`` exception reaches the user through a surface.

The ``%%dhrun`` magics (in a real IPython shell) and the runs REST API (on a
real Jupyter server) meet a cluster that refuses connections, answers 500
to everything, or answers every request with a proxy's HTML page. Whatever
they show must be the project's own one-sentence error: no client
exception, no traceback, nothing of the body the cluster sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fixtures.kube import Kube
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dh_jupyter.cluster import errors, watch
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import DhJupyterError
from dh_jupyter.runs.kubernetes import KubernetesBackend
from dh_jupyter.spec import RunSpec

VERBS = ("create", "list", "get", "patch", "delete", "watch", "log")
KINDS = ("jobs", "configmaps", "pods", "events")
PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1>secret internals</body></html>"
FOREIGN = ("kubernetes", "urllib3", "json", "http", "socket", "ssl")
FAULTS = ["connection refused", "500", "garbage body"]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their number but not their waiting, to keep tests quick."""
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    monkeypatch.setattr(watch, "RECONNECT_BACKOFF", (0.0, 0.05, 0.1))


def break_cluster(
    kube: Kube,
    fault: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    verbs: tuple[str, ...] = VERBS,
) -> None:
    """Make every request of ``verbs`` meet ``fault``, from now on."""
    if fault == "connection refused":
        refused = kube.refused_kubeconfig(tmp_path / "refused")
        monkeypatch.setenv("KUBECONFIG", str(refused))
        return
    for verb in verbs:
        for kind in KINDS:
            if fault == "500":
                kube.fail(verb, kind, 500, times=100_000)
            else:
                kube.answer(verb, kind, PROXY_PAGE, times=100_000)


def foreign_parts(error: BaseException) -> list[str]:
    """The exceptions a traceback of ``error`` would show that are not ours."""
    found, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        module = type(current).__module__
        if module.split(".")[0] in FOREIGN:
            found.append(f"{module}.{type(current).__name__}")
        # The chain as Python prints it: a suppressed context is not shown.
        shown = current.__cause__
        if shown is None and not current.__suppress_context__:
            shown = current.__context__
        current = shown
    return found


def run_magic(shell: InteractiveShell, kind: str, magic: str, line: str) -> None:
    if kind == "cell":
        shell.run_cell_magic(magic, line, "print('never')\n")
    else:
        shell.run_line_magic(magic, line)


def raised_by(call: Callable[[], object]) -> BaseException:
    """What ``call()`` raised; it must raise."""
    try:
        call()
    except Exception as error:  # every kind is what the test looks at
        return error
    raise AssertionError("it raised nothing")


def shown_cleanly(text: str) -> None:
    """What the user reads has no traceback and nothing from the answer's body."""
    assert "Traceback" not in text
    assert "secret internals" not in text
    for name in ("urllib3", "kubernetes.client", "ApiException", "JSONDecodeError"):
        assert name not in text


# ---------------------------------------------------------------- the magics


@pytest.fixture
def on_cluster(dh_settings: DhJupyter, kube: Kube) -> DhJupyter:
    """The shell's settings pointed at the emulator."""
    dh_settings.backend = "kubernetes"
    return dh_settings


MAGICS: list[tuple[str, str, str]] = [
    ("cell", "dhrun", "--name broken"),
    ("line", "dhjobs", ""),
    ("line", "dhlogs", "dhrun-broken-abcde"),
    ("line", "dhcancel", "dhrun-broken-abcde"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_no_client_exception_comes_out_of_a_magic_on_a_faulty_cluster(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    break_cluster(kube, fault, tmp_path, monkeypatch)

    for kind, magic, line in MAGICS:
        error = raised_by(partial(run_magic, shell, kind, magic, line))
        assert isinstance(error, DhJupyterError | UsageError), (magic, error)
        assert foreign_parts(error) == [], magic
        assert str(error).endswith("."), (magic, str(error))
        shown_cleanly(str(error))

    shown_cleanly(capsys.readouterr().out + caplog.text)
    assert [record for record in caplog.records if record.exc_info] == []
    assert kube.items("jobs") == []


@pytest.mark.parametrize("fault", ["500", "garbage body"])
def test_a_run_followed_by_dhrun_while_the_watches_fail_ends_with_our_error(
    shell: InteractiveShell,
    on_cluster: DhJupyter,
    kube: Kube,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    # Creating works; everything that follows the run meets the fault.
    break_cluster(kube, fault, tmp_path, monkeypatch, verbs=("list", "watch", "log"))

    with pytest.raises(DhJupyterError) as raised:
        shell.run_cell_magic("dhrun", "--name followed", "print('hi')\n")

    assert foreign_parts(raised.value) == []
    shown_cleanly(str(raised.value) + capsys.readouterr().out)
    [job] = kube.items("jobs")
    assert kube.created("jobs", job["metadata"]["name"]) == 1


# ---------------------------------------------------------------- the server


@pytest.fixture
def jp_server_config(kube: Kube) -> dict[str, Any]:
    """A Jupyter server with dh_jupyter on the emulator's cluster."""
    return {
        "ServerApp": {"jpserver_extensions": {"dh_jupyter": True}},
        "DhJupyter": {"backend": "kubernetes"},
    }


@pytest.fixture
def call_api(
    jp_fetch: Callable[..., Any],
    jp_asyncio_loop: Any,
) -> Callable[..., tuple[int, str]]:
    """``call_api(method, *parts)``: the status and text of a runs API answer."""

    def call(method: str, *parts: str) -> tuple[int, str]:
        response = jp_asyncio_loop.run_until_complete(
            jp_fetch(
                "dh-jupyter",
                "runs",
                *parts,
                method=method,
                raise_error=False,
                request_timeout=60,
            )
        )
        return response.code, response.body.decode() if response.body else ""

    return call


# (method, path): the list, one run, its logs, and deleting it.
ENDPOINTS: list[tuple[str, tuple[str, ...]]] = [
    ("GET", ()),
    ("GET", ("NAME",)),
    ("GET", ("NAME", "logs")),
    ("DELETE", ("NAME",)),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_no_client_exception_comes_out_of_the_runs_api_on_a_faulty_cluster(
    kube: Kube,
    call_api: Callable[..., tuple[int, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    run = KubernetesBackend(kube.config).submit(RunSpec(), "print(1)")
    break_cluster(kube, fault, tmp_path, monkeypatch)

    for method, parts in ENDPOINTS:
        path = [run.name if part == "NAME" else part for part in parts]
        code, text = call_api(method, *path)

        where = f"{method} {'/'.join(path)}"
        assert code in (502, 503), (where, code, text)
        body = json.loads(text)
        assert body["error"] in ("ClusterUnavailableError", "ClusterError"), where
        assert body["message"].endswith("."), where
        shown_cleanly(text)

    shown_cleanly(caplog.text)
    assert [record for record in caplog.records if record.exc_info] == []
