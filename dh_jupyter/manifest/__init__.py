"""The manifest layer: a run spec and code become Kubernetes objects.

Pure functions returning plain dicts in Kubernetes camelCase; nothing here
talks to a cluster.
"""

from __future__ import annotations

from dh_jupyter.manifest.job import JobDefaults, build_job, build_manifests

__all__ = ["JobDefaults", "build_job", "build_manifests"]
