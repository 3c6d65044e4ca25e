"""Energy mode: the ``Runner`` plan with a monitor powering the DUT behind an interface board.

Flow (protocol.md 3.1, 4.8): configure the monitor (voltage), power the DUT, start the
acquisition, identify and run the plan through the board; each ``infer`` is bracketed by
a monitor mark before and a synced mark after, the span its two timestamp edges must lie
in. At the end: stop, pick each window's edges inside its span (falling by default),
integrate, judge validity and uncertainty, and write results.txt / results.json /
``energy_inf_NNN.png`` in the runner's formats plus ``energy.json``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import mlc
from harness.datasets import Input
from harness.dut import Dut, InferResult, Timeouts
from harness.energy import integrate, report
from harness.energy.monitors import EnergyMonitor, open_monitor
from harness.errors import ConfigError
from harness.interface_board import DutLink, InterfaceBoard, passthrough_chunk_size
from harness.runner import RunConfig, Runner, RunResult
from harness.scenarios import Action, TestEntry
from harness.session import Session
from harness.transport import SerialLink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnergyOptions:
    """What energy mode adds to a ``RunConfig``."""

    interface: str
    monitor: str
    voltage: float = 1.8
    interface_baud: int = 115200
    dut_baud: int | None = None  # setbaud on the board only if given and different
    falling: bool = True
    boot_wait_s: float = 1.0


class EnergyRunner(Runner):
    """``Runner`` whose windows are measured by ``monitor``."""

    def __init__(self, dut: Dut, config: RunConfig, session: Session,
                 monitor: EnergyMonitor, options: EnergyOptions):
        super().__init__(dut, config, session)
        self.monitor = monitor
        self.options = options
        self.spans: list[tuple[float, float]] = []

    def start(self) -> RunResult:
        if self.config.iterations == "auto":
            raise ConfigError("--iterations auto needs DUT timestamps; give a number in "
                              "energy mode")
        self.monitor.configure(self.options.voltage)
        self.monitor.power(True)
        self.monitor.start()
        return super().start()

    def resume(self) -> RunResult:
        raise ConfigError("an energy run cannot be resumed: the capture is one acquisition")

    def _infer(self, window: int, action: Action) -> InferResult:
        before = self.monitor.mark()
        res = self.dut.infer(action.iterations, action.warmups)
        after = self.monitor.sync()
        self.spans.append((before, after))
        self.session.log(f"tinyperf: window {window} monitor span {before:.3f}..{after:.3f} s")
        return res

    def _record(self, window: int, item: Input, res: InferResult, mode: str) -> None:
        s = self.session
        infer = mlc.infer_record(start_time=None, end_time=None, results=list(res.results),
                                 elapsed_time=None, total_inferences=res.results_count,
                                 iterations=res.iterations, warmups=res.warmups,
                                 throughput=None, mode=mode)
        row = item.row
        record = mlc.window_record(file=row.file, classes=row.classes, label=row.label,
                                   bytes_to_send=row.bytes_to_send, stride=row.stride,
                                   total_length=item.total_length, infer=infer, mode=mode)
        s.log(mlc.log_running(res.warmups, res.iterations), "done")
        self.records.append(record)
        self.extras.append({"segment": item.segment})

    # -- summary ---------------------------------------------------------------------------------

    def _summarise(self, ident: Any, entry: TestEntry, actions: list[Action],
                   ts: str) -> tuple[str, RunResult]:
        capture = self.monitor.stop()
        self.monitor.power(False)
        iterations = [r["infer"]["iterations"] for r in self.records]
        if self.spans and all(math.isfinite(a) for span in self.spans for a in span):
            chosen = integrate.bracket_windows(capture.edges, self.spans, self.options.falling)
        else:
            chosen = integrate.pair_edges(capture.edges, self.options.falling)[:len(iterations)]
        windows = integrate.evaluate_windows(capture, chosen, iterations[:len(chosen)],
                                             self.monitor.accuracy)
        summary = integrate.summarise(windows)
        self._write_power(capture, chosen)
        self.session.write_text("energy.json", report.energy_json(
            summary, monitor=self.monitor.name, voltage=self.options.voltage,
            accuracy_note=self.monitor.accuracy.note,
            extra={"spans_s": self.spans, "capture_s": [capture.start_s, capture.end_s],
                   "edges_seen": len(capture.edges)}))
        text = report.energy_txt(windows, summary.median_uj_per_inference, summary.reasons)
        for reason in summary.reasons:
            self.session.log(f"ERROR: Not valid for submission.  {reason}")
        figures = {"median_uj_per_inference": summary.median_uj_per_inference,
                   "uj_per_inference": [w.uj_per_inference for w in windows],
                   "uncertainty_uj_per_inference": [
                       None if w.uncertainty_per_inference_j is None
                       else w.uncertainty_per_inference_j * 1e6 for w in windows],
                   "window_seconds": [w.duration_s for w in windows]}
        result = RunResult(self.session.path, "energy", ident.model or "", asdict(ident),
                           summary.valid, summary.reasons, figures)
        return text, result

    def _write_power(self, capture: Any, chosen: list[integrate.WindowEdges]) -> None:
        """Attach each window's 1 ms samples and events to its record; plot it."""
        lo = capture.start_s
        for k, record in enumerate(self.records):
            if k < len(self.spans) and math.isfinite(self.spans[k][1]):
                hi = self.spans[k][1]
            elif k < len(chosen) and chosen[k].end is not None:
                hi = chosen[k].end.time_s + 0.1  # type: ignore[union-attr]
            else:
                hi = capture.end_s
            hi = min(hi, capture.end_s)
            power = report.power_record(capture, lo, hi, self.options.voltage)
            self.session.log(f"Captured samples:{len(power['samples'])} "
                             f"timestamps:{len(power['timestamps'])}")
            self.records[k] = mlc.window_record(
                file=record["file"], classes=record["classes"], label=record["class"],
                bytes_to_send=record["bytes_to_send"], stride=record["stride"],
                total_length=record["total_length"], infer=record["infer"],
                mode=record["mode"], power=power)
            report.plot_window(self.session.path / f"energy_inf_{k:03d}.png",
                               power["samples"], power["timestamps"])
            lo = hi


def run_energy_session(config: RunConfig, options: EnergyOptions, *,
                       timeouts: Timeouts | None = None,
                       monitor: EnergyMonitor | None = None) -> RunResult:
    """Open the board and the monitor, run the energy plan, close everything."""
    session = Session.create(config.output_dir)
    opened: list[Any] = []
    try:
        session.log(f"Logging initialized. Writing output to {session.log_path}")
        mon = monitor or open_monitor(options.monitor)
        opened.append(mon)
        board_link = SerialLink(options.interface, options.interface_baud)
        opened.append(board_link)
        board_link.add_tap(session.tap)
        session.log(f"Initializing SerialDevice on port: {options.interface} at "
                    f"{options.interface_baud} baud")
        board = InterfaceBoard(board_link)
        if options.dut_baud and board.ensure_baud(options.dut_baud):
            session.log(f"tinyperf: interface board DUT rate set to {options.dut_baud}")
        dut = Dut(DutLink(board_link), timeouts=timeouts, timestamps=False,
                  chunk_size=passthrough_chunk_size(),
                  on_event=lambda name, text: session.log(f"tinyperf: {name}: {text}"))
        runner = EnergyRunner(dut, config, session, mon, options)
        return runner.start()
    finally:
        for thing in reversed(opened):
            thing.close()
        session.close()


def options_from_args(args: Any) -> EnergyOptions:
    """``EnergyOptions`` from ``tinyperf run`` arguments."""
    if not args.interface or not args.monitor:
        raise ConfigError("energy mode needs --interface PORT and --monitor SPEC")
    return EnergyOptions(interface=args.interface, monitor=args.monitor, voltage=args.voltage,
                         dut_baud=args.dut_baud, falling=args.edge == "falling")


def print_energy(result: RunResult) -> None:
    f = result.figures
    print(f"session: {result.session}")
    med = f.get("median_uj_per_inference")
    print(f"  {result.model} energy: median {med if med is None else f'{med:.4f}'} uJ/inf "
          f"({len(f.get('uj_per_inference') or [])} windows)")
    print("  VALID for submission" if result.valid else "  NOT VALID for submission:")
    for reason in result.reasons:
        print(f"    - {reason}")


__all__ = ["EnergyOptions", "EnergyRunner", "Path", "options_from_args", "print_energy",
           "run_energy_session"]
