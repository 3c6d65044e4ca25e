"""``tinyperf sim --model-id ic01|vww01``: the virtual DUT computes and prints what a
reference ic/vww device does, over a real pty, with the real model under TFLM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.model import (
    DEFAULT_THROUGHPUTS,
    default_throughput,
    dut_config_for,
    infer_engine,
    make_virtual_dut,
)
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.reference_models import runtime

from .goldens import PRINTED, synthetic


def test_dut_config_of_the_reference_ports() -> None:
    ic, vww = dut_config_for("ic01"), dut_config_for("vww01")
    assert (ic.model_id, ic.max_db_input_size, ic.input_bytes) == ("ic01", 3072, 3072)
    assert (vww.model_id, vww.max_db_input_size, vww.input_bytes) == ("vww01", 27648, 27648)
    assert not ic.results_trailing_comma and vww.results_trailing_comma


def test_default_throughputs_scale_kws01_by_macs() -> None:
    # kws01 2,656,768 MACs at 23 inf/s; ic01 12,501,632; vww01 7,489,664 (spec tables)
    assert default_throughput("ic01") == pytest.approx(23.0 * 2_656_768 / 12_501_632, abs=0.005)
    assert default_throughput("vww01") == pytest.approx(23.0 * 2_656_768 / 7_489_664, abs=0.005)
    assert default_throughput("ad01") == DEFAULT_THROUGHPUTS["kws01"]  # unchanged


def _load(dut, data: bytes) -> None:
    """The host's load dialogue straight into the core (38-byte hex chunks)."""
    assert dut.feed(f"db load {len(data)}%".encode())[0] == f"m-[Expecting {len(data)} bytes]"
    for start in range(0, len(data), 38):
        dut.feed(b"db " + data[start:start + 38].hex().encode() + b"%")
    assert dut.loaded == data


def _skip_on_litert(model_id: str, kind: str) -> bool:
    return runtime.default_engine() != "tflm" and (model_id, kind) == ("ic01", "G")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("model_id", ["ic01", "vww01"])
def test_virtual_dut_prints_the_reference_lines(reference_dir: Path, model_id: str) -> None:
    dut = make_virtual_dut(model_id, reference_dir=reference_dir, follow_wall=False)
    assert infer_engine(dut.infer_fn) == runtime.default_engine()
    dut.boot()
    for kind in ("Z", "G", "R"):
        if _skip_on_litert(model_id, kind):
            continue  # LiteRT-REF differs on ic G (spec 6.2)
        _load(dut, synthetic(model_id, kind))
        lines = dut.feed(b"infer 1 0%")
        assert PRINTED[(model_id, kind)] in lines, lines
        assert dut.feed(b"results%")[0] == PRINTED[(model_id, kind)]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("model_id", ["ic01", "vww01"])
def test_virtual_dut_over_a_pty(reference_dir: Path, model_id: str) -> None:
    """The host's link parses the lines (vww01's trailing comma included) over a real pty."""
    dut = make_virtual_dut(model_id, reference_dir=reference_dir, follow_wall=False)
    with SimServer(dut, pty=True) as server, open_link(server.url) as link:
        host = Dut(link)
        assert host.identify().model == model_id
        host.load(synthetic(model_id, "R"))
        result = host.infer(1, 0)
        printed = PRINTED[(model_id, "R")]
        expected = tuple(float(v) for v in printed[len("m-results-["):-1].split(",") if v)
        assert tuple(result.results) == expected
        assert host.command("results").lines[-1] == printed


@pytest.mark.timeout(90)
def test_wrong_size_load_is_reported_like_the_firmware(reference_dir: Path) -> None:
    dut = make_virtual_dut("ic01", reference_dir=reference_dir, follow_wall=False)
    dut.boot()
    dut.feed(b"db load 100%")
    dut.feed(b"db " + bytes(38).hex().encode() + b"%")
    lines = dut.feed(b"infer 1 0%")
    assert any("Input db has" in line and "expected 3072" in line for line in lines), lines


@pytest.mark.timeout(60)
def test_sim_cli_banner_names_the_engine(reference_dir: Path) -> None:
    env = {**os.environ, "TINYPERF_REFERENCE_DIR": str(reference_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyperf", "sim", "--model-id", "vww01", "--no-pty",
         "--socket", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 45
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("serving"):
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    engine = [x for x in lines if x.startswith("engine:")]
    assert engine == [f"engine: {runtime.default_engine()}"], lines
    assert any(re.match(r"link: socket://127\.0\.0\.1:\d+", x) for x in lines), lines
