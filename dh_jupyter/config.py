"""What administrators and users configure: defaults, profiles, backends.

Ordinary Jupyter configuration: ``c.DhJupyter.default_image = "..."`` in
``ipython_config.py`` or ``jupyter_server_config.py``, or ``%config
DhJupyter.namespace = "team-a"`` in a notebook. Specs given here are
checked, but a bad one must not take everything down with it: it is kept
with its problem, which ``%load_ext dh_jupyter`` reports in one sentence and
every use of it raises, while the other profiles keep working.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Int, TraitError, Unicode, validate
from traitlets.config import Config, Configurable

from dh_jupyter.manifest import JobDefaults
from dh_jupyter.spec import RunSpec, SpecError

logger = logging.getLogger(__name__)


class DhJupyter(Configurable):
    """Settings shared by the magics, the picker and the server extension."""

    backend = Enum(
        ["auto", "kubernetes", "local"],
        default_value="auto",
        help="""Where runs happen. "kubernetes" submits Jobs to the cluster,
        "local" runs cells in a process on this machine, and "auto" uses the
        cluster when credentials are found (in a pod, or a kubeconfig) and
        this machine otherwise. Example: "local". Default: "auto".""",
    ).tag(config=True)

    default_image = Unicode(
        "",
        help="""The container image of a run that names none. Empty means: in a
        cluster, the notebook pod's own image (so the same libraries are
        there), else a slim Python image of the kernel's Python version.
        Example: "ghcr.io/acme/notebook:2026.11". Default: "".""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""The namespace runs go to when the spec names none. Empty means
        the kubeconfig context's namespace, or the pod's own namespace in a
        cluster. Example: "team-a". Default: "".""",
    ).tag(config=True)

    kube_context = Unicode(
        "",
        help="""The kubeconfig context to use. Empty means the current context.
        Example: "prod-gpu". Default: "".""",
    ).tag(config=True)

    defaults = Dict(
        help="""A run spec (the DigitalHub SDK's dict shape) laid under every
        run: the first layer, before a profile, --spec and flags. Example:
        {"resources": {"cpu": {"requests": "500m"}, "mem": {"requests":
        "1Gi"}}}. Default: {}.""",
    ).tag(config=True)

    profiles = Dict(
        help="""Named run specs users pick with --profile or in the picker.
        Example: {"gpu-v100": {"resources": {"gpu": {"limits": "1"}},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal",
        "value": "v100", "effect": "NoSchedule"}]}}. Default: {}.""",
    ).tag(config=True)

    ttl = Int(
        24 * 3600,
        help="""Seconds a finished Job is kept before Kubernetes deletes it
        (ttlSecondsAfterFinished), when the spec sets no ttl. Example: 3600.
        Default: 86400 (one day).""",
    ).tag(config=True)

    gpu_resource = Unicode(
        "nvidia.com/gpu",
        help="""The extended resource a GPU request asks for. Example:
        "amd.com/gpu". Default: "nvidia.com/gpu".""",
    ).tag(config=True)

    gpu_product_label = Unicode(
        "nvidia.com/gpu.product",
        help="""The node label that names a node's GPU model; gpu_type selects
        nodes by it. Example: "cloud.google.com/gke-accelerator". Default:
        "nvidia.com/gpu.product".""",
    ).tag(config=True)

    interrupt_cancels = Bool(
        True,
        help="""What the notebook's stop button does to a blocking %%dhrun.
        True cancels the run (on a cluster its Job is deleted) and fails the
        cell. False detaches: the run goes on, the cell says how to follow it
        again (%dhlogs NAME --follow) and still ends as interrupted, so "Run
        all" stops there. A run interrupted while it is being submitted is
        cancelled either way. Example: False. Default: True.""",
    ).tag(config=True)

    monitor = Enum(
        ["auto", "widget", "text"],
        default_value="auto",
        help="""How a blocking %%dhrun shows its run. "widget" shows the run
        monitor widget, "text" prints status lines and logs (for nbconvert,
        papermill and terminals), and "auto" uses the widget in a kernel
        started by a Jupyter server for a notebook and text elsewhere.
        Example: "text". Default: "auto".""",
    ).tag(config=True)

    # A bad spec in defaults or profiles is not refused when it is set: from
    # ipython_config.py that would fail %load_ext and take every magic away.
    # It is reported by problems() and raised by default_spec() or profile().

    def problems(self) -> list[str]:
        """One sentence for each bad spec in ``defaults`` and ``profiles``."""
        found = []
        try:
            self.default_spec()
        except SpecError as error:
            found.append(str(error))
        for name in self.profiles:
            try:
                self.profile(name)
            except SpecError as error:
                found.append(str(error))
        return found

    def default_spec(self) -> RunSpec:
        """The administrator's defaults; ``SpecError`` naming the key if bad."""
        return _spec(self.defaults, "c.DhJupyter.defaults", "")

    def profile(self, name: str) -> RunSpec:
        """The profile called ``name``; ``SpecError`` naming the known ones."""
        if name not in self.profiles:
            from dh_jupyter.spec.keys import closest

            known = ", ".join(sorted(self.profiles)) or "none are configured"
            guess = closest(name, self.profiles)
            hint = (
                f'did you mean "{guess}"?' if guess else f"the profiles are: {known}."
            )
            raise SpecError("profile", f'"{name}" is not a profile; {hint}')
        return _spec(
            self.profiles[name],
            f"c.DhJupyter.profiles[{name!r}]",
            f' (the profile "{name}")',
        )

    def job_defaults(self) -> JobDefaults:
        """What the manifest layer needs from this configuration."""
        return JobDefaults(
            image=self.default_image,
            namespace=self.namespace,
            ttl=self.ttl,
            gpu_resource=self.gpu_resource,
            gpu_product_label=self.gpu_product_label,
        )

    # The local backend. Where its runs are kept, and the local files and
    # folders that stand in for the cluster's claims, config maps and
    # Secrets when a spec names them.

    local_state_dir = Unicode(
        "",
        help="""The folder where the local backend keeps its runs, one
        sub-folder per run with its status, logs and code, so runs can be
        listed and followed again after a kernel restart, and by the Jupyter
        server. Empty means "dh-jupyter/runs" in Jupyter's data folder (see
        `jupyter --data-dir`). Example: "/scratch/me/dh-runs". Default: "".""",
    ).tag(config=True)

    local_volumes = Dict(
        value_trait=Unicode(),
        help="""Local folders standing in for the cluster's volumes when a run
        uses the local backend, keyed like --volume: "pvc:CLAIM" for a
        persistent volume claim, "configmap:NAME" for a config map (a folder
        with one file per key). The folder is made visible at the volume's
        mount path through a symbolic link. Example: {"pvc:datasets":
        "~/data", "configmap:settings": "~/settings"}. Default: {}.""",
    ).tag(config=True)

    local_secrets = Dict(
        value_trait=Unicode(),
        help="""Local files standing in for the cluster's Secrets when a run
        uses the local backend: a Secret's name to a file of KEY=VALUE lines,
        or to a folder with one file per key (the layout of a mounted
        Secret). Its keys become environment variables of runs that list the
        Secret in "secrets"; a folder can also be mounted as a "secret"
        volume. Values are read when a run starts and never stored or shown.
        Example: {"hf-token": "~/.secrets/hf-token.env"}. Default: {}.""",
    ).tag(config=True)

    @validate("local_volumes")
    def _check_local_volumes(self, proposal: dict[str, Any]) -> dict[str, str]:
        value: dict[str, str] = proposal["value"]
        for key in value:
            kind, colon, name = key.partition(":")
            if colon and kind in ("pvc", "configmap") and name:
                continue
            if kind in ("pvc", "configmap"):
                fix = f'name the object after the colon, such as "{kind}:data"'
            elif kind == "secret" and name:
                fix = (
                    f'map Secrets in DhJupyter.local_secrets instead: {{"{name}": '
                    f'"{value[key]}"}}'
                )
            else:
                fix = (
                    f'write "pvc:{key}" for a claim or "configmap:{key}" for a '
                    "config map"
                )
            raise TraitError(
                f'DhJupyter.local_volumes: "{key}" is not a volume key; {fix}.'
            )
        return value


def _spec(value: object, key: str, what: str) -> RunSpec:
    """``value`` as a spec; else ``SpecError``: the key, ``what`` it is, the problem."""
    if not isinstance(value, dict):
        raise SpecError(
            "",
            f"{key}{what} must be a run spec dict, not {value!r}; fix it in "
            "your Jupyter configuration.",
        )
    try:
        return RunSpec.from_dict(value)
    except SpecError as error:
        # The field is left empty: the sentence names the key itself.
        raise SpecError("", f"{key}{what} is not a valid run spec: {error}") from None


def settings() -> DhJupyter:
    """The settings of the running IPython shell, or of this process outside one.

    Inside IPython the instance is kept on the shell, so ``%config`` changes
    it for every later run. Outside one (a plain ``python`` script, a CI
    job) the IPython profile's configuration files are read once, the ones
    ``%load_ext dh_jupyter`` would see, and one instance is shared by every
    later call, so ``settings().local_state_dir = ...`` lasts.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is a dependency, but keep the API usable.
        return _standalone()
    shell = get_ipython()
    if shell is None:
        return _standalone()
    found = [c for c in shell.configurables if isinstance(c, DhJupyter)]
    if found:
        return found[0]
    instance = DhJupyter(parent=shell)
    shell.configurables.append(instance)
    return instance


def as_settings(config: DhJupyter | Config | None) -> DhJupyter:
    """``config`` as settings: an instance as it is, a ``Config`` read alone.

    A ``Config`` stands for a whole configuration file: only what it says
    applies, over the defaults, not over the profile's files. None means
    ``settings()``.
    """
    if config is None:
        return settings()
    if isinstance(config, DhJupyter):
        return config
    if isinstance(config, Config):
        return DhJupyter(config=config)
    raise TypeError(
        f"config must be a DhJupyter instance or a traitlets Config, not "
        f"{type(config).__name__}; build one with Config({{'DhJupyter': {{...}}}})."
    )


_shared: DhJupyter | None = None
_shared_lock = threading.Lock()


def _standalone() -> DhJupyter:
    """The one instance of a process without IPython, made on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = DhJupyter(config=profile_config())
        return _shared


def profile_config(profile: str = "default") -> Config:
    """What the IPython profile's ``ipython_config.py`` and ``.json`` files set.

    The same files, in the same order, as IPython reads them: the system's
    folders, the environment's (``sys.prefix/etc/ipython``), then the
    profile's own folder under ``IPYTHONDIR`` (or ``~/.ipython``), each over
    the one before. A file that fails to load is logged and skipped, as
    IPython does.
    """
    from traitlets.config.loader import (
        ConfigFileNotFound,
        JSONFileConfigLoader,
        PyFileConfigLoader,
    )

    merged = Config()
    for folder in _config_folders(profile):
        for loader in (
            PyFileConfigLoader("ipython_config.py", path=folder),
            JSONFileConfigLoader("ipython_config.json", path=folder),
        ):
            try:
                merged.merge(loader.load_config())
            except ConfigFileNotFound:
                continue
            except Exception as error:  # as IPython: a broken file is skipped
                logger.warning(
                    "Skipped the configuration file %s: it failed to load (%s: %s).",
                    Path(folder) / loader.filename,
                    type(error).__name__,
                    error,
                )
    return merged


def _config_folders(profile: str) -> list[str]:
    """Where IPython looks for configuration files, lowest priority first."""
    from IPython.core.application import ENV_CONFIG_DIRS, SYSTEM_CONFIG_DIRS
    from IPython.paths import get_ipython_dir

    # Reading the profile's folder must not create it: only list it if there.
    profile_folder = Path(get_ipython_dir()) / f"profile_{profile}"
    folders = [*reversed(SYSTEM_CONFIG_DIRS), *reversed(ENV_CONFIG_DIRS)]
    if profile_folder.is_dir():
        folders.append(str(profile_folder))
    return folders
