"""``tinyperf energy import CAPTURE``: joules per inference from a capture file, offline.

Formats (``--format``, default from the file): ``jls`` (Joulescope; GPI edges, or
``--timestamps``), ``jscsv`` (Joulescope CSV exports), ``energytrace`` (TI CCS CSV; no
GPIO: ``--sync`` with DUT-clock times, or ``--threshold`` segmentation), ``eembc``
(``trace1-energy.bin`` + timestamps), ``ppk2`` (Nordic Power Profiler CSV export;
current only: ``--voltage``; timestamps on ``--channel``), ``mlc`` (an MLCommons energy
results.json, recomputed with both the runner's method and ours).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o

EXAMPLE = (
    "tinyperf energy import capture.jls --inferences 250 --output-dir sessions/energy_kws01",
    "tinyperf energy import capture.jls --timestamps edges.json --inferences 250",
    "tinyperf energy import ppk2.csv --voltage 1.8 --channel D0 --inferences 300",
    "tinyperf energy import sessions/20250101_120000/results.json",
)


def _error(message: str) -> Exception:
    from tinyperf.formats.errors import ConfigError

    return ConfigError(message)


def register(subparsers: Any) -> None:
    """Add ``energy`` and its ``import`` action."""
    p = o.add_parser(subparsers, "energy", help="energy per inference from capture files",
                     example=EXAMPLE[:1])
    sub = p.add_subparsers(dest="energy_command", metavar="ACTION")
    sub.required = True
    imp = o.add_parser(sub, "import", help="integrate a capture file offline", example=EXAMPLE,
                       description=__doc__.split("\n\n", 1)[1].replace("``", "").strip())
    imp.add_argument("capture", type=Path, metavar="CAPTURE",
                     help=".jls, .csv, trace1-energy.bin or results.json")
    imp.add_argument("--format", default="auto",
                     choices=("auto", "jls", "jscsv", "energytrace", "eembc", "ppk2", "mlc"))
    imp.add_argument("--timestamps", type=Path,
                     help="JSON list of edge times in monitor seconds (replaces file edges); "
                          "with --sync: {\"sync_pulses_s\": [[a,b],...], \"windows_s\": "
                          "[[t0,t1],...]} on the DUT clock")
    imp.add_argument("--inferences", type=int, help="inferences per window (required except mlc)")
    imp.add_argument("--edge", choices=("falling", "rising"), default="falling")
    imp.add_argument("--voltage", type=float, help="supply voltage when only current is recorded")
    imp.add_argument("--gpi", default="gpi[0]", help="JLS signal carrying the timestamps")
    imp.add_argument("--channel", default="D0", choices=[f"D{n}" for n in range(8)],
                     help="PPK2 digital channel carrying the timestamps (D0)")
    imp.add_argument("--sync", action="store_true", help="EnergyTrace: align by sync pulses")
    imp.add_argument("--threshold", type=float, help="pulse/burst power threshold in W")
    imp.add_argument("--min-pulse", type=float, default=0.005, help="minimum pulse length, s")
    o.add_output_dir(imp, deprecated=("--output",), help="write DIR/energy.json")
    imp.set_defaults(handler=handle_import)


def _mlc(path: Path) -> int:
    from tinyperf.harness.energy import integrate
    from tinyperf.harness.energy.monitors.eembc import mlc_window_capture, read_mlc_results

    records = read_mlc_results(path)
    ref, ours = [], []
    for rec in records:
        n = rec["infer"]["iterations"]
        ref.append(integrate.mlcommons_window(rec["power"]["samples"],
                                              rec["power"]["timestamps"], n))
        cap = mlc_window_capture(rec)
        chosen = integrate.pair_edges(cap.edges, skip_first=len(cap.edges) > 2)[-1:]
        ours += integrate.evaluate_windows(cap, chosen, n)
    for k, (r, w) in enumerate(zip(ref, ours)):
        print(f"window {k}: runner {r.uj_per_inference:.3f} uJ/inf ({r.elapsed_s!r} s); "
              f"tinyperf {w.uj_per_inference or 0:.3f} ± "
              f"{(w.uncertainty_per_inference_j or 0) * 1e6:.3f} uJ/inf")
    print(f"Median energy cost is {integrate.mlcommons_median(ref):5.4f} uJ/inf. (runner method)")
    return 0


def _windows(args: argparse.Namespace, capture: Any) -> list[Any]:
    from tinyperf.harness.energy import integrate
    from tinyperf.harness.energy.capture import Edge
    from tinyperf.harness.energy.monitors import energytrace
    from tinyperf.harness.energy.monitors.eembc import read_times

    falling = args.edge == "falling"
    if args.sync:
        if args.timestamps is None or args.threshold is None:
            raise _error("--sync needs --timestamps (DUT-clock JSON) and --threshold")
        spec = json.loads(args.timestamps.read_text())
        chosen, tmap = energytrace.sync_pulse_windows(
            capture, spec["sync_pulses_s"], spec["windows_s"], args.threshold, args.min_pulse)
        print(f"time map: t_monitor = {tmap.alpha:.6f} + {tmap.beta:.9f} t_dut "
              f"(residual {tmap.residual_s * 1e6:.1f} us)")
        return chosen
    if args.threshold is not None:
        window, bursts = energytrace.threshold_windows(capture, args.threshold, args.min_pulse,
                                                       args.inferences)
        print(f"threshold segmentation: {bursts} bursts above {args.threshold} W")
        return [window]
    if args.timestamps is not None:
        capture.edges = [Edge(t, falling, 0.0, str(i))
                         for i, t in enumerate(read_times(args.timestamps))]
    return integrate.pair_edges(capture.edges, falling)


def handle_import(args: argparse.Namespace) -> int:
    from tinyperf.harness.energy import integrate, report
    from tinyperf.harness.energy.monitors.filemonitor import guess_format, read_capture

    if args.format == "mlc" or (args.format == "auto" and args.capture.suffix == ".json"):
        return _mlc(args.capture)
    if not args.inferences or args.inferences < 1:
        raise _error("--inferences N is required (inferences per window)")
    options: dict[str, Any] = {}
    fmt = args.format
    if fmt == "auto" and args.capture.is_file():
        fmt = guess_format(args.capture)
    if fmt == "jls":
        options = {"gpi": args.gpi, "voltage": args.voltage}
    if fmt == "ppk2":
        options = {"voltage": args.voltage, "channel": int(args.channel[1:])}
    if fmt == "eembc" and args.timestamps is not None:
        options = {"timestamps": args.timestamps}
        args.timestamps = None
    capture = read_capture(args.capture, fmt, **options)
    chosen = _windows(args, capture)
    windows = integrate.evaluate_windows(capture, chosen, args.inferences)
    summary = integrate.summarise(windows)
    for w in windows:
        state = "ok" if w.valid else "INVALID: " + "; ".join(w.reasons)
        print(f"window {w.index}: {w.duration_s or 0:.6f} s, {(w.energy_j or 0) * 1e6:.3f} uJ, "
              f"{w.uj_per_inference or 0:.4f} ± {(w.uncertainty_per_inference_j or 0) * 1e6:.4f}"
              f" uJ/inf  {state}")
    med = summary.median_uj_per_inference
    print(f"Median energy cost is {(med or 0.0):5.4f} uJ/inf.")
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "energy.json").write_text(report.energy_json(
            summary, monitor=capture.monitor, voltage=args.voltage,
            extra={"source": str(args.capture)}))
    return 0 if med is not None else 1
