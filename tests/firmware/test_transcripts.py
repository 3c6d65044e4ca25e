"""The same golden transcripts against the C host firmware (over a pty) and the virtual DUT.

Both must print exactly the expected lines, so the C layer and the Python reference
behaviour (``tinyperf.firmware_interface.sim``) cannot drift apart.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import serial
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut
from tinyperf.formats import protocol as p

from .standin import standin_infer_fn
from .transcripts import Transcript, all_transcripts, load, mask, replay

PATHS = all_transcripts()
_READ_TIMEOUT_S = 5.0


def test_transcripts_exist() -> None:
    assert {p.stem for p in PATHS} >= {"identify", "db_load", "infer"}


def _host_args(config: dict[str, str]) -> list[str]:
    return ["--db-size", config["db_size"], "--input-bytes", config["input_bytes"],
            "--outputs", config["outputs"], "--vendor", config["vendor"],
            "--model-id", config["model_id"]]


def _virtual_dut(config: dict[str, str]) -> VirtualDut:
    return VirtualDut(
        DutConfig(model_id=config["model_id"], vendor=config["vendor"],
                  max_db_input_size=int(config["db_size"]),
                  input_bytes=int(config["input_bytes"])),
        standin_infer_fn(int(config["outputs"])),
    )


def _read_response(ser: serial.SerialBase) -> list[str]:
    lines = []
    while True:
        raw = ser.read_until(b"\r\n")
        assert raw.endswith(b"\r\n"), f"no CR LF line (LF only, or timeout): {raw!r} {lines}"
        lines.append(raw[:-2].decode("latin-1"))
        if lines[-1] == p.READY:
            return lines


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_host_firmware_replays_transcript(path: Path, host_dut_factory) -> None:
    transcript: Transcript = load(path)
    dut = host_dut_factory(*_host_args(transcript.config))
    with serial.serial_for_url(dut.url, timeout=_READ_TIMEOUT_S) as ser:
        def send(command: str) -> list[str]:
            ser.write(command.encode("ascii") + b"%")
            return _read_response(ser)

        assert replay(transcript, send) == []


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_virtual_dut_replays_transcript(path: Path) -> None:
    transcript = load(path)
    dut = _virtual_dut(transcript.config)
    dut.boot()
    assert replay(transcript, lambda cmd: dut.feed(cmd.encode("ascii") + b"%")) == []


def test_boot_banner_is_the_same(host_binary: Path) -> None:
    """Over stdio (a pty's banner is flushed when the host opens the port)."""
    config = load(PATHS[0]).config
    proc = subprocess.run([str(host_binary), *_host_args(config)], input=b"",
                          capture_output=True, timeout=10)
    assert proc.returncode == 0
    assert proc.stdout.endswith(b"\r\n") and b"\r\r" not in proc.stdout
    c_lines = [mask(line) for line in proc.stdout.decode().split("\r\n")[:-1]]
    sim_lines = [mask(line) for line in _virtual_dut(config).boot()]
    assert c_lines == sim_lines == ["m-timestamp-mode-performance", "m-lap-us-*",
                                    "m-init-done", "m-ready"]


def test_host_firmware_exits_on_bad_arguments(host_binary: Path) -> None:
    proc = subprocess.run([str(host_binary), "--db-size", "0"], capture_output=True, timeout=10)
    assert proc.returncode == 2 and b"usage:" in proc.stderr
