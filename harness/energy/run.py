"""Energy mode: the ``Runner`` plan with a monitor powering the DUT behind an interface board.

Flow (protocol.md 3.1, 4.8, 6.7): configure the monitor (voltage), power the DUT, on the
legacy Arduino IO manager set the timestamp edge mode and enable its timer (``tm 0``,
``enable-timer``, as the EEMBC energy scripts do), start the acquisition, identify and
run the plan through the board; each ``infer`` is bracketed by a monitor mark before and
a synced mark after, the span its two timestamp edges must lie in. At the end: stop,
(legacy: ``disable-timer``), power off, judge validity and uncertainty, and write
results.txt / results.json / ``energy_inf_NNN.png`` in the runner's formats plus
``energy.json``.

Resumable: when the monitor can hand out its data so far (``snapshot``), each window is
evaluated as soon as it ends, on its own slice of the acquisition re-based to time 0, and
journaled with its results.json record (power samples and events included) and its
energy figures. ``--resume`` then starts a new acquisition and runs only the windows
that are not in the journal; event ids continue the journaled numbering so the
session's results.json reads as one acquisition (the log says so). A monitor without
``snapshot`` (a capture file recorded by another tool) is evaluated at the end and
cannot be resumed.

A window's slice (its results.json ``power`` samples and events) is the ``infer`` command
itself: from a synced mark before it to the synced mark after it. The MLCommons runner's
batch also holds the download before it, which no figure uses; leaving it out makes a
window's record independent of what ran before it (a resumed run re-identifies the DUT
first), so a resumed window's record is the one the uninterrupted run writes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tinyperf.formats import mlc
from tinyperf.formats.errors import ConfigError, SessionError
from tinyperf.harness.energy import integrate, report
from tinyperf.harness.energy.capture import Capture, Edge, window_capture
from tinyperf.harness.energy.monitors import (
    EnergyMonitor,
    edges_seen,
    open_monitor,
    supports_snapshot,
)
from tinyperf.harness.link.dut import Dut, InferResult, Timeouts
from tinyperf.harness.link.interface_board import (
    BOARD_KINDS,
    LEGACY,
    DutLink,
    InterfaceBoard,
    passthrough_chunk_size,
)
from tinyperf.harness.link.transport import SerialLink
from tinyperf.harness.run.datasets import Input
from tinyperf.harness.run.runner import RunConfig, Runner, RunResult
from tinyperf.harness.run.scenarios import Action, TestEntry
from tinyperf.harness.run.session import Session

log = logging.getLogger(__name__)


DEFAULT_VOLTAGE = 1.8  # the reference device lists' lpm01a entry


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
    board: str = "auto"  # auto (from the name/version replies), enhanced or legacy
    monitor_baud: int | None = None  # a serial monitor's rate (device list), else its default

    def __post_init__(self) -> None:
        if self.board != "auto" and self.board not in BOARD_KINDS:
            raise ConfigError(f"--board {self.board!r}: auto, {', '.join(BOARD_KINDS)}")


def window_energy_from_dict(data: dict[str, Any]) -> integrate.WindowEnergy:
    """A journaled ``WindowEnergy.as_dict()`` back as the object."""
    try:
        return integrate.WindowEnergy(**{f.name: data[f.name]
                                         for f in fields(integrate.WindowEnergy)})
    except (KeyError, TypeError) as exc:
        raise SessionError(f"journaled window energy is incomplete: {exc}") from exc


def _event_number(label: str) -> int | None:
    return int(label) if label.isdigit() else None


class EnergyRunner(Runner):
    """``Runner`` whose windows are measured by ``monitor``."""

    def __init__(self, dut: Dut, config: RunConfig, session: Session,
                 monitor: EnergyMonitor, options: EnergyOptions,
                 board: InterfaceBoard | None = None):
        super().__init__(dut, config, session)
        self.monitor = monitor
        self.options = options
        self.board = board
        self.spans: list[tuple[float, float]] = []  # this process's acquisition only
        self.per_window = supports_snapshot(monitor)
        self.energies: dict[int, integrate.WindowEnergy] = {}
        self.window_meta: dict[int, dict[str, Any]] = {}
        self._measured: dict[int, tuple[integrate.WindowEnergy, dict[str, Any]]] = {}
        self._event_offset = 0  # added to numeric event ids (continued after a resume)
        self._event_next = 0
        self._acquisition = 0
        self._note: str | None = None

    # -- acquisition -----------------------------------------------------------------------------

    def _legacy(self) -> bool:
        return self.board is not None and self.board.kind == LEGACY

    def _begin_acquisition(self) -> None:
        self.monitor.configure(self.options.voltage)
        self.monitor.power(True)
        if self._legacy():
            assert self.board is not None
            self.board.set_timestamp_mode(self.options.falling)
            self.board.enable_timer()
        self.monitor.start()

    def start(self) -> RunResult:
        self._begin_acquisition()
        return super().start()

    def _calibrate(self, first: Input) -> tuple[int, float]:
        """A short window timed by the DUT's own timestamp edges on the monitor.

        An energy build prints no ``m-lap-us``: its timestamps are GPIO edges the monitor
        records. A calibration ``infer`` is bracketed by synced marks like a window and
        its duration is the time between its two edges in that slice of the acquisition.
        """
        if not self.per_window:
            raise ConfigError(f"--iterations auto in energy mode needs a monitor that hands "
                              f"out its data during the run; {self.monitor.name!r} does not: "
                              "give --iterations N")
        self.dut.load(first.data)
        probe, seconds = 10, None
        for _ in range(4):
            before = self.monitor.sync()
            expected = self._edges_after_infer()
            self.dut.infer(probe, 0)
            after = self.monitor.sync(edges=expected)
            part = window_capture(self.monitor.snapshot(), before, after)
            origin = float(part.meta.get("window_origin_s", before))
            (chosen,) = integrate.bracket_windows(
                part.edges, [(before - origin, after - origin)], self.options.falling)
            if chosen.start is None or chosen.end is None:
                raise ConfigError(f"--iterations auto: the calibration window ({probe} "
                                  f"inferences) showed {chosen.seen} timestamp edge(s), not 2; "
                                  "give --iterations N")
            seconds = chosen.end.time_s - chosen.start.time_s
            if seconds >= 0.2 or probe >= 100_000:
                break
            probe *= 10
        assert seconds is not None
        return probe, seconds

    def resume(self) -> RunResult:
        """Continue a killed energy run: a new acquisition for the windows not journaled."""
        entries = self.session.journal.read()
        if not entries or entries[0].get("type") != "header":
            raise SessionError("journal has no header", path=self.session.path)
        if entries[0].get("mode") != "energy":
            raise SessionError(f"not an energy session (mode {entries[0].get('mode')!r})",
                               path=self.session.path)
        if not self.per_window:
            raise ConfigError(f"monitor {self.monitor.name!r} cannot be resumed: it has no "
                              "data before the end of its capture")
        windows = [e for e in entries if e.get("type") == "window"]
        if any("energy" not in w for w in windows):
            raise SessionError("journaled windows carry no energy figures (written by a "
                               "version that could not resume energy runs)",
                               path=self.session.path)
        if windows:
            self._event_offset = int(windows[-1].get("event_next", 0))
            self._acquisition = int(windows[-1].get("acquisition", 0)) + 1
        self._event_next = self._event_offset
        self._note = (f"tinyperf: resumed energy run: monitor acquisition "
                      f"{self._acquisition}, event ids continue from {self._event_offset:02d}")
        self._begin_acquisition()
        return super().resume()

    # -- windows ---------------------------------------------------------------------------------

    def _header_extra(self) -> dict[str, Any]:
        board = self.board.kind if self.board is not None else None
        return {"energy": {**asdict(self.options), "board_detected": board,
                           "monitor_name": self.monitor.name}}

    def _restore(self, window: int, entry: dict[str, Any]) -> None:
        super()._restore(window, entry)
        self.energies[window] = window_energy_from_dict(entry["energy"])
        self.window_meta[window] = entry.get("meta", {})

    RERUN_MEASURED_WINDOW = False  # its span and energy are already recorded

    def _infer(self, window: int, action: Action) -> InferResult:
        if self._note is not None:
            self.session.log(self._note)
            self._note = None
        # synced: the window's slice starts exactly where the DUT's data stands
        before = self.monitor.sync() if self.per_window else self.monitor.mark()
        expected = self._edges_after_infer()
        res = self.dut.infer(action.iterations, action.warmups)
        after = self.monitor.sync(edges=expected)
        self.spans.append((before, after))
        self.session.log(f"tinyperf: window {window} monitor span {before:.3f}..{after:.3f} s")
        if self.per_window:
            self._measure(window, before, after, res.iterations)
        return res

    def _edges_after_infer(self) -> int | None:
        """Edges the monitor must have seen once the next ``infer`` is over: an ``infer``
        toggles the timestamp pin at its window's start and end (one edge each)."""
        seen = edges_seen(self.monitor)
        return None if seen is None else seen + 2

    def _relabel(self, capture: Capture) -> Capture:
        """Numeric event ids shifted by ``_event_offset``; ``_event_next`` follows them."""
        edges = []
        for e in capture.edges:
            n = _event_number(e.label)
            if n is not None:
                n += self._event_offset
                self._event_next = max(self._event_next, n + 1)
                e = Edge(e.time_s, e.falling, e.sigma_s, f"{n:02d}")
            edges.append(e)
        capture.edges = edges
        return capture

    def _measure(self, window: int, before: float, after: float, iterations: int) -> None:
        """Evaluate the window on its slice ``[before, after)`` of the acquisition."""
        part = self._relabel(window_capture(self.monitor.snapshot(), before, after))
        origin = float(part.meta.get("window_origin_s", before))
        (chosen,) = integrate.bracket_windows(part.edges, [(before - origin, after - origin)],
                                              self.options.falling)
        chosen.index = window
        energy = integrate.evaluate_window(part, chosen, iterations, self.monitor.accuracy)
        power = report.power_record(part, 0.0, after - origin, self.options.voltage)
        meta = {"acquisition": self._acquisition, "span_s": [before, after],
                "slice_s": [origin, after]}
        self._measured[window] = (energy, power | {"meta": meta})

    def _record(self, window: int, item: Input, res: InferResult, mode: str) -> None:
        s = self.session
        infer = mlc.infer_record(start_time=None, end_time=None, results=list(res.results),
                                 elapsed_time=None, total_inferences=res.results_count,
                                 iterations=res.iterations, warmups=res.warmups,
                                 throughput=None, mode=mode)
        row = item.row
        measured = self._measured.pop(window, None)
        power = None
        if measured is not None:
            power = dict(measured[1])
            meta = power.pop("meta")
        record = mlc.window_record(file=row.file, classes=row.classes, label=row.label,
                                   bytes_to_send=row.bytes_to_send, stride=row.stride,
                                   total_length=item.total_length, infer=infer, mode=mode,
                                   power=power)
        s.log(mlc.log_running(res.warmups, res.iterations), "done")
        extra = {"segment": item.segment}
        self.records.append(record)
        self.extras.append(extra)
        if measured is None:
            return  # evaluated at the end: nothing to journal that a resume could use
        energy = measured[0]
        self.energies[window] = energy
        self.window_meta[window] = meta
        s.log(f"Captured samples:{len(power['samples'])} "  # type: ignore[index]
              f"timestamps:{len(power['timestamps'])}")  # type: ignore[index]
        s.flush_traffic()
        s.journal.append({"type": "window", "window": window, "record": record,
                          "extra": extra, "energy": energy.as_dict(), "meta": meta,
                          "acquisition": self._acquisition, "event_next": self._event_next,
                          "log_offset": s.log_offset()})

    # -- summary ---------------------------------------------------------------------------------

    def _summarise(self, ident: Any, entry: TestEntry,  # noqa: ARG002
                   actions: list[Action], ts: str) -> tuple[str, RunResult]:  # noqa: ARG002
        if self._note is not None:  # resumed after the last window: only the summary is left
            self.session.log(self._note)
            self._note = None
        capture = self.monitor.stop()
        if self._legacy():
            assert self.board is not None
            self.board.disable_timer()
        self.monitor.power(False)
        iterations = [r["infer"]["iterations"] for r in self.records]
        if self.per_window and len(self.energies) == len(self.records):
            windows = [self.energies[k] for k in range(len(self.records))]
            spans = [self.window_meta[k].get("span_s") for k in range(len(self.records))]
        else:
            if self.spans and all(math.isfinite(a) for span in self.spans for a in span):
                chosen = integrate.bracket_windows(capture.edges, self.spans,
                                                   self.options.falling)
            else:
                chosen = integrate.pair_edges(capture.edges,
                                              self.options.falling)[:len(iterations)]
            windows = integrate.evaluate_windows(capture, chosen, iterations[:len(chosen)],
                                                 self.monitor.accuracy)
            self._write_power(capture, chosen)
            spans = list(self.spans)
        for k, record in enumerate(self.records):
            power = record.get("power") or {}
            report.plot_window(self.session.path / f"energy_inf_{k:03d}.png",
                               power.get("samples", []), power.get("timestamps", []))
        summary = integrate.summarise(windows)
        self.session.write_text("energy.json", report.energy_json(
            summary, monitor=self.monitor.name, voltage=self.options.voltage,
            accuracy_note=self.monitor.accuracy.note,
            extra={"spans_s": spans, "capture_s": [capture.start_s, capture.end_s],
                   "edges_seen": len(capture.edges),
                   "window_time_base": "window" if self.per_window else "acquisition",
                   "acquisitions": self._acquisition + 1,
                   "interface_board": self.board.kind if self.board else None}))
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
        """End-of-run path: attach each window's 1 ms samples and events to its record."""
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
            lo = hi


def open_board(link: SerialLink, options: EnergyOptions, session: Session) -> InterfaceBoard:
    """The interface board on ``link``: its kind (given or detected), its DUT rate."""
    board = InterfaceBoard(link, kind=None if options.board == "auto" else options.board)
    kind = board.detect()
    session.log(f"tinyperf: interface board: {kind}")
    if options.dut_baud:
        if kind == LEGACY:  # the legacy IO manager has no setbaud (protocol.md 2.4, 8)
            session.log(f"tinyperf: legacy IO manager: no setbaud, --dut-baud "
                        f"{options.dut_baud} not applied")
        elif board.ensure_baud(options.dut_baud):
            session.log(f"tinyperf: interface board DUT rate set to {options.dut_baud}")
    return board


def run_energy_session(config: RunConfig, options: EnergyOptions, *,
                       timeouts: Timeouts | None = None,
                       monitor: EnergyMonitor | None = None,
                       resume: Path | None = None) -> RunResult:
    """Open the board and the monitor, run (or resume) the energy plan, close everything."""
    session = Session.reopen(resume) if resume else Session.create(config.output_dir)
    opened: list[Any] = []
    try:
        if resume is None:
            session.log(f"Logging initialized. Writing output to {session.log_path}")
        rate = {"baud": options.monitor_baud} \
            if options.monitor_baud and options.monitor.lower().startswith("lpm01a") else {}
        mon = monitor or open_monitor(options.monitor, **rate)
        opened.append(mon)
        board_link = SerialLink(options.interface, options.interface_baud)
        opened.append(board_link)
        board_link.add_tap(session.tap)
        session.log(f"Initializing SerialDevice on port: {options.interface} at "
                    f"{options.interface_baud} baud")
        board = open_board(board_link, options, session)
        dut = Dut(DutLink(board_link), timeouts=timeouts, timestamps=False,
                  chunk_size=passthrough_chunk_size(),
                  on_event=lambda name, text: session.log(f"tinyperf: {name}: {text}"))
        runner = EnergyRunner(dut, config, session, mon, options, board)
        return runner.resume() if resume else runner.start()
    finally:
        for thing in reversed(opened):
            thing.close()
        session.close()


def options_from_args(args: Any) -> EnergyOptions:
    """``EnergyOptions`` from ``tinyperf run`` arguments."""
    if not args.interface or not args.monitor:
        raise ConfigError("energy mode needs --interface PORT and --monitor SPEC")
    extra = {k: v for k, v in (("interface_baud", getattr(args, "interface_baud", None)),
                               ("monitor_baud", getattr(args, "monitor_baud", None)))
             if v is not None}
    return EnergyOptions(interface=args.interface, monitor=args.monitor,
                         voltage=DEFAULT_VOLTAGE if args.voltage is None else args.voltage,
                         dut_baud=args.dut_baud, falling=args.edge == "falling",
                         board=getattr(args, "board", None) or "auto", **extra)


def resume_options(session: Path, args: Any) -> EnergyOptions:
    """The energy set-up a session was started with (journal header); flags given win.

    Ports may change between runs (a board re-plugged), so ``--interface`` and
    ``--monitor`` override; the measurement settings (voltage, edge) stay the session's.
    """
    header = Session.reopen(session).journal.read()[:1]
    saved = header[0].get("energy") if header else None
    if not isinstance(saved, dict):
        raise ConfigError("the session's journal has no energy set-up (not an energy run)",
                          path=session)
    names = {f.name for f in fields(EnergyOptions)}
    values = {k: v for k, v in saved.items() if k in names}
    for key, flag in (("interface", "interface"), ("monitor", "monitor"), ("board", "board")):
        given = getattr(args, flag, None)
        if given:
            values[key] = given
    return EnergyOptions(**values)


def print_energy(result: RunResult) -> None:
    f = result.figures
    print(f"session: {result.session}")
    med = f.get("median_uj_per_inference")
    print(f"  {result.model} energy: median {med if med is None else f'{med:.4f}'} uJ/inf "
          f"({len(f.get('uj_per_inference') or [])} windows)")
    print("  VALID for submission" if result.valid else "  NOT VALID for submission:")
    for reason in result.reasons:
        print(f"    - {reason}")


__all__ = ["EnergyOptions", "EnergyRunner", "open_board", "options_from_args", "print_energy",
           "resume_options", "run_energy_session", "window_energy_from_dict"]
