"""Checker tests share the synthetic tree builders of ``tests/rules``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

HARD = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real_submissions_hard"


@pytest.fixture(scope="session")
def hard() -> Path:
    """The real published trees that are hard to read (v0.7 Andes/Alibaba, v1.2 bosch)."""
    if not HARD.is_dir():
        pytest.skip("real_submissions_hard fixtures not present")
    return HARD
