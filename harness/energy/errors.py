"""Errors of the energy package: a monitor or a capture file could not do its job."""

from __future__ import annotations

from pathlib import Path

from tinyperf.formats.errors import ConformanceError


class MonitorError(ConformanceError):
    """An energy monitor did not answer, answered wrongly, or is not available."""

    def __init__(self, message: str, monitor: str | None = None, line: str | None = None):
        self.monitor = monitor
        self.line = line
        text = f"{monitor}: {message}" if monitor else message
        if line is not None:
            text += f": {line!r}"
        super().__init__(text)


class CaptureFileError(MonitorError):
    """A capture file (JLS, CSV, EEMBC trace) is missing, truncated or malformed."""

    def __init__(self, message: str, path: str | Path):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")
