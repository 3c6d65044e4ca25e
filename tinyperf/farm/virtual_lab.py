"""A whole board farm on this machine: a labgrid coordinator, exporters, virtual boards.

Real parts only: ``labgrid-coordinator``, one ``labgrid-exporter`` per "host" exporting the
virtual DUTs' ptys as ``RawSerialPort`` (served by ser2net as RFC 2217 while a place is
acquired), ``tinyperf sim`` DUTs and energy benches on real ptys, places made with
``labgrid-client``. Used by the farm tests and ``benchmarks/farm_scaling.py``; every process
is stopped by :meth:`VirtualLab.close` (a context manager), also on errors.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinyperf.formats.errors import ConformanceError

START_TIMEOUT_S = 60.0
#: line rate of each resource's port (the LPM01A streams at 3.6864 Mbit/s)
SPEEDS = {"monitor": 3686400}


class LabError(ConformanceError):
    """A part of the virtual lab did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_lines(proc: subprocess.Popen[bytes], wanted: tuple[str, ...], deadline: float
                ) -> dict[str, str]:
    """Read ``key: value`` lines from ``proc`` until every ``wanted`` key was printed."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    found: dict[str, str] = {}
    pending = b""
    while set(wanted) - set(found):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            raise LabError(f"{proc.args!r} did not print {sorted(set(wanted) - set(found))} "
                           f"(exit {proc.poll()})")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:  # raw reads: a buffered readline would hide lines from select
            pending += os.read(fd, 4096)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                key, _, value = line.decode(errors="replace").partition(": ")
                if key in wanted and key not in found:
                    found[key] = value.strip()
    return found


@dataclass
class Board:
    """A virtual board (DUT or energy bench) and the exporter group that shows it."""

    name: str
    host: str
    tags: dict[str, str]
    ports: dict[str, str]  # resource name -> pty path
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class VirtualLab:
    """Start with :meth:`start`; ``address`` is the coordinator's ``HOST:PORT``."""

    workdir: Path
    labgrid_bin: Path
    boards: list[Board] = field(default_factory=list)
    address: str = ""
    exporters: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    _coordinator: subprocess.Popen[bytes] | None = None

    # -- boards ---------------------------------------------------------------------------

    def add_dut(self, name: str, host: str, model: str, *, baud: int = 0,
                extra: tuple[str, ...] = ()) -> Board:
        """A virtual DUT running ``model`` on a pty, shown as resource ``dut``."""
        proc = self._spawn_sim(["--model-id", model, "--baud", str(baud), *extra])
        link = _wait_lines(proc, ("link",), time.monotonic() + START_TIMEOUT_S)["link"]
        bench = re.sub(r"\d+$", "", model)
        board = Board(name, host, {"bench": bench, "model": model}, {"dut": link}, proc)
        self.boards.append(board)
        return board

    def add_energy_bench(self, name: str, host: str, model: str = "kws01", *,
                         throughput: float = 23.0, simulated_time: bool = False) -> Board:
        """A virtual energy bench (interface board + LPM01A + DUT), resources
        ``interface`` and ``monitor``."""
        args = ["--energy-rig", "--model-id", model, "--throughput", str(throughput)]
        proc = self._spawn_sim(args + (["--simulated-time"] if simulated_time else []))
        got = _wait_lines(proc, ("interface", "monitor"), time.monotonic() + START_TIMEOUT_S)
        monitor = got["monitor"].split(":", 1)[-1]  # "lpm01a:/dev/pts/N"
        board = Board(name, host, {"bench": "energy", "model": model},
                      {"interface": got["interface"], "monitor": monitor}, proc)
        self.boards.append(board)
        return board

    def _spawn_sim(self, args: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "tinyperf", "sim", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self._procs.append(proc)
        return proc

    # -- labgrid --------------------------------------------------------------------------

    def _bin(self, name: str) -> str:
        return str(self.labgrid_bin / name)

    def start_coordinator(self) -> str:
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        self._coordinator = subprocess.Popen(
            [self._bin("labgrid-coordinator"), "-l", self.address], cwd=self.workdir,
            stdout=subprocess.DEVNULL, stderr=open(self.workdir / "coordinator.log", "wb"),
            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self.address
            except OSError:
                if time.monotonic() > deadline or self._coordinator.poll() is not None:
                    raise LabError("labgrid-coordinator did not start") from None
                time.sleep(0.1)

    def exporter_config(self, host: str) -> Path:
        """The exporter config of ``host``: one group per board, RawSerialPort resources."""
        config = {b.name: {role: {"cls": "RawSerialPort", "port": pty,
                                  "speed": SPEEDS.get(role, 115200)}
                           for role, pty in b.ports.items()}
                  for b in self.boards if b.host == host}
        path = self.workdir / f"exporter-{host}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    def start_exporter(self, host: str) -> None:
        """Start (or restart) the exporter of ``host``; it starts ser2net per resource."""
        config = self.exporter_config(host)
        log = open(self.workdir / f"exporter-{host}.log", "ab")
        # its own process group: stopping the "host" also stops the ser2net it started
        self.exporters[host] = subprocess.Popen(
            [self._bin("labgrid-exporter"), "-c", self.address, "-n", host,
             "--hostname", "127.0.0.1", str(config)], cwd=self.workdir,
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)

    def kill_exporter(self, host: str) -> None:
        """The host goes away: its exporter and its ser2net processes are killed."""
        proc = self.exporters.pop(host)
        _kill_group(proc)

    def client(self, *args: str) -> None:
        cmd = [self._bin("labgrid-client"), "-x", self.address, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode != 0:
            raise LabError(f"{' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")

    def create_places(self) -> None:
        """One place per board, matching its group's serial ports, tagged with its bench."""
        for b in self.boards:
            self.client("-p", b.name, "create")
            self.client("-p", b.name, "add-match", f"{b.host}/{b.name}/NetworkSerialPort/*")
            self.client("-p", b.name, "set-tags", *(f"{k}={v}" for k, v in b.tags.items()))

    def wait_resources(self, python: str, hosts: tuple[str, ...] | None = None) -> None:
        """Until the coordinator lists every board's resources (exporters registered)."""
        from tinyperf.farm.coordinator import CoordinatorError, LabgridCoordinator

        coordinator = LabgridCoordinator(self.address, python=python)
        wanted = {b.name: set(b.ports) for b in self.boards if hosts is None or b.host in hosts}
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                seen = {p.name: {r for r, v in p.resources.items() if v.avail}
                        for p in coordinator.places()}
            except CoordinatorError:
                seen = {}
            if all(seen.get(n, set()) >= roles for n, roles in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise LabError(f"exporters did not register in time; seen {seen}")
            time.sleep(0.3)

    def place_file(self) -> Path:
        """The same boards as a ``--place-file`` (direct ptys, no coordinator)."""
        doc = {"places": {b.name: {"tags": b.tags, **b.ports} for b in self.boards}}
        path = self.workdir / "places.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        for host in list(self.exporters):
            self.kill_exporter(host)
        if self._coordinator is not None:
            _kill_group(self._coordinator)
            self._coordinator = None
        for proc in self._procs:
            _kill_group(proc, signal.SIGTERM)
            if proc.stdout is not None:
                proc.stdout.close()
        self._procs.clear()

    def __enter__(self) -> VirtualLab:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _kill_group(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
