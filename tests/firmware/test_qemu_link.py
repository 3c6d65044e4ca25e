"""``qemu://`` links: the harness builds the MPS2-AN386 image, boots it under QEMU, runs, kills.

Performance: the reference ad01 script (5 windows) with ``--iterations auto`` through
``tinyperf run --port qemu://ad01``; the DUT clock is instruction counted (``-icount
shift=3``: 8 ns per guest instruction), so windows are >= 10 s of DUT time and repeat to the
microsecond. Accuracy: a small demo subset (1 normal + 1 anomaly file, cut to their first
windows, since every window costs ~0.19 s of wire time into QEMU) whose per-window scores,
per-file scores and AUC must equal the host evaluation exactly. The full demo set (16 files)
runs under ``slow`` in reduced size (4 windows a file), full size with
``TINYPERF_QEMU_FULL=1`` (~10 min).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tinyperf.firmware_interface.host import ENV_FIRMWARE_DIR, FirmwareError
from tinyperf.firmware_interface.links import (
    is_firmware_link,
    open_firmware_link,
    parse_firmware_link,
    start_firmware,
)
from tinyperf.firmware_interface.qemu import QemuFirmware, build_qemu
from tinyperf.formats import metrics
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.reference_models.dut_outputs import ad01_file_scores
from tinyperf.reference_models.evaluate import evaluate_ad01, file_score
from tinyperf.reference_models.registry import resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel

from tinyperf.cli.main import main

from .conftest import require_toolchain
from .qemu import require_qemu

WINDOWS_PER_FILE = 196  # (102400 - 2560) / 512 + 1


@pytest.fixture(scope="module")
def fw_cache(tmp_path_factory: pytest.TempPathFactory, reference_dir: Path) -> Iterator[Path]:
    """Builds for ``qemu://`` go to a temporary firmware cache, not the user's."""
    require_toolchain()
    require_qemu()
    cache = tmp_path_factory.mktemp("fw_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_FIRMWARE_DIR, str(cache))
        mp.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
        build_qemu("ad01")  # once, so each test's launch is only the boot
        yield cache


def _qemu_children() -> list[int]:
    """Our child processes that are QEMU (taskset execs it in place)."""
    me, out = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        if ppid == me and name.startswith("qemu-system"):
            out.append(int(stat.parent.name))
    return out


def test_link_specs_parse() -> None:
    assert is_firmware_link("qemu") and is_firmware_link("qemu://ad01")
    assert is_firmware_link("host://standin")
    assert not is_firmware_link("/dev/ttyACM0") and not is_firmware_link("socket://h:1")
    assert parse_firmware_link("qemu") == ("qemu", "ad01", None, [])
    assert parse_firmware_link("qemu://standin") == ("qemu", "standin", None, [])
    assert parse_firmware_link("qemu:///tmp/fw.elf") == ("qemu", None, Path("/tmp/fw.elf"), [])
    assert parse_firmware_link("host://standin?sim-infer-us=50000") == (
        "host", "standin", None, ["--sim-infer-us", "50000"])
    with pytest.raises(FirmwareError, match="unknown model"):
        parse_firmware_link("qemu://kws99")


@pytest.mark.timeout(30)
@pytest.mark.usefixtures("fw_cache")
def test_open_and_close_kills_qemu() -> None:
    url, close = open_firmware_link("qemu://ad01")
    host, port = url.removeprefix("socket://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"profile%")
            data = b""
            while b"m-ready" not in data:
                data += sock.recv(256)
        assert b"m-model-[ad01]" in data
        assert _qemu_children()
    finally:
        close()
    close()  # idempotent
    assert not _qemu_children()
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=1).close()


@pytest.mark.timeout(30)
def test_watchdog_kills_qemu(fw_cache: Path) -> None:
    fw = QemuFirmware(fw_cache / "qemu" / "tinyperf-dut-ad01.elf", lifetime_s=0.3)
    try:
        assert fw.running and fw.banner[-1] == "m-ready"
        time.sleep(1.0)
        assert not fw.running and fw.killed_by_watchdog
    finally:
        fw.close()
    assert not _qemu_children()


@pytest.mark.timeout(80)
@pytest.mark.usefixtures("fw_cache")
def test_cli_performance_run_through_qemu_link(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", "--port", "qemu://ad01", "-m", "performance", "--iterations", "auto",
               "-s", str(demo_data_dir()), "--output-dir", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "VALID for submission" in out
    assert not _qemu_children()
    session = next(tmp_path.iterdir())
    records = json.loads((session / "results.json").read_text())
    assert len(records) == 5
    elapsed = [r["infer"]["elapsed_time"] for r in records]
    assert min(elapsed) >= 10_000_000
    # icount: the DUT clock counts instructions; the 5 windows hold 5 different files and the
    # int8 kernels branch on data (saturation), so they differ by ~0.01 %, not by jitter
    assert max(elapsed) - min(elapsed) <= 2e-4 * min(elapsed), elapsed
    header = json.loads((session / "journal.jsonl").read_text().splitlines()[0])
    assert header["port"] == "qemu://ad01"  # a resume relaunches the firmware


def _subset(tmp_path: Path, names: list[str]) -> Path:
    """A dataset of ``names`` from the ad01 demo set (the label file lists only them)."""
    src = demo_data_dir() / "ad01"
    rows = {r.split(",")[0]: r for r in (src / "y_labels.csv").read_text().splitlines()}
    dst = tmp_path / "data" / "ad01"
    dst.mkdir(parents=True)
    (dst / "y_labels.csv").write_text("".join(rows[n] + "\n" for n in names))
    for name in names:
        (dst / name).write_bytes((src / name).read_bytes())
    return dst.parent


def _first_windows_entry(files: int, windows: int | None) -> dict[str, TestEntry] | None:
    """An accuracy script over the first ``windows`` windows of each file (None: all)."""
    if windows is None:
        return None  # the reference script: every window
    steps: list[object] = []
    for f in range(files):
        for w in range(windows):
            steps += [f"download {f * WINDOWS_PER_FILE + w}", "infer 1 0"]
    return {"ad01": TestEntry("ad01", "ad", "ad01", "y_labels.csv", steps)}


def _check_accuracy_equals_host(data: Path, out: Path, reference_dir: Path,
                                windows: int | None) -> dict:
    rows = [r.split(",") for r in (data / "ad01" / "y_labels.csv").read_text().splitlines()]
    result = run_session(RunConfig(mode="accuracy", dataset_path=data, output_dir=out,
                                   entries=_first_windows_entry(len(rows), windows),
                                   port="qemu://ad01", progress=False),
                         start_dut=start_firmware)
    assert result.valid, result.reasons
    assert not _qemu_children()
    records = json.loads((result.session / "results.json").read_text())
    model = TfliteModel(resolve_model_file("ad01", reference_dir=reference_dir))
    files, labels, host_scores = [], [], []
    for name, _classes, label, *_ in rows:
        expected = ad01_file_scores(model, (data / "ad01" / name).read_bytes())[:windows]
        got = [r["infer"]["results"][0] for r in records if r["file"] == name]
        # each printed value is the host's score in %0.3f, bit for bit
        assert got == [float(f"{v:.3f}") for v in expected], name
        files.append(name)
        labels.append(int(label))
        host_scores.append(file_score(expected, "printed"))
    dut = metrics.file_scores([(r["file"], int(r["class"]), r["infer"]["results"])
                               for r in records])
    assert dut.files == files
    # same printed values; the harness sums them in order, np.mean pairwise: last-ULP only
    assert dut.y_pred[:, 0].tolist() == pytest.approx(host_scores, rel=1e-12, abs=0)
    host_auc = metrics.auc_binary(np.array(labels), np.array(host_scores))
    assert result.figures["auc"] == host_auc
    return {"auc": host_auc, "files": files, "scores": host_scores,
            "dut_scores": dut.y_pred[:, 0].tolist()}


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fw_cache")
def test_accuracy_run_through_qemu_link_equals_host(tmp_path: Path,
                                                    reference_dir: Path) -> None:
    data = _subset(tmp_path, ["normal_id_01_00000000_hist_librosa.bin",
                              "anomaly_id_01_00000000_hist_librosa.bin"])
    figures = _check_accuracy_equals_host(data, tmp_path / "s", reference_dir, 20)
    assert figures["auc"] in (0.0, 1.0)  # two files: the AUC is all or nothing


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("fw_cache")
def test_accuracy_run_on_demo_set_through_qemu_link(tmp_path: Path,
                                                    reference_dir: Path) -> None:
    """16 demo files; 4 windows each unless TINYPERF_QEMU_FULL=1 (196 each, ~10 min)."""
    full = os.environ.get("TINYPERF_QEMU_FULL") == "1"
    names = [r.split(",")[0] for r in
             (demo_data_dir() / "ad01" / "y_labels.csv").read_text().splitlines()]
    data = _subset(tmp_path, names)
    figures = _check_accuracy_equals_host(data, tmp_path / "s", reference_dir,
                                          None if full else 4)
    if full:  # the host reference evaluation of the untouched demo set
        ev = evaluate_ad01(resolve_model_file("ad01", reference_dir=reference_dir),
                           demo_data_dir(), rounding="printed")
        assert ev.files == figures["files"]
        assert ev.scores.tolist() == figures["scores"]
        assert ev.auc_pooled == figures["auc"]
