"""Build the C firmware with ``make`` into a cache folder, and run the host (POSIX) build.

The build helpers here are shared with :mod:`tinyperf.firmware_interface.qemu`:

- :func:`cache_dir` -- ``$TINYPERF_FIRMWARE_DIR`` or ``~/.cache/tinyperf/firmware``; never the
  source tree's ``firmware_interface/build`` (other checkouts and the test suite share it);
- :func:`ad01_model_source` / :func:`kws01_model_source` -- export the verified ``.tflite`` to
  C once (the file is rewritten only when its text changes, so ``make`` does not rebuild
  needlessly);
- :func:`run_make` -- ``make -C firmware_interface BUILD=<cache> target VAR=...``; make's own
  dependency tracking is the "build if needed".

:class:`HostFirmware` starts ``tinyperf-dut --pty`` and hands out the pty path (the process
prints ``link: /dev/pts/N`` on stderr once the banner is queued); ``close()`` terminates it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from tinyperf.formats.errors import ConformanceError

SOURCE = Path(__file__).resolve().parent
ENV_FIRMWARE_DIR = "TINYPERF_FIRMWARE_DIR"
DEFAULT_CACHE = Path("~/.cache/tinyperf/firmware")
#: Runtimes both the host and the QEMU builds link (``standin``: no model, fixed outputs).
MODELS = ("ad01", "kws01", "standin")
LINK_TIMEOUT_S = 10.0
MAKE_TIMEOUT_S = 300.0


class FirmwareError(ConformanceError):
    """The firmware could not be built, started or reached."""


def cache_dir(path: str | Path | None = None) -> Path:
    """Where builds go: ``path``, else ``$TINYPERF_FIRMWARE_DIR``, else the user cache."""
    if path is None:
        path = os.environ.get(ENV_FIRMWARE_DIR) or DEFAULT_CACHE
    out = Path(path).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out


def missing_tools(*tools: str) -> list[str]:
    """The names in ``tools`` (plus ``make``) that are not on PATH."""
    return [t for t in ("make", *tools) if shutil.which(t) is None]


def _require(*tools: str) -> None:
    missing = missing_tools(*tools)
    if missing:
        raise FirmwareError(f"missing {', '.join(missing)} (apt-get install --no-install-"
                            "recommends make gcc gcc-arm-none-eabi libnewlib-arm-none-eabi "
                            "qemu-system-arm)")
    if not (SOURCE / "Makefile").is_file():
        raise FirmwareError(f"no firmware sources in {SOURCE} (use a source checkout)")


def run_make(build: Path, *targets: str, **variables: str) -> str:
    """``make -s -C firmware_interface BUILD=build targets VAR=value``; its stdout."""
    args = ["make", "-s", "-C", str(SOURCE), f"BUILD={build}", *targets]
    args += [f"{k}={v}" for k, v in variables.items()]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=MAKE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FirmwareError(f"{' '.join(args)} took over {MAKE_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        raise FirmwareError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _write_if_changed(out: Path, text: str) -> Path:
    if not out.is_file() or out.read_text() != text:
        tmp = out.with_suffix(".c.tmp")
        tmp.write_text(text)
        tmp.replace(out)
    return out


def ad01_model_source(build: Path, tflite: str | Path | None = None,
                      reference_dir: str | Path | None = None) -> Path:
    """``build/ad01_model_data.c`` from the ad01 ``.tflite`` (registry-verified unless given)."""
    from tinyperf.firmware_interface.export_fc import read_model, to_c
    from tinyperf.reference_models.registry import resolve_model_file

    path = resolve_model_file("ad01", tflite, reference_dir=reference_dir)
    return _write_if_changed(build / "ad01_model_data.c",
                             to_c(read_model(path), "ad01_model", path.name))


def kws01_model_source(build: Path, tflite: str | Path | None = None,
                       reference_dir: str | Path | None = None) -> Path:
    """``build/kws01_model_data.c`` from the kws01 ``.tflite`` (registry-verified unless given)."""
    from tinyperf.firmware_interface.export_kws import read_model, to_c
    from tinyperf.reference_models.registry import resolve_model_file

    path = resolve_model_file("kws01", tflite, reference_dir=reference_dir)
    return _write_if_changed(build / "kws01_model_data.c",
                             to_c(read_model(path), "kws01_model", path.name))


def _check_model(model: str, known: tuple[str, ...] = MODELS) -> None:
    if model not in known:
        raise FirmwareError(f"unknown firmware model {model!r} (known: {', '.join(known)})")


def build_host(model: str = "ad01", build_dir: str | Path | None = None, *,
               tflite: str | Path | None = None,
               reference_dir: str | Path | None = None) -> Path:
    """Build (if needed) the host firmware for ``model``; the executable's path."""
    _check_model(model)
    _require(os.environ.get("CC", "cc"))
    build = cache_dir(build_dir)
    if model == "ad01":
        source = ad01_model_source(build, tflite, reference_dir)
        run_make(build, "host-ad01", AD01_MODEL_C=str(source))
        return build / "host" / "tinyperf-dut-ad01"
    if model == "kws01":
        source = kws01_model_source(build, tflite, reference_dir)
        run_make(build, "host-kws01", KWS01_MODEL_C=str(source))
        return build / "host" / "tinyperf-dut-kws01"
    run_make(build, "host")
    return build / "host" / "tinyperf-dut"


class HostFirmware:
    """A running host firmware on a pty. Use as a context manager; ``url`` is the pty path."""

    def __init__(self, binary: str | Path, *args: str, timeout_s: float = LINK_TIMEOUT_S):
        self.binary = Path(binary)
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [str(self.binary), "--pty", *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self.url = self._wait_link(timeout_s)
        except BaseException:
            self.close()
            raise

    def _wait_link(self, timeout_s: float) -> str:
        assert self.proc is not None and self.proc.stderr is not None
        deadline = time.monotonic() + timeout_s
        buf = b""
        while b"\n" not in buf:
            ready, _, _ = select.select([self.proc.stderr], [], [],
                                        max(deadline - time.monotonic(), 0))
            if not ready:
                raise FirmwareError(f"{self.binary} printed no link line in {timeout_s} s")
            chunk = os.read(self.proc.stderr.fileno(), 256)
            if not chunk:
                raise FirmwareError(f"{self.binary} exited: {buf.decode(errors='replace')}")
            buf += chunk
        line = buf.split(b"\n", 1)[0].decode(errors="replace")
        if not line.startswith("link: "):
            raise FirmwareError(f"{self.binary}: unexpected first line {line!r}")
        return line[len("link: "):]

    def exit_report(self, wait_s: float = 0.0) -> str | None:
        """Why the firmware process ended by itself (a crash, an exit), or None if it still
        runs or was stopped by :meth:`close`. ``wait_s``: time for a dying process to end."""
        if self.proc is None:
            return None
        try:
            code = self.proc.wait(timeout=wait_s) if wait_s else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is None:
            return None
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the host firmware {self.binary.name} died from {name}"
        return f"the host firmware {self.binary.name} exited with code {code}"

    def close(self) -> None:
        """Terminate the process (kill after 5 s) and reap it; idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()

    def __enter__(self) -> HostFirmware:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
