"""The Cortex-M4 (MPS2-AN386) firmware under QEMU: golden transcripts and harness runs.

Skipped when the ARM toolchain or QEMU is missing. The ad01 image runs the same int8
runtime as the host port; its DUT clock is instruction counted (``-icount shift=3``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from tinyperf.firmware_interface.export_fc import read_model, to_c
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.reference_models.dut_outputs import ad01_file_scores, ad01_file_windows
from tinyperf.reference_models.registry import resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel

from .conftest import make, require_toolchain
from .qemu import QemuDut, require_qemu, start_qemu, stop_qemu
from .transcripts import all_transcripts, load, replay

PATHS = all_transcripts()


@pytest.fixture(scope="module")
def qemu_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_toolchain()
    require_qemu()
    return tmp_path_factory.mktemp("qemu_build")


@pytest.fixture
def qemu_factory() -> Iterator[object]:
    started: list[QemuDut] = []

    def factory(elf: Path) -> QemuDut:
        dut = start_qemu(elf)
        started.append(dut)
        return dut

    yield factory
    for dut in started:
        stop_qemu(dut)


def _standin_image(build: Path, config: dict[str, str]) -> Path:
    name = "t_" + "_".join(f"{k}{v}" for k, v in sorted(config.items()))
    defs = (f'-DFW_VENDOR=\\"{config["vendor"]}\\" -DFW_MODEL_ID=\\"{config["model_id"]}\\" '
            f'-DFW_DB_SIZE={config["db_size"]}u -DFW_INPUT_BYTES={config["input_bytes"]}u '
            f'-DFW_OUTPUTS={config["outputs"]}u')
    make(build, "qemu", QEMU_NAME=name, QEMU_DEFS=defs)
    return build / "qemu" / f"{name}.elf"


def _read_response(ser: serial.SerialBase) -> list[str]:
    lines = []
    while True:
        raw = ser.read_until(b"\r\n")
        assert raw.endswith(b"\r\n"), f"no CR LF line (timeout?): {raw!r} {lines}"
        lines.append(raw[:-2].decode("latin-1"))
        if lines[-1] == "m-ready":
            return lines


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_qemu_firmware_replays_transcript(path: Path, qemu_build, qemu_factory) -> None:
    transcript = load(path)
    dut = qemu_factory(_standin_image(qemu_build, transcript.config))
    ser = serial.serial_for_url(dut.url, timeout=10)
    try:
        assert [line for line in dut.banner if not line.startswith("m-lap-us-")] == [
            "m-timestamp-mode-performance", "m-init-done", "m-ready"]

        def send(command: str) -> list[str]:
            ser.write(command.encode("ascii") + b"%")
            return _read_response(ser)

        assert replay(transcript, send) == []
    finally:
        ser.close()


@pytest.fixture(scope="module")
def ad01_elf(qemu_build: Path, reference_dir: Path) -> Path:
    tflite = resolve_model_file("ad01", reference_dir=reference_dir)
    source = qemu_build / "ad01_model_data.c"
    source.write_text(to_c(read_model(tflite), "ad01_model", tflite.name))
    out = make(qemu_build, "qemu-ad01", AD01_MODEL_C=str(source)).stdout
    (qemu_build / "size.txt").write_text(out)
    return qemu_build / "qemu" / "tinyperf-dut-ad01.elf"


@pytest.mark.timeout(60)
def test_qemu_ad01_scores_equal_host_reference(ad01_elf, qemu_factory, reference_dir) -> None:
    """A few windows through the harness client: printed scores = dut_outputs, bit for bit."""
    data = sorted((demo_data_dir() / "ad01").glob("*.bin"))[-1].read_bytes()
    windows = ad01_file_windows(data)[::49]  # 4 windows spread over the file
    model = TfliteModel(resolve_model_file("ad01", reference_dir=reference_dir))
    expected = ad01_file_scores(model, data)[::49]
    dut = qemu_factory(ad01_elf)
    link = open_link(dut.url, 115200)
    try:
        client = Dut(link)
        ident = client.identify()
        assert ident.model == "ad01"
        for window, score in zip(windows, expected, strict=True):
            client.load(window)
            result = client.infer(1, 0)
            assert list(result.results) == [round(float(score), 3)]
    finally:
        link.close()


@pytest.mark.timeout(80)
def test_qemu_ad01_performance_run(ad01_elf, qemu_factory, tmp_path: Path) -> None:
    """5 windows of >= 10 s by the (instruction-counted, deterministic) DUT clock."""
    src = demo_data_dir() / "ad01"
    row = (src / "y_labels.csv").read_text().splitlines()[0]
    data = tmp_path / "data" / "ad01"
    data.mkdir(parents=True)
    (data / "y_labels.csv").write_text(row + "\n")
    name = row.split(",")[0]
    (data / name).write_bytes((src / name).read_bytes())
    dut = qemu_factory(ad01_elf)
    entry = TestEntry("ad01", "ad", "ad01", "y_labels.csv",
                      [{"loop 5": ["download 0", "infer 1 10"]}])
    result = run_session(RunConfig(mode="performance", dataset_path=data.parent,
                                   output_dir=tmp_path / "s", iterations="auto",
                                   entries={"ad01": entry}, port=dut.url, progress=False))
    assert result.valid, result.reasons
    records = json.loads((result.session / "results.json").read_text())
    assert len(records) == 5
    elapsed = [r["infer"]["elapsed_time"] for r in records]
    assert min(elapsed) >= 10_000_000
    # icount: the same work takes the same DUT time, to within a microsecond or two
    assert max(elapsed) - min(elapsed) <= 5, elapsed
    assert all(r["infer"]["throughput"] > 0 for r in records)
