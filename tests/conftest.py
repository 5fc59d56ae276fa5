"""Shared test set-up: fixture modules under tests/fixtures/ are plugins here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Each helper module under fixtures/ registers its fixtures here.
pytest_plugins: list[str] = [
    "fixtures.lab",
    "fixtures.kube",
    "fixtures.shell",
    "fixtures.local",
]
