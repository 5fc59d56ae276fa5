"""Reaching the cluster: kubeconfig, context, service account, and secrecy.

The kubeconfig the ``kube`` fixture writes holds a dummy bearer token; these
tests also prove that the token never shows in anything a user can see:
messages, logs, reprs, printed output.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.kube import Kube, Kubelet

from dh_jupyter.cluster import connect as connect_module
from dh_jupyter.cluster import detect, errors
from dh_jupyter.cluster.connect import connect, forget_connections
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import CredentialsError, DhJupyterError
from dh_jupyter.runs.kubernetes import KubernetesBackend
from dh_jupyter.spec import RunSpec


@pytest.fixture(autouse=True)
def fresh_connections() -> None:
    forget_connections()


def test_the_kubeconfig_in_kubeconfig_gives_server_context_and_namespace(
    kube: Kube,
) -> None:
    connection = connect(kube.config)

    assert (connection.server, connection.namespace, connection.context) == (
        kube.url,
        "dh-test",
        "kmock",
    )
    assert connection.source == 'kubeconfig context "kmock"'


def test_a_named_context_that_does_not_exist_lists_the_ones_that_do(kube: Kube) -> None:
    config = DhJupyter(kube_context="prod")

    with pytest.raises(CredentialsError) as raised:
        connect(config)

    assert str(raised.value) == (
        f'The kubeconfig {kube.kubeconfig} has no context "prod" (named by '
        "c.DhJupyter.kube_context); the contexts are: kmock. Pick one with "
        "c.DhJupyter.kube_context or `kubectl config use-context`."
    )


def test_without_any_credentials_the_user_is_told_where_they_were_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", str(missing))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    with pytest.raises(CredentialsError) as raised:
        connect(DhJupyter())

    assert str(raised.value) == (
        "No Kubernetes credentials were found: this is not a pod with a service "
        f"account and there is no kubeconfig at KUBECONFIG ({missing}); set "
        "KUBECONFIG to your kubeconfig, or run cells on this machine with "
        'c.DhJupyter.backend = "local".'
    )


def test_a_kubeconfig_that_is_not_yaml_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "config"
    broken.write_text("clusters: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    with pytest.raises(CredentialsError) as raised:
        connect(DhJupyter())

    assert str(raised.value) == (
        f"The kubeconfig {broken} cannot be read (it is not valid YAML at line 2); "
        "check the file with `kubectl config view`."
    )


def test_in_a_pod_the_service_account_and_its_namespace_are_used(
    kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes.config import incluster_config

    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("in-cluster-token")
    (account / "namespace").write_text("team-pod\n")
    (account / "ca.crt").write_text("not checked until a request is made")
    monkeypatch.setattr(detect, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setattr(connect_module, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setattr(
        incluster_config, "SERVICE_TOKEN_FILENAME", str(account / "token")
    )
    monkeypatch.setattr(
        incluster_config, "SERVICE_CERT_FILENAME", str(account / "ca.crt")
    )
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")

    connection = connect(DhJupyter())

    assert (connection.source, connection.namespace, connection.server) == (
        "the pod's service account",
        "team-pod",
        "https://127.0.0.1:6443",
    )


def test_a_named_context_wins_over_the_service_account(
    kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("in-cluster-token")
    monkeypatch.setattr(detect, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")

    connection = connect(DhJupyter(kube_context="kmock"))

    assert connection.source == 'kubeconfig context "kmock"'


def test_the_token_never_shows_in_messages_logs_or_output(
    kube: Kube,
    kubelet: Kubelet,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    caplog.set_level(logging.DEBUG)
    backend = KubernetesBackend(kube.config)
    seen: list[str] = []

    run = backend.submit(RunSpec(), "import os\nprint(sorted(os.environ)[:1])\n")
    run.wait(timeout=60, on_status=lambda status: seen.append(status.describe()))
    seen.extend(run.logs())
    seen.extend([repr(run), repr(run.info), repr(backend.cluster.connection)])
    for status in (401, 403, 500):
        kube.fail("create", "configmaps", status, times=4)
        with pytest.raises(DhJupyterError) as raised:
            backend.submit(RunSpec(), "print(1)")
        seen.append(str(raised.value))
    print("\n".join(seen))

    shown = "\n".join(seen) + caplog.text + capsys.readouterr().out
    assert kube.token not in shown
    assert "Bearer" not in shown
    assert kube.token in kube.kubeconfig.read_text()


def test_importing_the_kubernetes_backend_does_not_import_the_client() -> None:
    code = (
        "import sys, dh_jupyter, dh_jupyter.runs.kubernetes, "
        "dh_jupyter.cluster.inventory\n"
        "print(json.dumps(sorted(m for m in ('kubernetes', 'urllib3', 'jsonschema') "
        "if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )

    assert json.loads(result.stdout) == []
