"""Exception tree of tinyperf: one root, shallow, every class carries the data that explains it.

Exceptions mean the tool could not do its job. A rule violation or an invalid run is data
(a finding, a validity record), not an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class ConformanceError(Exception):
    """Root of every error tinyperf raises on purpose."""


class ConfigError(ConformanceError):
    """A configuration file or option is wrong. Names the file and the key."""

    def __init__(self, message: str, path: str | Path | None = None, key: str | None = None):
        self.path = str(path) if path is not None else None
        self.key = key
        where = ""
        if self.path:
            where = f"{self.path}: "
        if key:
            where += f"[{key}] "
        super().__init__(f"{where}{message}")


class DatasetError(ConformanceError):
    """A dataset file (label file, .bin input) is missing or malformed."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        where = self.path or ""
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}" if where else message)


class ModelError(ConformanceError):
    """A model file is missing, fails its checksum, or cannot be loaded."""


class TransportError(ConformanceError):
    """The link to a device could not be opened, read or written."""

    def __init__(self, message: str, url: str | None = None):
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class DutTimeout(ConformanceError):
    """The DUT did not answer in time. Carries the command and what had arrived so far."""

    def __init__(self, command: str, waited_s: float, lines: Sequence[str] = ()):
        self.command = command
        self.waited_s = waited_s
        self.lines = list(lines)
        got = f"; got {len(self.lines)} line(s), last: {self.lines[-1]!r}" if self.lines else ""
        super().__init__(f"no 'm-ready' from the DUT within {waited_s:.1f} s after {command!r}{got}")


class DutProtocolError(ConformanceError):
    """The DUT sent something the protocol does not allow here."""

    def __init__(self, message: str, line: str | None = None, expected: str | None = None):
        self.line = line
        self.expected = expected
        detail = message
        if expected:
            detail += f" (expected {expected})"
        if line is not None:
            detail += f": {line!r}"
        super().__init__(detail)


class DutStopped(ConformanceError):
    """The DUT firmware stopped running (crashed, faulted or exited) during a session.

    Raised instead of the timeout or link error it caused, with the firmware's own account
    (QEMU semihosting exit status and fault line, a host process's signal)."""

    def __init__(self, cause: ConformanceError, report: str):
        self.cause = cause
        self.report = report
        super().__init__(f"{report} (the harness saw: {cause})")


class DutErrorReply(ConformanceError):
    """The DUT answered a command with an ``e-[...]`` error line."""

    def __init__(self, command: str, line: str):
        self.command = command
        self.line = line
        super().__init__(f"DUT rejected {command!r}: {line}")


class SessionError(ConformanceError):
    """A session folder cannot be written, read or resumed."""

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)
