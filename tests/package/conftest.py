"""Sessions for the packager tests, made once on the virtual DUT (and the virtual energy rig).

kws01: performance (``--iterations auto``), accuracy on the 120-file demo set (top-1 77.5 %:
below the closed 90 % target, used for the open division and the closed refusal),
energy. ad01: performance, accuracy on 4 demo files (2 normal, 2 anomalous), energy.
Plus sessions that must be refused: short windows, another DUT vendor.

``labels`` is the reference folder the checker compares scored sets with: the demo label
files (kws01 full set, ad01 the 4-file subset), since the official label files name other
inputs than the synthetic demo sets.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir, demo_subset

THROUGHPUT = {"kws01": 23.0, "ad01": 99.5}


@dataclass(frozen=True)
class Sessions:
    kws_perf: Path
    kws_acc: Path
    ad_perf: Path
    ad_acc: Path
    kws_short: Path
    kws_other_vendor: Path
    kws_energy: Path | None
    ad_energy: Path | None
    labels: Path


def ad01_subset(root: Path, count: int = 4) -> Path:
    """A dataset root with ``count`` ad01 demo files from both ends (both labels)."""
    return demo_subset(root, "ad01", count)


def run(model: str, mode: str, out: Path, reference_dir: Path, dataset: Path | None = None,
        iterations: int | str | None = None, vendor: str | None = None) -> Path:
    kwargs = {"vendor": vendor} if vendor else {}
    dut = make_virtual_dut(model, throughput=THROUGHPUT[model], jitter_us=500.0, seed=3,
                           reference_dir=reference_dir, **kwargs)
    if iterations is None and mode == "performance":
        iterations = "auto"
    with SimServer(dut, pty=True, baud=None) as server:
        result = run_session(RunConfig(mode=mode, dataset_path=dataset or demo_data_dir(),
                                       output_dir=out, iterations=iterations, port=server.url,
                                       progress=False))
    return result.session


def energy(model: str, out: Path) -> Path | None:
    try:
        from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
    except ImportError:  # the virtual energy rig is not in this checkout
        return None
    from tinyperf.harness.energy.run import EnergyOptions, run_energy_session

    with virtual_energy_rig(model, throughput=THROUGHPUT[model]) as rig:
        result = run_energy_session(
            RunConfig(mode="energy", dataset_path=demo_data_dir(), output_dir=out,
                      iterations=int(11.0 * THROUGHPUT[model]), progress=False),
            EnergyOptions(interface=rig.interface_url, monitor=rig.monitor, voltage=1.8))
    assert result.valid, result.reasons
    return result.session


@pytest.fixture(scope="session")
def sessions(reference_dir, tmp_path_factory) -> Sessions:
    out = tmp_path_factory.mktemp("pkg_sessions")
    ad_data = ad01_subset(tmp_path_factory.mktemp("pkg_ad01data"))
    labels = tmp_path_factory.mktemp("pkg_labels")
    (labels / "kws01").mkdir()
    shutil.copyfile(demo_data_dir() / "kws01" / "y_labels.csv", labels / "kws01" / "y_labels.csv")
    (labels / "ad01").mkdir()
    shutil.copyfile(ad_data / "ad01" / "y_labels.csv", labels / "ad01" / "y_labels.csv")
    return Sessions(
        kws_perf=run("kws01", "performance", out, reference_dir),
        kws_acc=run("kws01", "accuracy", out, reference_dir),
        ad_perf=run("ad01", "performance", out, reference_dir),
        ad_acc=run("ad01", "accuracy", out, reference_dir, ad_data),
        kws_short=run("kws01", "performance", out, reference_dir, iterations=60),
        kws_other_vendor=run("kws01", "performance", out, reference_dir, vendor="OtherCo"),
        kws_energy=energy("kws01", out),
        ad_energy=energy("ad01", out),
        labels=labels,
    )
