"""``tinyperf devices scan``: list serial ports and print a devices.yaml snippet to pin."""

from __future__ import annotations

import argparse
from typing import Any

from tinyperf.cli import options as o


def register(subparsers: Any) -> None:
    p = o.add_parser(subparsers, "devices", help="serial port discovery",
                     example=("tinyperf devices scan",))
    sub = p.add_subparsers(dest="devices_command", metavar="ACTION")
    sub.required = True
    scan = o.add_parser(sub, "scan", help="list serial ports and print a devices.yaml snippet",
                        example=("tinyperf devices scan",
                                 "tinyperf run --device-list devices.yaml --mode performance"
                                 "   # the snippet, saved"))
    scan.set_defaults(handler=handle_scan)


def handle_scan(args: argparse.Namespace) -> int:
    from tinyperf.harness.link import devices

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
