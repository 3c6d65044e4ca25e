"""Sessions for the issue-9 tests, made once per test session on the virtual DUT.

kws01 performance at 23.0 inf/s (twice with the same seed: an identical rerun) and at
20.7 inf/s (a 10 % slowdown), kws01 accuracy on the demo set, ad01 performance on the demo
set and ad01 accuracy on 4 demo files (2 normal, 2 anomalous).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir, demo_subset

JITTER_US = 500.0
SEED = 3


@dataclass(frozen=True)
class Sessions:
    kws_perf: Path
    kws_perf_rerun: Path
    kws_perf_slow: Path
    kws_acc: Path
    ad_perf: Path
    ad_acc: Path


def ad01_subset(root: Path, count: int = 4) -> Path:
    """A dataset root with ``count`` ad01 demo files from both ends (both labels)."""
    return demo_subset(root, "ad01", count)


def run(model: str, mode: str, out: Path, reference_dir: Path, dataset: Path | None = None,
        throughput: float = 23.0) -> Path:
    """One run on a fresh virtual DUT (a fresh DUT with the same seed repeats exactly)."""
    dut = make_virtual_dut(model, throughput=throughput, jitter_us=JITTER_US, seed=SEED,
                           reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        result = run_session(RunConfig(
            mode=mode, dataset_path=dataset or demo_data_dir(), output_dir=out,
            iterations="auto" if mode == "performance" else None, port=server.url,
            progress=False))
    return result.session


@pytest.fixture(scope="session")
def sessions(reference_dir, tmp_path_factory) -> Sessions:
    out = tmp_path_factory.mktemp("sessions")
    ad_data = ad01_subset(tmp_path_factory.mktemp("ad01data"))
    return Sessions(
        kws_perf=run("kws01", "performance", out / "base", reference_dir),
        kws_perf_rerun=run("kws01", "performance", out / "rerun", reference_dir),
        kws_perf_slow=run("kws01", "performance", out / "slow", reference_dir,
                          throughput=20.7),
        kws_acc=run("kws01", "accuracy", out / "acc", reference_dir),
        ad_perf=run("ad01", "performance", out / "adp", reference_dir, None, 99.5),
        ad_acc=run("ad01", "accuracy", out / "ada", reference_dir, ad_data, 99.5),
    )


def copy_session(src: Path, dst: Path) -> Path:
    """A copy of a session folder without the bulky traffic log."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("traffic.log"))
    return dst


def add_energy(folder: Path, uj: list[float], u_uj: float | None = 0.5) -> None:
    """Write an energy.json of the shape tinyperf.harness.energy writes (per-window records)."""
    windows = [{"index": i, "start_s": 1.0 + 12 * i, "end_s": 12.0 + 12 * i,
                "inferences": 250, "energy_per_inference_j": v * 1e-6,
                "uncertainty_per_inference_j": None if u_uj is None else u_uj * 1e-6,
                "reasons": []} for i, v in enumerate(uj)]
    trace = {"t_s": [i * 0.1 for i in range(700)],
             "power_w": [0.010 if (i // 120) % 2 else 0.002 for i in range(700)]}
    (folder / "energy.json").write_text(json.dumps({"windows": windows, "trace": trace}))


def add_latency(folder: Path, ms: list[float]) -> None:
    (folder / "latency.csv").write_text(
        "index,latency_us\n" + "".join(f"{i},{v * 1000:.1f}\n" for i, v in enumerate(ms)))
