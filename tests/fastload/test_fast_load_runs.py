"""``tinyperf run --fast-load auto|off`` on the virtual DUT: the same results, byte for byte.

Real runs through the CLI over a real pty, the real models (LiteRT), the demo inputs. The
two runs of a pair go to the same virtual DUT; only timing fields may differ.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer, pty_available
from tinyperf.reference_models.demo import demo_data_dir, demo_subset

from tinyperf.cli.main import main

pytestmark = pytest.mark.skipif(not pty_available(), reason="no pty on this platform")

#: fields of a results.json record that are DUT/host times, not results
TIMING = ("start_time", "end_time", "elapsed_time", "throughput")


def _ad01_subset(root: Path, files: int, stride: int) -> Path:
    """``files`` demo ad01 inputs whose label rows cut windows every ``stride`` bytes."""
    src = demo_data_dir() / "ad01"
    dest = root / "ad01"
    dest.mkdir(parents=True)
    rows = (src / "y_labels.csv").read_text().splitlines()[:files]
    out = []
    for row in rows:
        name, classes, label, size, _stride = row.split(",")
        shutil.copy(src / name, dest / name)
        out.append(",".join((name, classes, label, size, str(stride))))
    (dest / "y_labels.csv").write_text("\n".join(out) + "\n")
    return root


def _run(url: str, data: Path, out: Path, fast: str, capsys) -> Path:
    rc = main(["run", "--port", url, "--mode", "a", "--dataset-path", str(data),
               "--output-dir", str(out), "--no-progress", "--fast-load", fast])
    text = capsys.readouterr().out
    assert rc == 0, text
    (session,) = out.iterdir()
    return session


def _without_timing(session: Path) -> list[dict]:
    records = json.loads((session / "results.json").read_text())
    for record in records:
        for key in TIMING:
            record["infer"].pop(key, None)
    return records


def _masked_log(session: Path) -> list[str]:
    text = (session / "log.txt").read_text().replace(str(session), "SESSION")
    # numbers masked with the padding in front of them: a right-aligned figure that gains a
    # digit (a real clock's throughput) must not count as a difference
    return [re.sub(r" *\d+(\.\d+)?", " #", line) for line in text.splitlines()]


def _untimed_txt(session: Path) -> list[str]:
    """results.txt without the time stamp that starts its lines."""
    lines = (session / "results.txt").read_text().splitlines()
    return [re.sub(r"^\d+\.\d+ ", "", line) for line in lines]


def _compare(url: str, data: Path, tmp_path: Path, capsys) -> tuple[dict, dict]:
    auto = _run(url, data, tmp_path / "auto", "auto", capsys)
    off = _run(url, data, tmp_path / "off", "off", capsys)
    assert _without_timing(auto) == _without_timing(off)
    raw_auto = (auto / "results.json").read_text()
    assert len(raw_auto.splitlines()) == len((off / "results.json").read_text().splitlines())
    assert _masked_log(auto) == _masked_log(off)
    assert _untimed_txt(auto) == _untimed_txt(off)
    run_auto = json.loads((auto / "run.json").read_text())
    run_off = json.loads((off / "run.json").read_text())
    assert run_auto["figures"] == run_off["figures"]
    # the engine the virtual DUT computes with reaches run.json through its caps line
    described = (run_auto["fast_load"].get("offered") or {}).get("dut")  # C firmware: none
    assert run_auto["dut_engine"] == (described.removeprefix("engine-") if described else None)
    assert run_off["dut_engine"] is None  # no fl caps sent
    return run_auto["fast_load"], run_off["fast_load"]


@pytest.mark.timeout(120)
def test_kws01_auto_and_off_give_identical_results(reference_dir, tmp_path, capsys):
    data = demo_subset(tmp_path / "data", "kws01", 12)
    dut = make_virtual_dut("kws01", reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        fast, off = _compare(server.url, data, tmp_path, capsys)
    assert fast["asked"] == "auto" and fast["used"] and fast["loads"] == 12
    assert fast["offered"]["max"] == dut.config.max_db_input_size
    assert fast["offered"]["dut"] == f"engine-{dut.infer_fn.engine}"  # tflm where installed
    assert fast["retries"] == 0 and fast["standard_loads"] == 0
    assert off == {"asked": "off", "used": False, "why": "--fast-load off"}


@pytest.mark.timeout(120)
def test_ad01_windows_shifted_give_identical_results(reference_dir, tmp_path, capsys):
    # stride 2048 of 2560 (49 windows a file) keeps the standard run short; the reference
    # stride 512 is the slow test below
    data = _ad01_subset(tmp_path / "data", 2, 2048)
    dut = make_virtual_dut("ad01", reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        fast, _off = _compare(server.url, data, tmp_path, capsys)
    assert (fast["loads"], fast["shifts"]) == (2, 96)
    assert fast["pipelined"] == 97


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ad01_reference_stride_identical_results(reference_dir, tmp_path, capsys):
    data = _ad01_subset(tmp_path / "data", 2, 512)
    dut = make_virtual_dut("ad01", reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        fast, _off = _compare(server.url, data, tmp_path, capsys)
    assert (fast["loads"], fast["shifts"]) == (2, 390)


@pytest.mark.timeout(120)
def test_a_dut_without_fast_load_gets_the_standard_path(reference_dir, tmp_path, capsys):
    data = demo_subset(tmp_path / "data", "kws01", 3)
    dut = make_virtual_dut("kws01", reference_dir=reference_dir, fast_load=False)
    with SimServer(dut, pty=True, baud=None) as server:
        session = _run(server.url, data, tmp_path / "auto", "auto", capsys)
        auto_commands = server.stats.commands
        _run(server.url, data, tmp_path / "off", "off", capsys)
        off_commands = server.stats.commands - auto_commands
    record = json.loads((session / "run.json").read_text())["fast_load"]
    assert record["offered"] is None and not record["used"]
    assert record["negotiations"] == 1 and record["standard_loads"] == 3
    assert auto_commands == off_commands + 1  # the one 'fl caps', nothing else
    assert "fl" not in (session / "log.txt").read_text()


def _require_firmware_tools(qemu: bool) -> None:
    from tinyperf.firmware_interface.qemu import missing_qemu_tools

    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None or shutil.which("make") is None:
        pytest.skip(f"no C compiler ('{cc}') or make on PATH")
    if qemu and missing_qemu_tools():
        pytest.skip(f"missing {', '.join(missing_qemu_tools())}")


@pytest.mark.timeout(300)
def test_host_firmware_auto_and_off_give_identical_results(tmp_path, capsys):
    """The C layer's ``fl`` (host port, a pty): kws01 files and shifted ad01 windows."""
    _require_firmware_tools(qemu=False)
    kws = demo_subset(tmp_path / "kws", "kws01", 6)
    fast, _off = _compare("host://kws01", kws, tmp_path / "k", capsys)
    assert fast["used"] and fast["loads"] == 6 and fast["retries"] == 0
    ad = _ad01_subset(tmp_path / "ad", 1, 2048)
    fast, _off = _compare("host://ad01", ad, tmp_path / "a", capsys)
    assert (fast["loads"], fast["shifts"], fast["retries"]) == (1, 48, 0)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_qemu_firmware_auto_and_off_give_identical_results(tmp_path, capsys):
    _require_firmware_tools(qemu=True)
    ad = _ad01_subset(tmp_path / "ad", 1, 2048)
    fast, _off = _compare("qemu://ad01", ad, tmp_path / "a", capsys)
    assert fast["used"] and fast["shifts"] == 48


#: kws01 files of the QEMU comparison: 12 (every class, a few seconds) unless
#: TINYPERF_QEMU_KWS_FILES asks for more (120: the whole demo set, ~20 s)
QEMU_KWS_FILES = int(os.environ.get("TINYPERF_QEMU_KWS_FILES", "12"))


@pytest.mark.timeout(900)
def test_qemu_firmware_kws01_auto_and_off_give_identical_results(tmp_path, capsys):
    """The C layer's ``fl load`` on the QEMU port (emulated Cortex-M, TFLM): kws01 files."""
    _require_firmware_tools(qemu=True)
    kws = demo_subset(tmp_path / "kws", "kws01", QEMU_KWS_FILES)
    fast, off = _compare("qemu://kws01", kws, tmp_path / "k", capsys)
    assert fast["used"] and fast["loads"] == QEMU_KWS_FILES and fast["retries"] == 0
    assert not off["used"]
