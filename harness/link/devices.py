"""MLCommons device lists (``devices_*.yaml``, spec 4.2) and serial port discovery.

Detection only suggests: ``tinyperf devices scan`` prints a snippet to pin, and an explicit
``--port`` always wins over anything found by VID:PID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from serial.tools import list_ports
from tinyperf.formats.errors import ConfigError
from tinyperf.formats.yamlfile import load_yaml

DEVICE_TYPES = ("interface", "power", "dut")
_MODE_KEYS = {"performance": "performance", "accuracy": "accuracy", "energy": "energy"}


@dataclass(frozen=True)
class DeviceEntry:
    """One entry of a device list."""

    name: str
    type: str
    baud: int | dict[str, int] | None = None
    usb: dict[int, list[int]] = field(default_factory=dict)
    usb_description: str | None = None
    preference: int = 0
    check_name: str | None = None
    voltage: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def baud_for(self, mode: str) -> int | None:
        if isinstance(self.baud, dict):
            value = self.baud.get(_MODE_KEYS.get(mode, mode))
            return int(value) if value is not None else None
        return self.baud


@dataclass(frozen=True)
class PortInfo:
    """A serial port seen on this host."""

    device: str
    vid: int | None
    pid: int | None
    description: str
    serial_number: str | None


def _usb_map(value: Any, path: Path, where: str) -> dict[int, list[int]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("usb must be a mapping {vid: pid or [pids]}", path=path, key=where)
    out: dict[int, list[int]] = {}
    for vid, pids in value.items():
        pid_list = pids if isinstance(pids, list) else [pids]
        try:
            out[int(vid)] = [int(p) for p in pid_list]
        except (TypeError, ValueError):
            raise ConfigError(f"usb ids must be integers: {vid}: {pids}", path=path,
                              key=where) from None
    return out


def load_device_list(path: Path) -> list[DeviceEntry]:
    """Read a device list with the safe YAML loader and validate every entry."""
    data = load_yaml(path, "device list")
    if not isinstance(data, list):
        raise ConfigError("a device list is a YAML list of entries", path=path)
    entries = []
    for i, item in enumerate(data):
        where = f"[{i}]"
        if not isinstance(item, dict):
            raise ConfigError("entry must be a mapping", path=path, key=where)
        kind = item.get("type")
        if kind not in DEVICE_TYPES:
            raise ConfigError(f"type must be one of {DEVICE_TYPES}, got {kind!r}", path=path,
                              key=f"{where}.type")
        baud = item.get("baud")
        if baud is not None and not isinstance(baud, (int, dict)):
            raise ConfigError("baud must be an integer or a mapping by mode", path=path,
                              key=f"{where}.baud")
        entries.append(DeviceEntry(
            name=str(item.get("name", "")), type=kind, baud=baud,
            usb=_usb_map(item.get("usb"), path, f"{where}.usb"),
            usb_description=item.get("usb_description"),
            preference=int(item.get("preference", 0) or 0), check_name=item.get("check_name"),
            voltage=item.get("voltage"), raw=dict(item)))
    return entries


def dut_entry(entries: list[DeviceEntry]) -> DeviceEntry | None:
    """The runner uses the **last** ``type: dut`` entry of the list."""
    duts = [e for e in entries if e.type == "dut"]
    return duts[-1] if duts else None


def scan() -> list[PortInfo]:
    """Serial ports on this host (pyserial ``list_ports``)."""
    return [PortInfo(p.device, p.vid, p.pid, p.description or "", p.serial_number)
            for p in sorted(list_ports.comports(), key=lambda p: p.device)]


def matches(entry: DeviceEntry, port: PortInfo) -> bool:
    if port.vid is not None and port.pid is not None and port.pid in entry.usb.get(port.vid, []):
        return True
    return bool(entry.usb_description and entry.usb_description in port.description)


def find_port(entry: DeviceEntry, ports: list[PortInfo]) -> str | None:
    """First port matching ``entry`` by VID:PID, then by description substring."""
    for port in ports:
        if matches(entry, port):
            return port.device
    return None


def snippet(ports: list[PortInfo]) -> str:
    """A devices.yaml snippet pinning what was found, for the user to edit and keep."""
    items = []
    for p in ports:
        entry: dict[str, Any] = {"name": p.description or p.device, "type": "dut",
                                 "baud": {"performance": 115200, "accuracy": 115200,
                                          "energy": 9600}}
        if p.vid is not None and p.pid is not None:
            entry["usb"] = {p.vid: p.pid}
        entry["port"] = p.device
        items.append(entry)
    return yaml.safe_dump(items, sort_keys=False)


#: interface board entry names that select a driver (spec 4.2); others: auto-detect
BOARD_NAMES = {"stm32h573i-dk": "enhanced", "arduino": "legacy"}
#: power entry names that select the monitor driver (spec 4.2)
MONITOR_NAMES = ("lpm01a", "js220", "js110")


@dataclass(frozen=True)
class EnergySetup:
    """What a device list says about an energy bench; None where it says nothing."""

    interface: str | None = None
    interface_baud: int | None = None
    board: str | None = None
    monitor: str | None = None
    monitor_baud: int | None = None
    voltage: float | None = None
    dut_baud: int | None = None
    notes: tuple[str, ...] = ()


def pick(entries: list[DeviceEntry], kind: str,
         ports: list[PortInfo]) -> tuple[DeviceEntry, str | None] | None:
    """The runner's choice among the devices of ``kind`` that are present.

    An entry is present when it names its ``port`` or a port matches its USB ids (a
    Joulescope is USB, not a serial port: present when listed). Walking the list in order,
    a later present device replaces the current one only if its preference is strictly
    higher (spec 4.2).
    """
    chosen: tuple[DeviceEntry, str | None] | None = None
    for entry in entries:
        if entry.type != kind:
            continue
        port = entry.raw.get("port") or find_port(entry, ports)
        usb_monitor = kind == "power" and entry.name.lower() in ("js220", "js110")
        if port is None and not usb_monitor:
            continue
        if chosen is None or entry.preference > chosen[0].preference:
            chosen = (entry, None if port is None else str(port))
    return chosen


def energy_setup(entries: list[DeviceEntry], ports: list[PortInfo],
                 path: Path | str = "device list") -> EnergySetup:
    """Interface board, energy monitor, voltage and DUT rate from a device list."""
    notes: list[str] = []
    interface = pick(entries, "interface", ports)
    power = pick(entries, "power", ports)
    dut = dut_entry(entries)
    board = monitor = None
    if interface is not None:
        board = BOARD_NAMES.get(interface[0].name.lower(), "auto")
        notes.append(f"interface board {interface[0].name!r} at {interface[1]}")
    if power is not None:
        entry, port = power
        family = entry.name.lower()
        if family not in MONITOR_NAMES:
            raise ConfigError(f"power entry {entry.name!r}: the name selects the monitor "
                              f"driver and must be one of {', '.join(MONITOR_NAMES)}",
                              path=path)
        serial = entry.raw.get("serial") or (port if family != "lpm01a" else None)
        monitor = f"{family}:{port}" if family == "lpm01a" else \
            (f"{family}:{serial}" if serial else family)
        notes.append(f"energy monitor {entry.name!r} ({monitor})")
    voltage = power[0].voltage if power is not None else None
    return EnergySetup(
        interface=interface[1] if interface else None,
        interface_baud=interface[0].baud_for("energy") if interface else None,
        board=board, monitor=monitor,
        monitor_baud=power[0].baud_for("energy") if power is not None else None,
        voltage=float(voltage) if voltage is not None else None,
        dut_baud=dut.baud_for("energy") if dut is not None else None,
        notes=tuple(notes))
