"""Semihosting exit of the MPS2-AN386 image: a fault or a failed start-up ends QEMU with a
status and a sentence, instead of a guest that hangs until the harness times out.

Images are built with test defines (``QEMU_DEFS``): ``-DFW_TEST_FAULT`` executes an undefined
instruction before ``main()`` (HardFault: exit 131 plus one ``tinyperf-fw: fault`` line);
``-DFW_INPUT_BYTES=0`` makes the stand-in model's configuration fail, so ``main()`` returns 1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firmware_interface.host import FirmwareError
from firmware_interface.qemu import QemuFirmware, build_qemu, describe_exit

from .conftest import require_toolchain
from .qemu import require_qemu


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_toolchain()
    require_qemu()
    return tmp_path_factory.mktemp("qemu_exit")


def test_fault_exits_with_the_exception_and_registers(build_dir: Path) -> None:
    elf = build_qemu("standin", build_dir, name="fault", defs="-DFW_TEST_FAULT")
    with pytest.raises(FirmwareError) as info:
        QemuFirmware(elf, timeout_s=5.0)
    text = str(info.value)
    assert "closed the link while booting" in text
    # UDF with UsageFault disabled escalates: HFSR.FORCED, CFSR.UNDEFINSTR
    assert re.search(r"the firmware crashed: exception 3 \(fault HardFault ipsr=3 "
                     r"pc=0x[0-9a-f]{8} hfsr=0x40000000 cfsr=0x00010000\); QEMU exit code 131",
                     text), text


def test_failed_start_up_exits_with_mains_status(build_dir: Path) -> None:
    elf = build_qemu("standin", build_dir, name="badcfg", defs="-DFW_INPUT_BYTES=0")
    with pytest.raises(FirmwareError, match=r"exit code 1 \(main\(\) returned: start-up "
                                            r"failed\)"):
        QemuFirmware(elf, timeout_s=5.0)


def test_a_killed_guest_has_no_exit_report(build_dir: Path) -> None:
    fw = QemuFirmware(build_qemu("standin", build_dir, name="ok"))
    assert fw.exit_report() is None  # still running
    fw.close()
    assert fw.exit_report() is None and fw.returncode is not None and fw.returncode < 0


def test_describe_exit() -> None:
    assert describe_exit(0, "") == "the firmware exited normally (semihosting exit 0)"
    assert "exception 5 (no fault line printed)" in describe_exit(133, "junk")
    assert "exit code 2 (main() returned" in describe_exit(2, "boot failed\n")
