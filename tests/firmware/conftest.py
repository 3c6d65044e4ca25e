"""Build the C firmware once per session (into a temporary folder) and run it on a pty.

Everything here skips with a reason when the host has no C compiler or ``make``; the
firmware tests never touch ``firmware_interface/build`` (other checkouts may share it).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware_interface"
_LINK_TIMEOUT_S = 10.0


def require_toolchain() -> None:
    """Skip the calling test when ``cc`` or ``make`` is missing."""
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler: '{cc}' is not on PATH (apt-get install gcc make)")
    if shutil.which("make") is None:
        pytest.skip("no 'make' on PATH (apt-get install make)")


def make(build: Path, *targets: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``make -C firmware_interface BUILD=build targets``; fail the test on errors."""
    args = ["make", "-s", "-C", str(FIRMWARE), f"BUILD={build}", *targets]
    args += [f"{k}={v}" for k, v in variables.items()]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def fw_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder holding ``host/tinyperf-dut`` (the stand-in model)."""
    require_toolchain()
    build = tmp_path_factory.mktemp("fw_build")
    make(build, "host")
    return build


@pytest.fixture(scope="session")
def host_binary(fw_build: Path) -> Path:
    return fw_build / "host" / "tinyperf-dut"


@dataclass
class HostDut:
    """A running host firmware process and the pty path it serves."""

    proc: subprocess.Popen[bytes]
    url: str


def start_host_dut(binary: Path, *args: str) -> HostDut:
    """Start ``binary --pty args`` and wait for its ``link: /dev/pts/N`` line on stderr."""
    proc = subprocess.Popen([str(binary), "--pty", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    deadline = time.monotonic() + _LINK_TIMEOUT_S
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stderr], [], [], max(left, 0))
        if not ready:
            stop_host_dut(HostDut(proc, ""))
            pytest.fail(f"{binary} printed no link line within {_LINK_TIMEOUT_S} s")
        chunk = os.read(proc.stderr.fileno(), 256)
        if not chunk:
            pytest.fail(f"{binary} exited: {buf.decode(errors='replace')}")
        buf += chunk
    line = buf.split(b"\n", 1)[0].decode()
    assert line.startswith("link: "), line
    return HostDut(proc, line[len("link: "):])


def stop_host_dut(dut: HostDut) -> None:
    """Terminate the process we started (by its own handle) and reap it."""
    if dut.proc.poll() is None:
        dut.proc.terminate()
        try:
            dut.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            dut.proc.kill()
            dut.proc.wait(timeout=5)
    if dut.proc.stderr is not None:
        dut.proc.stderr.close()


@pytest.fixture
def host_dut_factory(host_binary: Path) -> Iterator[object]:
    """``factory(*args, binary=None) -> HostDut``; every process is stopped afterwards."""
    started: list[HostDut] = []

    def factory(*args: str, binary: Path | None = None) -> HostDut:
        dut = start_host_dut(binary or host_binary, *args)
        started.append(dut)
        return dut

    yield factory
    for dut in started:
        stop_host_dut(dut)
