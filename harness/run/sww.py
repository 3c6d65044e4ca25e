"""Streaming wakeword (sww01): the ``stream`` steps of a test script against a real or
virtual bench, into an MLCommons session folder (protocol.md 7.3-7.5).

One ``stream`` step, as the MLCommons runner does it::

    DUT   : stop        (defensive; reply ignored)
    DUT   : start
    board : record_detections
    board : play {wav}  (blocks; deadline length_sec + 10 s)
            sleep 0.25 s
    DUT   : stop        -> activation log ("target activations: [...]" ... m-ready)
    board : print_detections, print_dutycycle
    monitor (energy mode): the window's samples and events -> last two events

The DUT is reached through the interface board (``dut`` pass-through). Performance and
energy scripts stream the first truth-file entry; the accuracy script all of them. Scoring
is the runner's (``formats.sww_score``) with the admissible interval ``[s, e + 2.0]`` of its
code by default (``--sww-window readme``: ``[s, e + 1.0]`` as its README states); the
choice is written to log.txt and run.json.

What differs from the runner, on purpose: every wait has a deadline, replies are checked,
and a failure (no detections, no ``m-ready`` after ``stop``, a file the board cannot play,
a malformed truth file) is logged with its cause while everything recorded so far stays in
the session (log.txt line by line, results.json with the finished streams, run.json).
"""

from __future__ import annotations

import math
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinyperf.formats import sww_outputs as out
from tinyperf.formats import sww_protocol as swp
from tinyperf.formats import sww_score
from tinyperf.formats.errors import ConfigError, ConformanceError, DatasetError
from tinyperf.harness.link.dut import Dut, Identity, Timeouts
from tinyperf.harness.link.interface_board import ENHANCED, DutLink, InterfaceBoard
from tinyperf.harness.link.transport import SerialLink
from tinyperf.harness.run import scenarios
from tinyperf.harness.run.runner import RunConfig, Runner, RunResult
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.harness.run.session import Session

#: The runner's pause between the end of ``play`` and ``stop`` (its DUT needs it).
SETTLE_S = 0.25
#: ``play`` may take the file's length plus this (the runner's per-line timeout).
PLAY_MARGIN_S = 10.0
#: Seconds for the DUT to answer ``stop`` (it prints up to 37 500 activations).
STOP_TIMEOUT_S = 30.0
#: Closed division limits (protocol.md 7.4) and the official test's window count.
MAX_FP = 8
MAX_FN = 8
OFFICIAL_WINDOWS = 50
WINDOW_NOTES = {
    sww_score.ALLOWANCE_CODE: "admissible interval [start, end + 2.0 s] (the MLCommons "
                              "runner's code; its README says +1.0 s)",
    sww_score.ALLOWANCE_README: "admissible interval [start, end + 1.0 s] (the MLCommons "
                                "runner's README; its code uses +2.0 s, so this score is "
                                "not the one the runner prints)",
}


NO_DETECTIONS = ("No detections captured: the interface board recorded no WW_DETECTED pulse, "
                 "not even the DUT's forced first-frame pulse that marks the start of the "
                 "stream; the MLCommons runner aborts here too (check the WW_DETECTED wiring "
                 "to the board's WW_DET_IN)")


class SwwRunError(ConformanceError):
    """A stream step that cannot go on; the session keeps everything recorded before it."""

    def __init__(self, message: str, session: Path | None = None):
        super().__init__(message if session is None else f"{message} (session kept: {session})")
        self.session = session


@dataclass
class StreamResult:
    """One finished ``stream`` step: its results.json record and the scored figures."""

    record: dict[str, Any]
    truth: sww_score.TruthEntry
    duty: out.DutyFigures | None
    energy: out.StreamEnergy | None = None
    score: sww_score.Score | None = None


def check_wav(path: Path) -> None:
    """A WAV the board's player and the DUT accept: 16 kHz, 16-bit PCM, 2 channels."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
    except (wave.Error, EOFError, OSError) as exc:
        raise DatasetError(f"not a 16-bit PCM WAV file: {exc}", path) from exc
    if rate != 16_000:
        raise DatasetError(f"field 'sample_rate' is {rate} Hz, the sww01 stream needs 16000 Hz",
                           path)
    if width != 2:
        raise DatasetError(f"field 'bits_per_sample' is {8 * width}, the sww01 stream needs 16",
                           path)
    if channels != 2:
        raise DatasetError(f"{channels} channel(s): the interface board plays 2-channel files "
                           "only", path)


class StreamRun:
    """Runs the ``stream`` actions of ``entry`` for ``runner`` and writes the session."""

    def __init__(self, runner: Runner, board: InterfaceBoard | None, *, monitor: Any = None,
                 voltage: float | None = None, sleep: Callable[[float], None] = time.sleep):
        if board is None:
            raise ConfigError("sww01 streams audio from the interface board: give "
                              "--interface PORT (the DUT is reached through it)")
        self.runner = runner
        self.session: Session = runner.session
        self.config: RunConfig = runner.config
        self.board = board
        self.monitor = monitor
        self.voltage = voltage
        self.sleep = sleep
        self.allowance = self.config.stream_allowance
        if self.allowance not in WINDOW_NOTES:
            raise ConfigError(f"sww01 window rule {self.allowance!r}: one of "
                              f"{', '.join(WINDOW_NOTES)}", key="stream_allowance")
        self.results: list[StreamResult] = []

    # -- the run ---------------------------------------------------------------------------------

    def run(self, ident: Identity, entry: TestEntry) -> RunResult:
        s = self.session
        truth_path = Path(self.config.dataset_path) / entry.model / entry.truth_file
        s.log(f"tinyperf: sww01 scoring: {WINDOW_NOTES[self.allowance]}")
        try:
            truth = sww_score.load_truth(truth_path)
            actions = [a for a in scenarios.plan(entry, len(truth)) if a.verb == "stream"]
            if not actions:
                raise ConfigError(f"the {entry.key} script has no stream step")
            s.journal.append({"type": "header", "version": 1, "mode": self.config.mode,
                              "model": ident.model, "identity": asdict(ident),
                              "entry": asdict(entry), "truth_file": str(truth_path),
                              "streams": [a.index for a in actions], "started": s.stamp(),
                              "resumable": False})
            for a in actions:
                assert a.index is not None
                self.results.append(self._stream(truth[a.index], entry))
                s.journal.append({"type": "window", "window": len(self.results) - 1,
                                  "record": self.results[-1].record})
                if not self.results[-1].record["infer"]["detections"]:
                    raise SwwRunError(NO_DETECTIONS)
                self.results[-1].score = self._score(self.results[-1])
        except (ConformanceError, ValueError) as exc:
            self._abort(ident, exc)
            raise SwwRunError(str(exc), s.path) from exc
        except KeyboardInterrupt as exc:
            self._abort(ident, exc)
            raise
        return self._finish(ident)

    def _stream(self, truth: sww_score.TruthEntry, entry: TestEntry) -> StreamResult:
        s = self.session
        local = Path(self.config.dataset_path) / entry.model / truth.wav_file
        if local.is_file():  # the SD card's copy is not visible; check ours when we have it
            check_wav(local)
        mode = scenarios.MODES[self.config.mode]
        before = self.monitor.sync() if self.monitor is not None else None
        self._stop()  # defensive: a previous run may still stream (reply ignored)
        self.board.dut("start", self.board.timeout)
        self.board.record_detections()
        s.log(out.playing_line(truth.wav_file, truth.raw.get("length_sec"),
                               datetime.now().strftime("%H:%M:%S")))
        self.board.play(truth.wav_file, truth.length_sec + PLAY_MARGIN_S)
        self.sleep(SETTLE_S)
        reply = self._stop()
        s.log("... done")
        parsed = swp.parse_activations(reply)
        if parsed is None:
            s.log(out.NO_ACTIVATIONS)
            activations: Any = []
        else:
            s.log(*parsed.warnings)
            activations = parsed.values
        detections = swp.parse_detections(self.board.print_detections())
        s.log(out.detections_line(detections))
        ticks = swp.parse_dutycycle(self.board.print_dutycycle())
        s.log(*ticks.warnings)
        duty = out.duty_figures(ticks.starts, ticks.stops)
        s.log(*duty.log)
        power = energy = None
        if self.monitor is not None:
            power, energy = self._measure(before)
            s.log(out.samples_line(len(power["samples"]), len(power["timestamps"])))
        record = out.stream_record(truth.raw, detections, duty.record, activations, mode,
                                   power)
        s.flush_traffic()
        return StreamResult(record, truth, duty, energy)

    def _stop(self) -> list[str]:
        """``dut stop``: the DUT's lines up to m-ready, within ``STOP_TIMEOUT_S``."""
        return self.board.dut("stop", STOP_TIMEOUT_S)

    def _measure(self, before: float | None) -> tuple[dict[str, Any], out.StreamEnergy]:
        from tinyperf.harness.energy import report
        from tinyperf.harness.energy.capture import window_capture
        from tinyperf.harness.energy.monitors import supports_snapshot

        after = self.monitor.sync()
        assert before is not None
        if not supports_snapshot(self.monitor):
            raise ConfigError(f"monitor {self.monitor.name!r} cannot hand out its data during "
                              "the run; sww01 energy needs one that can (lpm01a, js220)")
        part = window_capture(self.monitor.snapshot(), before, after)
        origin = float(part.meta.get("window_origin_s", before))
        power = report.power_record(part, 0.0, after - origin, self.voltage)
        try:
            energy = out.stream_energy(power["samples"], power["timestamps"])
        except ValueError as exc:
            raise SwwRunError(f"energy window: {exc}") from exc
        return power, energy

    # -- summary ---------------------------------------------------------------------------------

    def _score(self, r: StreamResult) -> sww_score.Score:
        return sww_score.score(r.record["infer"]["detections"], r.truth.windows, self.allowance)

    def _summary(self) -> tuple[list[str], list[str], dict[str, Any]]:
        """(results.txt lines, log-only lines in order, figures) of the finished streams."""
        txt: list[str] = []
        log: list[str] = []
        energies = [r.energy for r in self.results if r.energy is not None]
        figures: dict[str, Any] = {"window_rule": self.allowance, "streams": []}
        if self.monitor is not None:
            block = out.energy_lines(energies)
            txt += block
            log += block + out.energy_errors(energies)
            if energies:
                figures["power_mw"] = energies[0].power_w * 1e3
                figures["energy_uj"] = energies[0].energy_j * 1e6
                figures["energy_window_s"] = energies[0].elapsed_s
        total = sww_score.Score()
        for r in self.results:
            sc = r.score or self._score(r)
            total = total + sc
            raw_starts = {float(w[0]): w[0] for w in r.truth.raw["detection_windows"]}
            acc = out.accuracy_line(sc.tp, sc.fn, sc.fp)
            txt.append(acc)
            log += [out.file_header(r.truth.wav_file, r.truth.length_sec), acc,
                    out.missed_line([raw_starts.get(m, m) for m in sc.missed]),
                    out.false_positive_line(sc.false_ms)]
            lines = out.duty_lines(r.duty)
            txt += lines
            log += lines or [out.NO_DUTY]
            figures["streams"].append({
                "wav_file": r.truth.wav_file, "tp": sc.tp, "fn": sc.fn, "fp": sc.fp,
                "missed_s": sc.missed, "false_positive_ms": sc.false_ms,
                "duty_cycle": r.duty.duty_cycle if r.duty else None,
                "period_s": r.duty.period if r.duty else None,
                "processing_time_s": r.duty.processing_time if r.duty else None,
                "estimated_throughput": 1.0 / r.duty.processing_time if r.duty else None})
        figures.update(tp=total.tp, fn=total.fn, fp=total.fp)
        first = figures["streams"][0] if figures["streams"] else {}
        for key in ("duty_cycle", "period_s", "estimated_throughput"):
            figures[key] = first.get(key)
        return txt, log, figures

    def _reasons(self, figures: dict[str, Any]) -> list[str]:
        reasons = []
        tp, fn, fp = figures["tp"], figures["fn"], figures["fp"]
        if tp + fn != OFFICIAL_WINDOWS:
            reasons.append(f"TP + FN = {tp + fn}: the official test (sww_long_test.json) has "
                           f"{OFFICIAL_WINDOWS} wakewords (the checker requires it)")
        if fp > MAX_FP:
            reasons.append(f"{fp} false positives: the closed division allows {MAX_FP}")
        if fn > MAX_FN:
            reasons.append(f"{fn} false negatives: the closed division allows {MAX_FN}")
        if self.allowance != sww_score.ALLOWANCE_CODE:
            reasons.append("scored with the README's +1.0 s window, not the runner's code")
        w = figures.get("energy_window_s")
        if w is not None and w < out.MIN_WINDOW_S:
            reasons.append(f"energy window {w:.3f} s: at least {out.MIN_WINDOW_S:g} s needed")
        return reasons

    def _write(self, ident: Identity, reasons: list[str], figures: dict[str, Any],
               valid: bool) -> RunResult:
        s = self.session
        s.write_text("results.json", out.results_json([r.record for r in self.results]))
        if self.monitor is not None:
            from tinyperf.harness.energy import report

            for k, r in enumerate(self.results):
                power = r.record.get("power") or {}
                report.plot_window(s.path / f"energy_inf_{k:03d}.png",
                                   power.get("samples", []), power.get("timestamps", []))
        result = RunResult(s.path, self.config.mode, ident.model or "", asdict(ident), valid,
                           reasons, figures)
        s.write_text("run.json", result.to_json())
        return result

    def _stop_monitor(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor.power(False)

    def _finish(self, ident: Identity) -> RunResult:
        s = self.session
        self._stop_monitor()
        txt, log, figures = self._summary()
        s.log(*log)
        s.write_text("results.txt", "\n".join(txt) + "\n")
        s.log(f"Session logged in file {s.log_path}")
        reasons = self._reasons(figures)
        result = self._write(ident, reasons, figures, not reasons)
        s.journal.append({"type": "finished", "valid": result.valid})
        return result

    def _abort(self, ident: Identity, exc: BaseException) -> None:
        """Log why the run stops, keep what was recorded (results.json, run.json)."""
        s = self.session
        text = str(exc) or "interrupted by the user"
        s.log(f"ERROR: {type(exc).__name__}: {text}")
        try:
            self._stop_monitor()
        except ConformanceError as stop_exc:
            s.log(f"tinyperf: monitor stop failed: {stop_exc}")
        figures = {"window_rule": self.allowance, "streams_done": len(self.results)}
        self._write(ident, [f"aborted: {text}"], figures, False)
        s.journal.append({"type": "aborted", "error": text})


class SwwRunner(Runner):
    """A ``Runner`` whose DUT sits behind an interface board (sww01 performance/accuracy)."""

    def __init__(self, dut: Dut, config: RunConfig, session: Session, board: InterfaceBoard):
        super().__init__(dut, config, session)
        self.board = board


def run_streams(runner: Runner, ident: Identity, entry: TestEntry) -> RunResult:
    """The ``stream`` steps of ``entry`` on ``runner``'s board (and monitor in energy mode)."""
    monitor = getattr(runner, "monitor", None)
    options = getattr(runner, "options", None)
    if runner.config.mode not in ("performance", "accuracy", "energy"):
        raise ConfigError(f"sww01 runs in performance, accuracy or energy mode, not "
                          f"{runner.config.mode}")
    stream = StreamRun(runner, getattr(runner, "board", None), monitor=monitor,
                       voltage=getattr(options, "voltage", None))
    return stream.run(ident, entry)


def run_board_session(config: RunConfig, *, timeouts: Timeouts | None = None) -> RunResult:
    """Performance or accuracy through the interface board at ``config.port`` (sww01)."""
    with SerialLink(config.port, config.baud) as link:
        session = Session.create(config.output_dir)
        try:
            link.add_tap(session.tap)
            board = InterfaceBoard(link, kind=ENHANCED)
            dut = Dut(DutLink(link), timeouts=timeouts, timestamps=False,
                      on_event=lambda name, text: session.log(f"tinyperf: {name}: {text}"))
            return SwwRunner(dut, config, session, board).start()
        finally:
            session.close()


def print_stream(result: RunResult) -> None:
    """The console summary of an sww01 run."""
    f = result.figures
    print(f"session: {result.session}")
    print(f"  {result.model} {result.mode}: {f.get('tp')} TP, {f.get('fn')} FN, "
          f"{f.get('fp')} FP ({f.get('window_rule')} window rule)")
    duty = f.get("duty_cycle")
    if duty is not None:
        print(f"  duty cycle {duty:.4f}, period {f['period_s'] * 1e3:.3f} ms, estimated "
              f"throughput {f['estimated_throughput']:.3f} inf./sec.")
    if f.get("power_mw") is not None and math.isfinite(f["power_mw"]):
        print(f"  power {f['power_mw']:.4f} mW over {f['energy_window_s']:.3f} s "
              f"({f['energy_uj']:.3f} uJ)")
    print("  VALID for submission" if result.valid else "  NOT VALID for submission:")
    for reason in result.reasons:
        print(f"    - {reason}")
