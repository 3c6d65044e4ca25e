"""Build the MPS2-AN386 (Cortex-M4F) firmware and run it under ``qemu-system-arm``.

Launch per ``shared/spec/qemu_dut.md``: pinned to one core (``taskset``), ``-icount shift=3``
for a deterministic DUT clock (every guest instruction takes 2^3 = 8 ns of virtual time, so
``m-lap-us`` intervals count instructions: 1 µs = 125 instructions), a TCP socket chardev
with ``server=on,wait=on`` (the boot banner is not lost) and ``nodelay=on`` (fast lockstep
commands), semihosting enabled so an image can exit with a status: the firmware exits with
main()'s value when start-up fails and with 128 + exception number after printing one
``tinyperf-fw: fault ...`` line on a fault (``ports/mps2_an386/startup.c``);
:meth:`QemuFirmware.exit_report` turns that into a sentence for error messages.

:class:`QemuFirmware` is a context manager: it boots the guest (connects once, reads the
banner up to ``m-ready``, disconnects -- QEMU then listens again and the harness meets a
booted, quiet DUT as it would a board), hands out ``socket://127.0.0.1:PORT`` and kills QEMU
on ``close()``, at interpreter exit, or when its optional ``lifetime_s`` watchdog fires
(a firmware built without the semihosting exit would hang silently on a fault, gotcha 9).
"""

from __future__ import annotations

import atexit
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tinyperf.firmware_interface.host import (
    FirmwareError,
    _check_model,
    _require,
    ad01_model_source,
    cache_dir,
    kws01_model_source,
    run_make,
)

QEMU = "qemu-system-arm"
ARM_CC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
MACHINE = "mps2-an386"
ICOUNT_SHIFT = 3
START_TIMEOUT_S = 10.0
READY = b"m-ready\r\n"


def missing_qemu_tools() -> list[str]:
    """Which of the ARM compiler and QEMU are not on PATH."""
    return [t for t in (ARM_CC, QEMU) if shutil.which(t) is None]


def build_qemu(model: str = "ad01", build_dir: str | Path | None = None, *,
               name: str = "tinyperf-dut", defs: str = "",
               tflite: str | Path | None = None,
               reference_dir: str | Path | None = None) -> Path:
    """Build (if needed) the QEMU image for ``model``; the ELF's path (its ``.map`` is beside)."""
    _check_model(model)
    _require(ARM_CC)
    build = cache_dir(build_dir)
    variables = {"QEMU_NAME": name}
    if defs:
        variables["QEMU_DEFS"] = defs
    if model == "ad01":
        source = ad01_model_source(build, tflite, reference_dir)
        run_make(build, "qemu-ad01", AD01_MODEL_C=str(source), **variables)
        return build / "qemu" / f"{name}-ad01.elf"
    if model == "kws01":
        source = kws01_model_source(build, tflite, reference_dir)
        run_make(build, "qemu-kws01", KWS01_MODEL_C=str(source), **variables)
        return build / "qemu" / f"{name}-kws01.elf"
    run_make(build, "qemu", **variables)
    return build / "qemu" / f"{name}.elf"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def qemu_command(elf: Path, port: int, *, icount_shift: int | None = ICOUNT_SHIFT,
                 pin: bool = True) -> list[str]:
    """The ``qemu-system-arm`` command line serving UART0 on 127.0.0.1:``port``."""
    cmd = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    cmd += [QEMU, "-M", MACHINE, "-kernel", str(elf), "-display", "none", "-monitor", "none",
            "-chardev",
            f"socket,id=ser0,host=127.0.0.1,port={port},server=on,wait=on,nodelay=on",
            "-serial", "chardev:ser0", "-semihosting-config", "enable=on,target=native"]
    if icount_shift is not None:
        cmd += ["-icount", f"shift={icount_shift}"]
    return cmd


class QemuFirmware:
    """A booted firmware image under QEMU. ``url`` is a pyserial ``socket://`` URL."""

    def __init__(self, elf: str | Path, *, icount_shift: int | None = ICOUNT_SHIFT,
                 pin: bool = True, timeout_s: float = START_TIMEOUT_S,
                 lifetime_s: float | None = None):
        if shutil.which(QEMU) is None:
            raise FirmwareError(f"{QEMU} is not installed (apt-get install qemu-system-arm)")
        self.elf = Path(elf)
        if not self.elf.is_file():
            raise FirmwareError(f"no firmware image {self.elf}")
        self.port = _free_port()
        self.url = f"socket://127.0.0.1:{self.port}"
        self.banner: list[str] = []
        self.boot_s = 0.0
        self.output_tail = b""  # QEMU's stdout + stderr: its messages, semihosting output
        self.returncode: int | None = None
        self._drain_thread: threading.Thread | None = None
        self.killed_by_watchdog = False
        self._watchdog: threading.Timer | None = None
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            qemu_command(self.elf, self.port, icount_shift=icount_shift, pin=pin),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        atexit.register(self.close)
        try:
            t0 = time.monotonic()
            self._wait_listening(timeout_s)
            self.banner = self._boot(timeout_s)
            self.boot_s = time.monotonic() - t0
        except BaseException:
            self.close()
            raise
        self._drain_thread = threading.Thread(target=self._drain, daemon=True,
                                              name="qemu-output")
        self._drain_thread.start()
        if lifetime_s is not None:
            self._watchdog = threading.Timer(lifetime_s, self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()

    # -- start-up --------------------------------------------------------------------------------

    def _wait_listening(self, timeout_s: float) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        seen = b""
        while b"waiting for connection" not in seen:
            ready, _, _ = select.select([self.proc.stdout], [], [],
                                        max(deadline - time.monotonic(), 0))
            chunk = os.read(self.proc.stdout.fileno(), 512) if ready else b""
            if not chunk:
                raise FirmwareError(f"QEMU did not start listening within {timeout_s} s: "
                                    f"{seen.decode(errors='replace').strip()}")
            seen += chunk
        self.output_tail = seen[-2000:]

    def _boot(self, timeout_s: float) -> list[str]:
        """Connect once so the guest boots, read its banner up to m-ready, disconnect."""
        data = b""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as sock:
                while not data.endswith(READY):
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise FirmwareError(f"the QEMU guest did not boot ({exc}); got {data!r}"
                                f"{self._exit_suffix()}") from None
        if not data.endswith(READY):
            raise FirmwareError(f"the QEMU guest closed the link while booting: {data!r}"
                                f"{self._exit_suffix()}")
        return data.decode("latin-1").split("\r\n")[:-1]

    def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        try:
            while True:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    return
                self.output_tail = (self.output_tail + chunk)[-2000:]
        except (OSError, ValueError):
            return

    def _expire(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.killed_by_watchdog = True
        self.close()

    # -- state / stop ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _poll(self, wait_s: float = 0.0) -> int | None:
        if self.proc is not None:
            try:
                self.returncode = self.proc.wait(timeout=wait_s) if wait_s else self.proc.poll()
            except subprocess.TimeoutExpired:
                self.returncode = None
        return self.returncode

    def exit_report(self, wait_s: float = 0.0) -> str | None:
        """Why the guest stopped by itself (semihosting exit), or None if it still runs or
        was stopped by us. ``wait_s`` gives a just-closed link time to see the exit."""
        code = self._poll(wait_s)
        if code is None or code < 0:  # running, or killed by a signal (close(), watchdog)
            return None
        # the last output lines (the fault line) may not be read yet: read up to QEMU's EOF
        if self._drain_thread is not None:
            self._drain_thread.join(timeout=1.0)
        elif self.proc is not None:
            self._drain()
        return describe_exit(code, self.output_tail.decode("latin-1", errors="replace"))

    def _exit_suffix(self) -> str:
        report = self.exit_report(wait_s=1.0)
        return f"; {report}" if report else ""

    def close(self) -> None:
        """Kill QEMU (it never exits by itself) and reap it; idempotent, thread safe enough."""
        proc, self.proc = self.proc, None
        if self._watchdog is not None:
            self._watchdog.cancel()
        atexit.unregister(self.close)
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        self.returncode = proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> QemuFirmware:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def describe_exit(code: int, output: str) -> str:
    """One sentence for a QEMU exit ``code`` (see module docstring) and its output tail."""
    fault = [ln.strip() for ln in output.splitlines() if ln.startswith("tinyperf-fw: fault")]
    if code == 0:
        return "the firmware exited normally (semihosting exit 0)"
    if code >= 128:
        detail = fault[-1].removeprefix("tinyperf-fw: ") if fault else "no fault line printed"
        return f"the firmware crashed: exception {code - 128} ({detail}); QEMU exit code {code}"
    return (f"the firmware stopped with exit code {code} (main() returned: start-up failed); "
            f"QEMU output: {output.strip()[-300:]!r}")


# -- footprint -----------------------------------------------------------------------------------

_REGION = re.compile(r"^(\w+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)(?:\s+\S+)?\s*$")
_SYMBOL = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+(\w+) = ")


def size_sections(binary: Path, tool: str = "size") -> dict[str, int]:
    """Berkeley ``size`` of ``binary``: text, data, bss (bytes)."""
    proc = subprocess.run([tool, str(binary)], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise FirmwareError(f"{tool} {binary} failed: {proc.stderr.strip()}")
    lines = proc.stdout.strip().splitlines()
    values = lines[-1].split()
    return {"text": int(values[0]), "data": int(values[1]), "bss": int(values[2])}


def map_regions(map_path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Memory regions (name -> length) and linker symbols (e.g. ``_stack_size``) of a map."""
    regions: dict[str, int] = {}
    symbols: dict[str, int] = {}
    in_config = False
    for line in map_path.read_text(errors="replace").splitlines():
        if line.startswith("Memory Configuration"):
            in_config = True
            continue
        if in_config:
            if line.startswith("Linker script and memory map"):
                in_config = False
                continue
            m = _REGION.match(line)
            if m and m.group(1) not in ("Name", "*default*"):
                regions[m.group(1)] = int(m.group(3), 16)
            continue
        m = _SYMBOL.match(line)
        if m and m.group(2) == "_stack_size":
            symbols["_stack_size"] = int(m.group(1), 16)
    return regions, symbols


def footprint(binary: Path, *, size_tool: str = ARM_SIZE,
              map_path: Path | None = None) -> dict[str, Any]:
    """text/data/bss plus flash and RAM use, against the linker script's regions if a map.

    Flash holds text (code, read-only data, vectors) and the initial values of data; RAM
    holds data and bss (static RAM), and the linker script also reserves the stack.
    """
    sizes = size_sections(binary, size_tool)
    flash = sizes["text"] + sizes["data"]
    ram = sizes["data"] + sizes["bss"]
    out: dict[str, Any] = {"binary": str(binary), **sizes, "flash_used": flash,
                           "ram_used": ram, "flash_size": None, "ram_size": None,
                           "stack_reserved": None}
    if map_path is not None and map_path.is_file():
        regions, symbols = map_regions(map_path)
        out["flash_size"] = regions.get("FLASH")
        out["ram_size"] = regions.get("RAM")
        out["stack_reserved"] = symbols.get("_stack_size")
        out["map"] = str(map_path)
    return out
