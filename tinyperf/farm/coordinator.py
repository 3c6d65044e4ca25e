"""Places from a labgrid coordinator (labgrid >= 24, gRPC), through labgrid's own client API.

labgrid lives in a tool venv of its own (it pins ``pyserial-labgrid``, which replaces the
``serial`` module tinyperf uses), so each request runs :mod:`tinyperf.farm.labgrid_bridge`
with that venv's Python and reads its JSON answer. Each request has a deadline.

The farm's place model: a place's matches name ``NetworkSerialPort`` resources (the
exporter's ``RawSerialPort``/``USBSerialPort``, served by ser2net as RFC 2217 while the place
is acquired); a resource's name (or the match's rename) is its role: ``dut``, or
``interface`` and ``monitor`` for an energy bench.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tinyperf.farm.places import Place, PlaceError, Resource
from tinyperf.formats.errors import ConfigError, ConformanceError

BRIDGE = Path(__file__).with_name("labgrid_bridge.py")
#: Environment variable naming the Python of the venv that has labgrid.
PYTHON_ENV = "TINYPERF_LABGRID_PYTHON"
REQUEST_TIMEOUT_S = 30.0


class CoordinatorError(ConformanceError):
    """The coordinator could not be asked, or refused."""


def labgrid_python(explicit: str | None = None) -> str:
    """The Python that can import labgrid: the option, $TINYPERF_LABGRID_PYTHON, the venv of
    ``labgrid-client`` on PATH, or ``./.venv-farm`` (``make farm-venv``)."""
    candidates = [explicit, os.environ.get(PYTHON_ENV)]
    client = shutil.which("labgrid-client")
    if client:
        candidates.append(str(Path(client).parent / "python"))
    candidates.append(str(Path(".venv-farm") / "bin" / "python"))
    for c in candidates:
        if c and Path(c).is_file():
            return c
    raise ConfigError("no Python with labgrid found: give --labgrid-python or set "
                      f"{PYTHON_ENV}, or install the tool venv with `make farm-venv`")


def _place(data: dict[str, Any]) -> Place:
    resources = {}
    for r in data.get("resources", []):
        if r.get("cls") != "NetworkSerialPort":
            continue
        url = f"rfc2217://{r['host']}:{r['port']}" if r.get("port") else None
        resources[r["name"]] = Resource(r["name"], url, bool(r.get("avail")), r.get("exporter"))
    return Place(data["name"], {str(k): str(v) for k, v in (data.get("tags") or {}).items()},
                 resources, data.get("acquired"))


class LabgridCoordinator:
    """A :class:`~tinyperf.farm.places.PlaceSource` backed by a labgrid coordinator."""

    def __init__(self, address: str, python: str | None = None,
                 timeout_s: float = REQUEST_TIMEOUT_S):
        self.address = address
        self.python = labgrid_python(python)
        self.timeout_s = timeout_s

    def _ask(self, *argv: str) -> Any:
        cmd = [self.python, str(BRIDGE), "--coordinator", self.address, *argv]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise CoordinatorError(f"coordinator {self.address}: no answer to "
                                   f"{' '.join(argv)!r} within {self.timeout_s:.0f} s") from None
        try:
            answer = json.loads(proc.stdout or "null")
        except json.JSONDecodeError:
            answer = None
        if isinstance(answer, dict) and "error" in answer:
            raise CoordinatorError(f"coordinator {self.address}: {answer['error']}")
        if proc.returncode != 0 or answer is None:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CoordinatorError(f"coordinator {self.address}: {' '.join(argv)!r} failed "
                                   f"(exit {proc.returncode}): {tail}")
        return answer

    def places(self) -> list[Place]:
        return [_place(p) for p in self._ask("places")]

    def acquire(self, name: str) -> Place:
        try:
            place = _place(self._ask("acquire", name))
        except CoordinatorError as exc:
            raise PlaceError(name, str(exc)) from None
        missing = [r.name for r in place.resources.values() if not (r.avail and r.url)]
        if not place.resources or missing:
            self.release(name)
            what = ", ".join(missing) if missing else "no serial resource matches the place"
            raise PlaceError(name, f"not usable: {what} (exporter down or port missing?)")
        return place

    def release(self, name: str) -> None:
        self._ask("release", name)

    def check(self, name: str) -> str | None:
        try:
            found = {p.name: p for p in self.places()}
        except CoordinatorError as exc:
            return str(exc)
        place = found.get(name)
        if place is None:
            return "no longer known to the coordinator"
        gone = [r.name for r in place.resources.values() if not r.avail]
        if not place.resources:
            return "its resources are gone (exporter stopped or host down)"
        if gone:
            return f"resource(s) {', '.join(gone)} unavailable (exporter stopped or board gone)"
        return None

    def describe(self) -> str:
        return f"labgrid coordinator {self.address}"
