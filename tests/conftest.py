"""Shared fixtures: where the shared reference files and real submissions are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_SUBMISSIONS = SHARED / "fixtures" / "real_submissions"
V13_ST = REAL_SUBMISSIONS / "v1.3/closed/STMicroelectronics/results/NUCLEO_L4R5ZI-P"
V11_SKY = REAL_SUBMISSIONS / "v1.1/closed/Skymizer/results/NUCLEO_L4R5ZI-mbed_os"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    value = os.environ.get("TINYPERF_REFERENCE_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("TINYPERF_REFERENCE_DIR is not set to the reference files")
    return Path(value)


@pytest.fixture(scope="session")
def v13() -> Path:
    if not V13_ST.is_dir():
        pytest.skip("real submission fixtures not present")
    return V13_ST


@pytest.fixture(scope="session")
def v11() -> Path:
    if not V11_SKY.is_dir():
        pytest.skip("real submission fixtures not present")
    return V11_SKY
