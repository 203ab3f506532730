"""Shared fixtures: the repository root and the chapters named in _toc.yml; Hypothesis seeded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Every random source is seeded: Hypothesis draws the same examples on every run and machine,
# so a failure it finds is found again (and a passing run is not luck of the draw).
settings.register_profile("cae-lessons", derandomize=True)
settings.load_profile("cae-lessons")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
