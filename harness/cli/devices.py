"""``tinyperf devices scan``: list serial ports and print a devices.yaml snippet to pin."""

from __future__ import annotations

import argparse
from typing import Any

from harness import devices


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("devices", help="serial port discovery")
    sub = p.add_subparsers(dest="devices_command", metavar="ACTION")
    sub.required = True
    scan = sub.add_parser("scan", help="list serial ports and print a devices.yaml snippet")
    scan.set_defaults(handler=handle_scan)


def handle_scan(args: argparse.Namespace) -> int:
    del args
    ports = devices.scan()
    if not ports:
        print("no serial ports found (give --port with a device path or socket:// URL)")
        return 0
    for p in ports:
        ids = f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None and p.pid is not None else "-"
        print(f"{p.device:24} {ids:10} {p.description}")
    print("\n# devices.yaml snippet (edit the name and baud rates, keep 'port' to pin it):")
    print(devices.snippet(ports), end="")
    return 0
