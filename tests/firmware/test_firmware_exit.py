"""A firmware that stops by itself is reported as such, not as a timeout.

QEMU: the MPS2-AN386 image exits through semihosting, so a fault or a failed start-up ends
QEMU with a status and a sentence. Host port: a crashed process is named with its signal.

Images are built with test defines (``QEMU_DEFS``): ``-DFW_TEST_FAULT`` executes an undefined
instruction before ``main()`` (HardFault: exit 131 plus one ``tinyperf-fw: fault`` line);
``-DFW_INPUT_BYTES=0`` makes the stand-in model's configuration fail, so ``main()`` returns 1.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinyperf.firmware_interface.host import FirmwareError, HostFirmware, build_host
from tinyperf.firmware_interface.links import open_firmware_link
from tinyperf.firmware_interface.qemu import QemuFirmware, build_qemu, describe_exit

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


@pytest.fixture(scope="module")
def fw_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_toolchain()
    return tmp_path_factory.mktemp("host_exit")


def test_host_firmware_crash_is_named(fw_cache: Path) -> None:
    link = open_firmware_link("host://standin", build_dir=fw_cache)
    try:
        assert isinstance(link.firmware, HostFirmware) and link.exit_report() is None
        url, close = link  # the (url, close) form still unpacks
        assert url == link.url
        os.kill(link.firmware.proc.pid, signal.SIGSEGV)
        assert link.exit_report(wait_s=5.0) == (
            "the host firmware tinyperf-dut died from SIGSEGV")
    finally:
        link.close()
    assert link.exit_report() is None  # closed: nothing to report


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_firmware_run_stops_when_the_firmware_dies(fw_cache: Path) -> None:
    """``tinyperf firmware run`` exits 1 with the reason instead of serving a dead link."""
    build_host("standin", fw_cache)
    env = {**os.environ, "TINYPERF_FIRMWARE_DIR": str(fw_cache)}
    proc = subprocess.Popen([sys.executable, "-m", "tinyperf.cli.main", "firmware", "run",
                             "--port", "host", "--model", "standin", "--duration", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("link: ")
        deadline = time.monotonic() + 10
        while not _children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        [child] = _children(proc.pid)
        os.kill(child, signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 1
        assert "died from SIGKILL" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _descendants_named(name: str) -> list[int]:
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            kids = (task / "children").read_text().split() if (task / "children").exists() \
                else []
            todo += [int(k) for k in kids]
        if pid != os.getpid():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if Path(argv[0].decode(errors="replace")).name.startswith(name):
                    found.append(pid)
            except OSError:
                pass
    return found


@pytest.mark.timeout(120)
def test_run_session_names_a_firmware_crash(fw_cache: Path, tmp_path: Path,
                                            reference_dir: Path) -> None:
    """A host firmware killed mid-run: the run fails with DutStopped naming the signal (not a
    timeout), and the session log keeps the reason."""
    import threading

    from tinyperf.firmware_interface.links import start_firmware
    from tinyperf.formats.errors import DutStopped
    from tinyperf.harness.run.runner import RunConfig, run_session
    from tinyperf.reference_models.demo import demo_data_dir

    build_host("kws01", fw_cache)  # real compute: ~3.5 ms per inference on the host
    data = demo_data_dir()
    os.environ["TINYPERF_FIRMWARE_DIR"] = str(fw_cache)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            run_session(RunConfig(mode="performance", dataset_path=data, iterations=3000,
                                  port="host://kws01", output_dir=tmp_path / "s"),
                        start_dut=start_firmware)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    try:
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 30
        while not (pids := _descendants_named("tinyperf-dut")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pids, f"the host firmware did not start: {outcome}"
        time.sleep(1.0)  # mid-window: one window is 3000 inferences, ~10 s
        assert thread.is_alive(), outcome
        os.kill(pids[0], signal.SIGKILL)
        thread.join(timeout=60)
        assert not thread.is_alive()
    finally:
        os.environ.pop("TINYPERF_FIRMWARE_DIR", None)
    error = outcome.get("error")
    assert isinstance(error, DutStopped), repr(error)
    assert str(error).startswith("the host firmware tinyperf-dut-kws01 died from SIGKILL")
    [session] = (tmp_path / "s").iterdir()
    assert "firmware stopped: the host firmware tinyperf-dut-kws01 died from SIGKILL" in (
        session / "log.txt").read_text()
