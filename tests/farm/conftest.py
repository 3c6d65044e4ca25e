"""Fixtures for the board farm: a small dataset, and the labgrid tool venv / ser2net."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tinyperf.reference_models.demo import demo_data_dir

REPO = Path(__file__).resolve().parents[2]
#: inputs per model in the farm tests' small accuracy sets (an ad01 file holds 196 windows;
#: over ser2net's RFC 2217 each window's 72 download round trips cost ~0.2 s)
SMALL_SET = {"kws01": ("tst_000000_", "tst_000030_", "tst_000060_", "tst_000090_",
                       "tst_000010_", "tst_000040_", "tst_000070_", "tst_000100_"),
             "ad01": ("normal_id_01_00000000", "anomaly_id_01_00000000")}
#: the performance script downloads five different inputs
PERF_SET = {"ad01": ("normal_id_01_00000000", "normal_id_01_00000001", "normal_id_02_00000000",
                     "anomaly_id_01_00000000", "anomaly_id_01_00000001")}


def _subset(root: Path, chosen: dict[str, tuple[str, ...]]) -> Path:
    for model, prefixes in chosen.items():
        src, dst = demo_data_dir() / model, root / model
        dst.mkdir()
        rows = [r for r in (src / "y_labels.csv").read_text().splitlines()
                if r.startswith(prefixes)]
        assert len(rows) == len(prefixes), (model, rows)
        (dst / "y_labels.csv").write_text("\n".join(rows) + "\n")
        for row in rows:
            shutil.copyfile(src / row.split(",")[0], dst / row.split(",")[0])
    return root


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few demo inputs per model with their label lines (the farm tests' accuracy set)."""
    return _subset(tmp_path_factory.mktemp("farm-data"), SMALL_SET)


@pytest.fixture(scope="session")
def perf_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five ad01 inputs: what the ad01 performance script downloads."""
    return _subset(tmp_path_factory.mktemp("farm-perf-data"), PERF_SET)


@pytest.fixture(scope="session")
def labgrid_python() -> str:
    """The Python of the labgrid tool venv (``make farm-venv``), and ser2net on PATH."""
    candidates = [os.environ.get("TINYPERF_LABGRID_PYTHON"),
                  str(REPO / ".venv-farm" / "bin" / "python")]
    python = next((c for c in candidates if c and Path(c).is_file()), None)
    if python is None:
        pytest.skip("labgrid tool venv not installed (make farm-venv)")
    if not (shutil.which("ser2net") or Path("/usr/sbin/ser2net").is_file()):
        pytest.skip("ser2net not installed (apt-get install ser2net)")
    return python
