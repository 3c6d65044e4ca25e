"""``tinyperf sim``: serve a virtual DUT on a pty and/or TCP socket until interrupted.

Prints one ``link: <url>`` line per endpoint so scripts can grep the address to pass to
``tinyperf run --port``.

``--energy-rig`` serves a whole virtual energy bench instead: an energy-build DUT behind a
fake interface board (enhanced or legacy Arduino, ``--board-kind``) and a fake LPM01A that
powers it, both on ptys; it prints ``interface:``, ``monitor:`` and the analytic truth, so
``tinyperf run --mode energy`` can be tried from the shell with no hardware.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from tinyperf.cli import options as o

log = logging.getLogger(__name__)


EXAMPLE = (
    "tinyperf sim --model-id kws01",
    "tinyperf sim --model-id ad01 --socket 5555 --no-pty --throughput 99.5",
    "tinyperf sim --energy-rig --model-id kws01 --board-kind legacy --simulated-time",
)



@contextlib.contextmanager
def stop_on_signal() -> Iterator[threading.Event]:
    """An event set by SIGINT/SIGTERM while the block runs (the serving loops wait on it);
    the previous handlers are restored on the way out."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(subparsers: Any) -> None:
    """Add the ``sim`` subcommand."""
    parser = o.add_parser(
        subparsers, "sim",
        help="serve a virtual DUT (pty or socket) running the reference model",
        description="Serve a virtual MLPerf Tiny DUT that runs the real .tflite model.",
        example=EXAMPLE)
    o.add_model_id(parser, choices=(*o.BENCHMARK_MODELS, "ic01", "vww01", "sww01"),
                   default="kws01",
                   help="model the virtual DUT runs (sww01: a whole streaming bench, "
                        "interface board + DUT, with --energy-rig also an LPM01A)")
    parser.add_argument("--tflite", metavar="PATH", help="model file instead of the registry's")
    parser.add_argument("--throughput", type=float, default=None, metavar="INF_PER_S",
                        help="simulated inferences per second (default: kws01/ad01 23.0, "
                             "ic01 4.89, vww01 8.16)")
    parser.add_argument("--engine", default="auto",
                        choices=("auto", "tflm", "litert-ref", "litert-builtin", "xnnpack"),
                        help="runtime of the model (auto: TFLite Micro, as reference devices, "
                             "when installed, else the LiteRT resolver closest to it: "
                             "builtin kernels for ad01, BUILTIN_REF for the others)")
    parser.add_argument("--latency-us", type=float, default=None,
                        help="simulated µs per inference (overrides --throughput)")
    parser.add_argument("--jitter-us", type=float, default=0.0,
                        help="std of the gaussian jitter of each inference (µs)")
    parser.add_argument("--slow-probability", type=float, default=0.0, metavar="P",
                        help="probability that an inference is slow (default 0)")
    parser.add_argument("--slow-factor", type=float, default=10.0, metavar="F",
                        help="a slow inference takes F x the latency (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baud", type=int, default=115200, help="0 disables wire-time emulation")
    parser.add_argument("--socket", nargs="?", const=0, type=int, default=None, metavar="PORT",
                        help="also serve socket://127.0.0.1:PORT (0 or no value: any free port)")
    parser.add_argument("--no-pty", action="store_true", help="serve the socket only")
    parser.add_argument("--vendor", default=None,
                        help="vendor string the DUT reports (default 'unspecified')")
    parser.add_argument("--energy", action="store_true",
                        help="energy build: timestamps are (logged) GPIO pulses, no m-lap-us")
    parser.add_argument("--realtime", type=float, default=0.0,
                        help="sleep this fraction of the simulated inference time")
    parser.add_argument("--faults", metavar="YAML", help="fault injection plan")
    parser.add_argument("--no-fast-load", action="store_true",
                        help="answer 'fl' as the standard firmware does (unknown command): "
                             "no fast load offered (docs/fast_load.md)")
    rig = parser.add_argument_group("virtual energy bench (--energy-rig)")
    rig.add_argument("--energy-rig", action="store_true",
                     help="serve interface board + LPM01A + DUT: a whole energy bench")
    o.add_board_kind(rig, choices=("enhanced", "legacy"), default="enhanced",
                     help="interface board to emulate: enhanced (the STM32H573I-DK, default) "
                          "or legacy (the EEMBC Arduino IO manager)")
    rig.add_argument("--idle-ma", type=float, default=2.0, help="DUT idle current (mA)")
    rig.add_argument("--active-ma", type=float, default=10.0,
                     help="DUT current while inferring (mA)")
    sww = parser.add_argument_group("virtual sww01 bench (--model-id sww01)")
    sww.add_argument("--sd-card", metavar="DIR",
                     help="folder of 2-channel 16 kHz 16-bit WAVs the board's 'play' reads "
                          "(e.g. the one 'tinyperf data demo' writes)")
    sww.add_argument("--processing-ms", type=float, default=18.0,
                     help="time the DUT is busy per 32 ms audio block (18: duty cycle "
                          "0.5625, as the reference L4R5)")
    rig.add_argument("--simulated-time", action="store_true",
                     help="the DUT clock advances only with simulated work (fast and "
                          "deterministic) instead of following the wall clock")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start the server, print its links, serve until SIGINT/SIGTERM."""
    from tinyperf.firmware_interface.sim.faults import load_faults
    from tinyperf.firmware_interface.sim.model import make_virtual_dut
    from tinyperf.firmware_interface.sim.server import SimServer
    from tinyperf.formats import protocol as p

    if args.vendor is None:
        args.vendor = p.DEFAULT_VENDOR
    if args.model_id == "sww01":
        return run_sww_bench(args)
    if args.energy_rig:
        return run_energy_rig(args)
    if args.no_pty and args.socket is None:
        args.socket = 0

    def on_timestamp(us: int) -> None:
        log.info("timestamp pulse at DUT time %d us", us)

    dut = make_virtual_dut(
        args.model_id,
        tflite=args.tflite,
        vendor=args.vendor,
        energy=args.energy,
        throughput=args.throughput,
        latency_us=args.latency_us,
        jitter_us=args.jitter_us,
        slow_probability=args.slow_probability,
        slow_factor=args.slow_factor,
        seed=args.seed,
        on_timestamp=on_timestamp if args.energy else None,
        engine=args.engine,
        fast_load=not args.no_fast_load,
    )
    faults = load_faults(args.faults) if args.faults else []
    with stop_on_signal() as stop:
        with SimServer(dut, pty=not args.no_pty, socket_port=args.socket,
                       baud=args.baud or None, realtime=args.realtime, faults=faults) as server:
            if server.pty_path:
                print(f"link: {server.pty_path}", flush=True)
            if server.socket_url:
                print(f"link: {server.socket_url}", flush=True)
            engine = getattr(dut.infer_fn, "engine", None) or "custom"
            print(f"engine: {engine}", flush=True)
            print(f"serving {args.model_id} (Ctrl-C to stop)", flush=True)
            while not stop.wait(0.5):
                if server.error is not None:
                    raise server.error
    return 0


def run_energy_rig(args: argparse.Namespace) -> int:
    """Serve :func:`tinyperf.firmware_interface.sim.energy_rig.virtual_energy_rig` until stopped."""
    from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
    from tinyperf.formats.errors import ConfigError

    if args.socket is not None or args.no_pty or args.faults:
        raise ConfigError("--energy-rig serves ptys only (no --socket, --no-pty, --faults)")
    if args.latency_us is not None:
        raise ConfigError("--energy-rig takes --throughput, not --latency-us")
    from tinyperf.firmware_interface.sim.model import default_throughput

    throughput = args.throughput or default_throughput(args.model_id)
    with stop_on_signal() as stop:
        with virtual_energy_rig(args.model_id, throughput=throughput,
                                idle_a=args.idle_ma * 1e-3, active_a=args.active_ma * 1e-3,
                                tflite=args.tflite, vendor=args.vendor, board=args.board,
                                follow_wall=not args.simulated_time) as rig:
            charge_uc = rig.truth_uj_per_inference / rig.power.voltage
            print(f"interface: {rig.interface_url}", flush=True)
            print(f"monitor: {rig.monitor}", flush=True)
            print(f"truth: {charge_uc:.6f} uC per inference x supply voltage "
                  f"(= {charge_uc * 1.8:.4f} uJ/inf at 1.8 V), {throughput:g} inf/s", flush=True)
            print(f"use: tinyperf run --mode energy --interface {rig.interface_url} "
                  f"--monitor {rig.monitor} --voltage 1.8 --dataset-path DIR", flush=True)
            print(f"serving a {args.board} board, an LPM01A and a {args.model_id} DUT "
                  "(Ctrl-C to stop)", flush=True)
            while not stop.wait(0.5):
                pass
    return 0


def run_sww_bench(args: argparse.Namespace) -> int:
    """Serve the virtual sww01 bench (board + DUT, and an LPM01A with --energy-rig)."""
    from pathlib import Path

    from tinyperf.firmware_interface.sim.energy_rig import virtual_sww_bench
    from tinyperf.formats.errors import ConfigError

    if args.socket is not None or args.no_pty or args.faults:
        raise ConfigError("the sww01 bench serves ptys only (no --socket, --no-pty, --faults)")
    if not args.sd_card or not Path(args.sd_card).is_dir():
        raise ConfigError("the sww01 bench needs --sd-card DIR: a folder with the stream WAVs "
                          "(tinyperf data demo writes one)", key="sd-card")
    processing_us = round(args.processing_ms * 1000)
    if not 0 < processing_us < 32_000:
        raise ConfigError("--processing-ms must be between 0 and 32 (one audio block)")
    with stop_on_signal() as stop:
        with virtual_sww_bench(args.sd_card, energy=args.energy_rig,
                               processing_us=processing_us, idle_a=args.idle_ma * 1e-3,
                               active_a=args.active_ma * 1e-3, tflite=args.tflite,
                               vendor=args.vendor, realtime=not args.simulated_time) as bench:
            print(f"interface: {bench.interface_url}", flush=True)
            mode = "performance"
            extra = ""
            if bench.monitor:
                print(f"monitor: {bench.monitor}", flush=True)
                mode, extra = "energy", f" --monitor {bench.monitor} --voltage 1.8"
                duty = processing_us / 32_000
                mw = 1.8 * (args.idle_ma + (args.active_ma - args.idle_ma) * duty)
                print(f"truth: {mw:.4f} mW average while streaming at 1.8 V (idle "
                      f"{args.idle_ma:g} mA, {args.active_ma:g} mA for {args.processing_ms:g} "
                      "ms of every 32 ms block)", flush=True)
            print(f"use: tinyperf run --mode {mode} --interface {bench.interface_url}{extra} "
                  "--test-script TESTS.yaml --dataset-path DIR", flush=True)
            print(f"serving an sww01 bench, SD card {args.sd_card} "
                  f"({'simulated time' if args.simulated_time else 'real time'}; Ctrl-C to "
                  "stop)", flush=True)
            while not stop.wait(0.5):
                pass
    return 0
