"""``tinyperf firmware``: build, run and size the C firmware (host build or QEMU image).

- ``build [--target host|qemu] [--model-id ad01|kws01|standin]`` -- ``make`` into the firmware cache
  (``$TINYPERF_FIRMWARE_DIR`` or ``~/.cache/tinyperf/firmware``); prints the binary's path;
- ``run --port qemu|host [--model-id ad01]`` -- starts the firmware, prints ``link: URL`` for
  ``tinyperf run --port URL`` and serves until Ctrl-C (QEMU is killed on exit);
- ``info [--target host|qemu|all]`` -- text/data/bss from ``size``; for the QEMU image also
  flash and RAM used against the linker script's regions (from the linker map).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from tinyperf.cli import options as o

TARGETS = ("host", "qemu")
_POLL_S = 0.5  # how often `firmware run` checks that the firmware is still alive
MODELS = ("ad01", "kws01", "standin")


def register(subparsers: Any) -> None:
    """Add the ``firmware`` subcommand and its actions."""
    parser = o.add_parser(
        subparsers, "firmware",
        help="build, run or size the C firmware (host build or QEMU image)",
        description="Build the C firmware (firmware_interface/), run it under QEMU or as a "
                    "host process, report its memory footprint.",
        example=("tinyperf firmware build --target qemu --model-id ad01",
                 "tinyperf firmware run --port qemu --model-id kws01",
                 "tinyperf firmware info --target all"))
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    def common(p: argparse.ArgumentParser) -> None:
        o.add_model_id(p, choices=MODELS, default="ad01", deprecated=("--model",),
                       help="runtime linked in (standin: no model needed)")
        p.add_argument("--build-dir", type=Path,
                       help="build folder (default $TINYPERF_FIRMWARE_DIR or "
                            "~/.cache/tinyperf/firmware)")
        p.add_argument("--tflite", type=Path,
                       help="the model's .tflite instead of the registry's (ad01, kws01)")

    b = o.add_parser(actions, "build", help="build (if needed) and print the binary's path",
                     example=("tinyperf firmware build --target qemu --model-id ad01",
                              "tinyperf firmware build --target host --model-id kws01 "
                              "--tflite mine.tflite"))
    b.add_argument("--target", choices=TARGETS, default="qemu")
    common(b)
    b.set_defaults(handler=handle_build)

    r = o.add_parser(actions, "run", help="start the firmware and print the link to use",
                     example=("tinyperf firmware run --port qemu --model-id ad01",
                              "tinyperf firmware run --port host://standin --duration 60"))
    r.add_argument("--port", default="qemu",
                   help="qemu, host, or a link spec (qemu://ad01, host://standin, "
                        "qemu:///path/fw.elf)")
    common(r)
    r.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds (default: until Ctrl-C)")
    r.set_defaults(handler=handle_run)

    i = o.add_parser(actions, "info", help="memory footprint (size + linker map)",
                     example=("tinyperf firmware info --target qemu --model-id kws01",
                              "tinyperf firmware info --json"))
    i.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    common(i)
    i.set_defaults(handler=handle_info)


def _build(target: str, args: argparse.Namespace) -> Path:
    if target == "host":
        from tinyperf.firmware_interface.host import build_host

        return build_host(args.model_id, args.build_dir, tflite=args.tflite)
    from tinyperf.firmware_interface.qemu import build_qemu

    return build_qemu(args.model_id, args.build_dir, tflite=args.tflite)


def handle_build(args: argparse.Namespace) -> int:
    print(_build(args.target, args))
    return 0


def _spec(args: argparse.Namespace) -> str:
    port = args.port
    if port in TARGETS:
        return f"{port}://{args.model_id}"
    return port


def handle_run(args: argparse.Namespace) -> int:
    """Start the firmware, print its link, serve until SIGINT/SIGTERM (or --duration)."""
    from tinyperf.firmware_interface.links import is_firmware_link, open_firmware_link

    spec = _spec(args)
    if not is_firmware_link(spec):
        from tinyperf.formats.errors import ConfigError

        raise ConfigError(f"--port must be qemu, host or a qemu://, host:// link, not {spec!r}")
    if args.tflite is not None:  # a custom model: build it, then run that image
        spec = f"{spec.split(':', 1)[0]}://{_build(spec.split(':', 1)[0], args)}"
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        fw = open_firmware_link(spec, build_dir=args.build_dir)
        try:
            print(f"link: {fw.url}", flush=True)
            print(f"serving {spec} (Ctrl-C to stop); use: tinyperf run --port {fw.url}",
                  flush=True)
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while not stop.wait(_POLL_S if deadline is None
                                else max(0.0, min(_POLL_S, deadline - time.monotonic()))):
                report = fw.exit_report()
                if report:  # the firmware died: say so instead of serving a dead link
                    print(f"tinyperf firmware run: {report}", file=sys.stderr, flush=True)
                    return 1
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            fw.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def footprint_of(target: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build if needed and measure one target."""
    from tinyperf.firmware_interface.qemu import ARM_SIZE, footprint

    binary = _build(target, args)
    if target == "host":
        out = footprint(binary, size_tool="size")
    else:
        out = footprint(binary, size_tool=ARM_SIZE, map_path=binary.with_suffix(".map"))
    return {"target": target, "model": args.model_id, **out}


def _kib(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:.1f} KiB"


def _pct(used: int, size: int | None) -> str:
    return "" if not size else f" ({100 * used / size:.1f}% of {_kib(size)})"


def handle_info(args: argparse.Namespace) -> int:
    targets = TARGETS if args.target == "all" else (args.target,)
    rows = [footprint_of(t, args) for t in targets]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['target']} ({r['model']}): {r['binary']}")
        print(f"  text {r['text']}  data {r['data']}  bss {r['bss']}  (bytes, size)")
        print(f"  flash used {r['flash_used']} B = {_kib(r['flash_used'])}"
              f"{_pct(r['flash_used'], r['flash_size'])}")
        print(f"  RAM used   {r['ram_used']} B = {_kib(r['ram_used'])}"
              f"{_pct(r['ram_used'], r['ram_size'])}")
        if r.get("stack_reserved") is not None:
            total = r["ram_used"] + r["stack_reserved"]
            print(f"  RAM with the {_kib(r['stack_reserved'])} stack reserve: {total} B"
                  f"{_pct(total, r['ram_size'])}")
        if r["target"] == "host":
            print("  (host build: no linker-script regions; sizes are for comparison only)")
    return 0
