"""Build the MPS2-AN386 firmware and run it under ``qemu-system-arm`` on a TCP chardev.

Per ``shared/spec/qemu_dut.md``: pinned to one core (``taskset``), ``-icount shift=3`` for a
deterministic DUT clock, ``server=on,wait=on`` so the boot banner is not lost, ``nodelay=on``
for fast lockstep commands. The guest's clock is instruction counted (8 ns per instruction),
not a real MCU's latency.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

QEMU = "qemu-system-arm"
ARM_CC = "arm-none-eabi-gcc"
_LISTEN_TIMEOUT_S = 10.0


def require_qemu() -> None:
    """Skip unless the ARM toolchain and QEMU are installed."""
    missing = [tool for tool in (ARM_CC, QEMU) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (apt-get install --no-install-recommends "
                    "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class QemuDut:
    proc: subprocess.Popen[bytes]
    url: str
    banner: list[str]


def _boot(port: int) -> list[str]:
    """Connect once so the guest boots, read its banner, disconnect.

    With ``wait=on`` the guest starts only when a client connects, so its banner would race
    the host's first command; a real board has booted long before the host opens the port.
    QEMU listens again after the disconnect, and the harness then meets a booted, quiet DUT.
    """
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=_LISTEN_TIMEOUT_S) as sock:
        while not data.endswith(b"m-ready\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1").split("\r\n")[:-1]


def start_qemu(elf: Path) -> QemuDut:
    """Launch and boot ``elf``; return once the boot banner has been read."""
    port = _free_port()
    cmd = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    cmd += [QEMU, "-M", "mps2-an386", "-kernel", str(elf), "-display", "none",
            "-monitor", "none", "-chardev",
            f"socket,id=ser0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
            "-serial", "chardev:ser0", "-icount", "shift=3"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    deadline = time.monotonic() + _LISTEN_TIMEOUT_S
    seen = b""
    while b"waiting for connection" not in seen:
        ready, _, _ = select.select([proc.stderr], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(proc.stderr.fileno(), 512) if ready else b""
        if not chunk:
            stop_qemu(QemuDut(proc, "", []))
            pytest.fail(f"QEMU did not start listening: {seen.decode(errors='replace')}")
        seen += chunk
    try:
        banner = _boot(port)
    except OSError as exc:
        stop_qemu(QemuDut(proc, "", []))
        pytest.fail(f"QEMU guest did not boot: {exc}")
    return QemuDut(proc, f"socket://127.0.0.1:{port}", banner)


def stop_qemu(dut: QemuDut) -> None:
    """Kill the QEMU we started (it never exits by itself) and reap it."""
    if dut.proc.poll() is None:
        dut.proc.kill()
        dut.proc.wait(timeout=10)
    if dut.proc.stderr is not None:
        dut.proc.stderr.close()
