"""Test helpers around :mod:`tinyperf.firmware_interface.qemu` (the product launcher).

``start_qemu`` boots an image under ``qemu-system-arm -M mps2-an386 -icount shift=3`` on a
TCP chardev and fails the test (instead of raising) when QEMU or the guest does not come up;
``stop_qemu`` kills it. The launch details live in the product module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tinyperf.firmware_interface.host import FirmwareError
from tinyperf.firmware_interface.qemu import ARM_CC, QEMU, QemuFirmware, missing_qemu_tools

__all__ = ["ARM_CC", "QEMU", "QemuDut", "require_qemu", "start_qemu", "stop_qemu"]

#: A running, booted image: ``url`` (``socket://``), ``banner`` lines, ``proc``.
QemuDut = QemuFirmware


def require_qemu() -> None:
    """Skip unless the ARM toolchain and QEMU are installed."""
    missing = missing_qemu_tools()
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (apt-get install --no-install-recommends "
                    "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)")


def start_qemu(elf: Path) -> QemuDut:
    """Launch and boot ``elf``; return once the boot banner has been read."""
    try:
        return QemuFirmware(elf)
    except FirmwareError as exc:
        pytest.fail(str(exc))


def stop_qemu(dut: QemuDut) -> None:
    """Kill the QEMU we started (it never exits by itself) and reap it."""
    dut.close()
