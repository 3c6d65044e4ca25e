"""``tinyperf run``: a performance or accuracy run against a DUT, or ``--resume`` one.

The MLCommons runner's spellings are accepted as they are (``-s/--dataset_path``,
``-m a|p|e``, ``-d/--device_list``, ``-y/--device_yaml``, ``-t/--test_script``), so a
runner command line can be pasted after ``tinyperf run``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyperf.cli import options as o

if TYPE_CHECKING:
    from tinyperf.harness.run.runner import RunResult

_MODE_ALIASES = {"p": "performance", "a": "accuracy", "e": "energy", "l": "latency",
                 "performance": "performance", "accuracy": "accuracy", "energy": "energy",
                 "latency": "latency"}

EXAMPLE = (
    "tinyperf run --port /dev/ttyACM0 --mode performance --dataset-path datasets",
    "tinyperf run --port socket://127.0.0.1:5555 -m a --dataset-path datasets",
    "tinyperf run --mode energy --interface /dev/ttyACM1 --monitor lpm01a:/dev/ttyACM2 "
    "--dataset-path datasets",
    "tinyperf run --resume sessions/20260101_120000",
    "# an MLCommons runner command line, pasted after `tinyperf run`:",
    "tinyperf run --dataset_path=datasets --test_script=tests_performance.yaml "
    "--device_list=devices_kws_ic_vww.yaml --mode=p",
)


def register(subparsers: Any) -> None:
    p = o.add_parser(
        subparsers, "run", help="run performance, accuracy or energy against a DUT",
        description="Run an MLPerf Tiny mode against a DUT and write an MLCommons session "
                    "folder (log.txt, results.txt, results.json). The MLCommons runner's "
                    "spellings work too: -s/--dataset_path, -m a|p|e, -d/--device_list, "
                    "-y/--device_yaml, -t/--test_script.",
        example=EXAMPLE)
    p.add_argument("--port", help="device path or pyserial URL (socket://, rfc2217://); "
                                  "wins over anything found through --device-list")
    p.add_argument("--baud", type=int, help="DUT baud rate (default: device list, else 115200)")
    p.add_argument("-m", "--mode", default="accuracy", choices=sorted(_MODE_ALIASES),
                   metavar="MODE",
                   help="performance/p, accuracy/a, energy/e, or latency/l (beyond MLPerf: "
                        "per-inference latency percentiles; default accuracy, as the "
                        "reference)")
    o.add_dataset_path(p, "-s", compat=("--dataset_path",), default=Path("datasets"),
                       help="folder holding <model>/y_labels.csv and the .bin inputs "
                            "(default ./datasets)")
    o.add_option(p, "-d", "--device-list", compat=("--device_list",), type=Path,
                 metavar="YAML", help="MLCommons devices.yaml")
    o.add_option(p, "-y", "--device-yaml", compat=("--device_yaml",), metavar="TEXT",
                 help="the device list as YAML text instead of a file (as the runner's -y)")
    o.add_option(p, "-t", "--test-script", compat=("--test_script",), type=Path,
                 metavar="YAML",
                 help="MLCommons tests_*.yaml (default: the reference script for the mode)")
    o.add_output_dir(p, default=Path("sessions"),
                     help="parent folder of the session folders (default ./sessions)")
    p.add_argument("--iterations", help="override N of every infer step, or 'auto' to size "
                                        "windows to ~11 s of DUT time (performance, energy; "
                                        "the default without a test script); "
                                        "latency mode: number of inferences (1000)")
    p.add_argument("--warmups", type=o.count_arg("--warmups", 0),
                   help="override W of every infer step")
    p.add_argument("--resume", type=Path, metavar="SESSION_DIR",
                   help="continue a killed run in SESSION_DIR")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per command (5)")
    p.add_argument("--infer-timeout", type=float, default=None,
                   help="seconds for one infer command (default: from the DUT's own "
                        "per-inference time, at most 2x the expected window; 20 s + 1 s per "
                        "inference before the first reply)")
    p.add_argument("--cmd-buffer", type=o.count_arg("--cmd-buffer", MIN_CMD_BUFFER), default=80,
                   help="the DUT's command buffer in chars (80 standard; db chunks fill it)")
    p.add_argument("--verify-results", action="store_true",
                   help="after each window, have the DUT re-print its results ('results') "
                        "and run the window again if they differ (catches a damaged "
                        "m-results line; one more round trip per window)")
    p.add_argument("--fast-load", choices=("auto", "off"), default="auto",
                   help="auto (default): load inputs with tinyperf's binary 'fl' commands "
                        "when the DUT offers them (tinyperf firmware, virtual DUT; CRC-checked, "
                        "same results); off: the standard hex 'db' protocol only. Never in "
                        "energy mode")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--model-id", metavar="MODEL",
                   help="the model the DUT must report (e.g. sww01); refused if it reports "
                        "another (default: whatever it reports)")
    p.add_argument("--sww-window", choices=("code", "readme"), default="code",
                   help="sww01 truth-window rule: code = [start, end + 2.0 s] as the "
                        "MLCommons runner's code scores (default), readme = [start, end + "
                        "1.0 s] as its README states")
    e = p.add_argument_group("energy mode")
    e.add_argument("--interface", help="interface board port (energy mode; sww01 in every "
                                       "mode: the DUT is reached through it)")
    e.add_argument("--monitor", help="lpm01a:PORT, js220[:SERIAL], js110[:SERIAL] or file:PATH")
    e.add_argument("--voltage", type=float, default=None,
                   help="DUT supply voltage (default: the device list's power entry, else 1.8)")
    e.add_argument("--dut-baud", type=int, help="board-to-DUT rate; setbaud only if different")
    e.add_argument("--edge", choices=("falling", "rising"), default="falling",
                   help="timestamp edge polarity that delimits windows (falling)")
    o.add_board_kind(e, choices=("auto", "enhanced", "legacy"), default=None,
                     help="interface board: the STM32H573I-DK (enhanced), the EEMBC Arduino "
                          "IO manager (legacy), or auto-detect from its replies (default)")
    p.set_defaults(handler=handle)


def _device_yaml_file(text: str) -> Path:
    """``-y TEXT`` (the runner's raw YAML) in a temporary file, read like ``--device-list``."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="tinyperf-devices-",
                                     delete=False) as f:
        f.write(text)
    return Path(f.name)


#: the longest fixed command (``db load NNNNN%``, ``infer N W%``) must fit the DUT's buffer
MIN_CMD_BUFFER = 20


def _iterations(value: str | None) -> int | str | None:
    from tinyperf.formats.errors import ConfigError
    from tinyperf.harness.run.scenarios import MAX_COUNT

    if value is None or value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"--iterations must be a number or 'auto', got {value!r}") from None
    if n < 1:
        raise ConfigError("--iterations must be at least 1")
    if n > MAX_COUNT:
        raise ConfigError(f"--iterations {value[:20]}{'...' if len(value) > 20 else ''} is "
                          f"more than the firmware's 32-bit int can hold ({MAX_COUNT}); it "
                          "parses N with atoi (use --iterations auto for ~11 s windows)")
    return n


def resolve_link(args: argparse.Namespace, mode: str) -> tuple[str, int]:
    """Port and baud from the flags, else from the device list (last dut entry)."""
    from tinyperf.formats.errors import ConfigError
    from tinyperf.harness.link import devices

    port, baud = args.port, args.baud
    source: Path | None = args.device_list
    if getattr(args, "device_yaml", None) is not None:  # the runner's -y: YAML text
        source = _device_yaml_file(args.device_yaml)
    if source is not None:
        try:
            entry = devices.dut_entry(devices.load_device_list(source))
        finally:
            if source != args.device_list:
                source.unlink()
        where = args.device_list if source == args.device_list else Path("--device-yaml")
        if entry is None:
            raise ConfigError("no 'type: dut' entry", path=where)
        baud = baud or entry.baud_for(mode)
        if port is None:
            port = entry.raw.get("port") or devices.find_port(entry, devices.scan())
            if port is None:
                raise ConfigError(f"no serial port matches the dut entry {entry.name!r}; "
                                  "give --port", path=where)
    if port is None:
        raise ConfigError("no DUT port: give --port (or --device-list)")
    return port, baud or 115200


def resume_link(session: Path, baud: int | None) -> tuple[str, int | None]:
    """The port and baud a session was started with (its journal header)."""
    from tinyperf.formats.errors import ConfigError
    from tinyperf.harness.run.session import Session

    header = Session.reopen(session).journal.read()[:1]
    if not header or "port" not in header[0]:
        raise ConfigError("the session's journal names no port; give --port", path=session)
    return header[0]["port"], baud or header[0].get("baud")


def _session_mode(session: Path) -> str | None:
    from tinyperf.harness.run.session import Session

    header = Session.reopen(session).journal.read()[:1]
    return header[0].get("mode") if header else None


def print_result(result: RunResult) -> None:
    if "window_rule" in result.figures:  # sww01: detections, duty cycle (and power)
        from tinyperf.harness.run.sww import print_stream

        print_stream(result)
        return
    if result.mode == "energy":
        from tinyperf.harness.energy.run import print_energy

        print_energy(result)
        return
    if result.mode == "latency":
        from tinyperf.harness.run.latency import print_latency

        print_latency(result)
        return
    f = result.figures
    print(f"session: {result.session}")
    if result.mode == "performance":
        thr = f.get("throughput") or {}
        print(f"  {result.model} performance: median {f['median_throughput']:.3f} inf./sec. "
              f"(min {thr.get('min', 0):.3f}, max {thr.get('max', 0):.3f}, "
              f"{thr.get('n', 0)} windows)")
        ratio = f.get("host_dut_clock_ratio")
        if ratio is not None:
            print(f"  host/DUT clock ratio: {ratio:.4g}")
    else:
        print(f"  {result.model} accuracy: Top 1% = {f['top1']:.1f}  AUC = {f['auc']:.3f} "
              f"({f['files']} files, {f['windows']} windows)")
    if result.valid:
        print("  VALID for submission")
    else:
        print("  NOT VALID for submission:")
        for reason in result.reasons:
            print(f"    - {reason}")


def _energy_from_device_list(args: argparse.Namespace) -> None:
    """Fill the energy set-up the flags leave open from the device list, as the runner
    does (interface board, power monitor, voltage, rates); a flag given always wins."""
    from tinyperf.harness.link import devices

    source: Path | None = args.device_list
    if getattr(args, "device_yaml", None) is not None:
        source = _device_yaml_file(args.device_yaml)
    if source is None:
        return
    try:
        entries = devices.load_device_list(source)
    finally:
        if source != args.device_list:
            source.unlink()
    where = args.device_list or "--device-yaml"
    setup = devices.energy_setup(entries, devices.scan(), where)
    filled = []
    for flag, value in (("interface", setup.interface), ("monitor", setup.monitor),
                        ("voltage", setup.voltage), ("board", setup.board),
                        ("dut_baud", setup.dut_baud), ("interface_baud", setup.interface_baud),
                        ("monitor_baud", setup.monitor_baud)):
        if getattr(args, flag, None) is None and value is not None:
            setattr(args, flag, value)
            filled.append(f"{flag.replace('_', '-')} {value}")
    if filled:
        print(f"from {where}: {', '.join(filled)}", file=sys.stderr)


def _handle_energy(args: argparse.Namespace) -> int:
    from tinyperf.harness.energy.run import (
        options_from_args,
        print_energy,
        resume_options,
        run_energy_session,
    )
    from tinyperf.harness.link.dut import Timeouts
    from tinyperf.harness.run import scenarios
    from tinyperf.harness.run.runner import RunConfig

    if args.resume is not None:  # the set-up is the session's (journal); ports may be given
        options = resume_options(args.resume, args)
        config = RunConfig(mode="energy", dataset_path=args.dataset_path,
                           output_dir=args.output_dir, port=options.interface,
                           progress=False if args.no_progress else None)
        result = run_energy_session(config, options, resume=args.resume,
                                    timeouts=Timeouts(args.timeout, args.infer_timeout))
        print_energy(result)
        sys.stdout.flush()
        return 0 if result.valid else 1
    _energy_from_device_list(args)
    entries = scenarios.load_test_script(args.test_script) if args.test_script else None
    config = RunConfig(mode="energy", dataset_path=args.dataset_path,
                       output_dir=args.output_dir, entries=entries,
                       iterations=_iterations(args.iterations), warmups=args.warmups,
                       port=args.interface or "", progress=False if args.no_progress else None,
                       verify_results=args.verify_results, stream_allowance=args.sww_window,
                       model_id=args.model_id)
    result = run_energy_session(config, options_from_args(args),
                                timeouts=Timeouts(args.timeout, args.infer_timeout))
    print_result(result)
    sys.stdout.flush()
    return 0 if result.valid else 1


def _handle_board(args: argparse.Namespace, mode: str) -> int:
    """sww01 in performance/accuracy mode: the DUT behind the interface board (--interface)."""
    from tinyperf.harness.link.dut import Timeouts
    from tinyperf.harness.run import scenarios
    from tinyperf.harness.run.runner import RunConfig
    from tinyperf.harness.run.sww import run_board_session

    entries = scenarios.load_test_script(args.test_script) if args.test_script else None
    config = RunConfig(mode=mode, dataset_path=args.dataset_path, output_dir=args.output_dir,
                       entries=entries, port=args.interface, baud=args.baud or 115200,
                       progress=False, stream_allowance=args.sww_window,
                       model_id=args.model_id)
    result = run_board_session(config, timeouts=Timeouts(args.timeout, args.infer_timeout))
    print_result(result)
    sys.stdout.flush()
    return 0 if result.valid else 1


def _refuse_stream_resume(session: Path) -> None:
    from tinyperf.formats.errors import ConfigError
    from tinyperf.harness.run.session import Session

    header = Session.reopen(session).journal.read()[:1]
    if header and header[0].get("resumable") is False:
        raise ConfigError("an sww01 session cannot be resumed (a stream is one measurement): "
                          "run it again", path=session)


def handle(args: argparse.Namespace) -> int:
    mode = _MODE_ALIASES[args.mode]
    if args.resume is not None:
        _refuse_stream_resume(args.resume)
    elif args.interface and mode in ("performance", "accuracy"):
        return _handle_board(args, mode)
    if args.resume is not None and _session_mode(args.resume) == "energy":
        mode = "energy"  # the session decides; --mode need not be repeated
    if mode == "energy":
        return _handle_energy(args)
    from tinyperf.firmware_interface.links import start_firmware
    from tinyperf.harness.link.dut import Timeouts
    from tinyperf.harness.run import scenarios
    from tinyperf.harness.run.runner import RunConfig, run_session

    if args.resume is not None and args.port is None and args.device_list is None \
            and getattr(args, "device_yaml", None) is None:
        args.port, args.baud = resume_link(args.resume, args.baud)
    port, baud = resolve_link(args, "performance" if mode == "latency" else mode)
    entries = scenarios.load_test_script(args.test_script) if args.test_script else None
    config = RunConfig(mode=mode, dataset_path=args.dataset_path, output_dir=args.output_dir,
                       entries=entries, iterations=_iterations(args.iterations),
                       warmups=args.warmups, port=port, baud=baud,
                       progress=False if args.no_progress else None,
                       verify_results=args.verify_results, model_id=args.model_id,
                       fast_load=args.fast_load)
    result = run_session(config, resume=args.resume,
                         timeouts=Timeouts(args.timeout, args.infer_timeout),
                         cmd_buffer=args.cmd_buffer, start_dut=start_firmware)
    print_result(result)
    sys.stdout.flush()
    return 0 if result.valid else 1
