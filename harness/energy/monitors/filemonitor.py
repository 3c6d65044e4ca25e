"""Capture files as monitors: a reader per format (chosen by name, not if/elif), and
``FileMonitor`` for ``--monitor file:PATH`` (a capture recorded by another tool during the
run; it has no notion of the host's infer spans, so windows are paired in order).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinyperf.harness.energy.capture import Capture
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.integrate import Accuracy

from . import register
from .eembc import read_eembc_trace
from .energytrace import read_energytrace_csv
from .jls import read_jls
from .jscsv import read_joulescope_csv
from .ppk2 import is_ppk2_header, read_ppk2_csv

Reader = Callable[..., Capture]
READERS: dict[str, Reader] = {"jls": read_jls, "energytrace": read_energytrace_csv,
                              "jscsv": read_joulescope_csv, "eembc": read_eembc_trace,
                              "ppk2": read_ppk2_csv}
#: Formats whose reader takes the supply voltage (current-only or optional voltage).
VOLTAGE_FORMATS = ("jls", "ppk2")


def guess_format(path: Path) -> str:
    """The reader name for ``path`` from its suffix and first bytes."""
    if path.suffix.lower() == ".jls":
        return "jls"
    if path.suffix.lower() == ".bin":
        return "eembc"
    try:
        head = path.read_bytes()[:200].decode("utf-8", "replace").lower()
    except OSError as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    if is_ppk2_header(head.splitlines()[0] if head else ""):
        return "ppk2"
    if "(ns)" in head or "time_ns" in head or "energy (uj)" in head:
        return "energytrace"
    return "jscsv"


def read_capture(path: str | Path, fmt: str = "auto", **options: Any) -> Capture:
    path = Path(path)
    if not path.is_file():
        raise CaptureFileError("no such file", path)
    fmt = guess_format(path) if fmt == "auto" else fmt
    if fmt not in READERS:
        raise CaptureFileError(f"unknown capture format {fmt!r} (known: {', '.join(READERS)})",
                               path)
    return READERS[fmt](path, **options)


class FileMonitor:
    """An ``EnergyMonitor`` whose capture is a file written by another tool."""

    name = "file"

    def __init__(self, path: str, fmt: str = "auto", accuracy: Accuracy | None = None,
                 **options: Any):
        self.path = Path(path)
        self.fmt = fmt
        self.options = options
        self.accuracy = accuracy or Accuracy()
        self.voltage: float | None = None

    def configure(self, voltage: float) -> None:
        self.voltage = voltage  # used by readers that need it (the file may not exist yet)

    def power(self, on: bool) -> None:
        """The file's recorder supplies the DUT, not us."""

    def start(self) -> None:
        """Nothing to start: the capture is recorded elsewhere."""

    def mark(self) -> float:
        return float("nan")

    def sync(self, edges: int | None = None) -> float:  # noqa: ARG002
        return float("nan")

    def stop(self) -> Capture:
        if not self.path.is_file():
            raise CaptureFileError("no such file", self.path)
        fmt = guess_format(self.path) if self.fmt == "auto" else self.fmt
        options = dict(self.options)
        if fmt in VOLTAGE_FORMATS and self.voltage is not None:
            options.setdefault("voltage", self.voltage)
        return read_capture(self.path, fmt, **options)

    def close(self) -> None:
        """Nothing held open."""


register("file", lambda arg, options: FileMonitor(arg, **options))
