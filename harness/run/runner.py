"""Run one mode (performance or accuracy) of a test script against a DUT into a session.

The flow follows the MLCommons runner (spec 4.8) and writes its files; what differs is
deliberate: replies are checked, the plan is flat and journaled so a killed run resumes,
validity is judged by the DUT's clock and reported with reasons.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tinyperf.formats import metrics, mlc
from tinyperf.formats.errors import (
    ConfigError,
    DutProtocolError,
    DutStopped,
    DutTimeout,
    SessionError,
    TransportError,
)
from tinyperf.formats.progress import progress
from tinyperf.harness.link import plausibility
from tinyperf.harness.link.dut import (
    Dut,
    DutFrozen,
    Identity,
    ImplausibleWindow,
    InferResult,
    ResultsMismatch,
    Timeouts,
)
from tinyperf.harness.link.fast_load import FastLoadError
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run import scenarios
from tinyperf.harness.run.datasets import Dataset, Input
from tinyperf.harness.run.scenarios import Action, TestEntry
from tinyperf.harness.run.session import JOURNAL_VERSION, Session

log = logging.getLogger(__name__)

#: Margin over 10 s for ``--iterations auto`` so jitter cannot push a window under.
AUTO_TARGET_S = 11.0
#: longest window accepted (s): below the 71.6 min wrap of a 32-bit µs lap counter
MAX_WINDOW_S = 3600.0
#: a window of at least this many inferences is timed first when the DUT's speed is unknown
CALIBRATE_ABOVE = 100_000
#: tries of one window whose reply fails the damaged-reply checks
WINDOW_ATTEMPTS = 3
#: what ``resume`` needs from the journal header
HEADER_KEYS = ("mode", "model", "dataset_path", "entry", "actions", "log_offset")


@dataclass
class RunConfig:
    """What to run. ``iterations`` may be an int, ``"auto"`` or None (script's own)."""

    mode: str
    dataset_path: Path
    output_dir: Path = Path("sessions")
    entries: dict[str, TestEntry] | None = None
    iterations: int | str | None = None
    warmups: int | None = None
    port: str = ""
    baud: int = 115200
    progress: bool | None = None  # None: a bar on a TTY, lines in a log; False: none
    #: re-read each window's results with ``results`` and re-infer on a mismatch
    verify_results: bool = False
    #: sww01 truth-window rule: "code" ([s, e + 2.0 s], the runner) or "readme" (+1.0 s)
    stream_allowance: str = "code"
    #: the model the DUT must report (``--model-id``); None: whatever it reports
    model_id: str | None = None
    #: ``auto``: the ``fl`` commands where the DUT offers them (docs/fast_load.md); ``off``:
    #: the standard protocol only. Energy runs never use them (interface board).
    fast_load: str = "auto"

    def __post_init__(self) -> None:
        if self.mode not in ("performance", "accuracy", "energy", "latency"):
            raise ConfigError(f"mode {self.mode!r} is not supported here "
                              "(performance, accuracy, energy or latency)")
        if isinstance(self.iterations, str) and self.iterations != "auto":
            raise ConfigError("iterations must be a positive number or 'auto'")
        if self.fast_load not in ("auto", "off"):
            raise ConfigError(f"fast load must be 'auto' or 'off', not {self.fast_load!r}",
                              key="fast-load")


@dataclass
class RunResult:
    """The outcome of a run, as written to run.json."""

    session: Path
    mode: str
    model: str
    identity: dict[str, Any]
    valid: bool
    reasons: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    #: what ``--fast-load`` asked, what the DUT offered and what was used (None: not asked)
    fast_load: dict[str, Any] | None = None
    #: the inference engine a virtual DUT said it runs (its ``fl caps`` ``-dut-engine-…``
    #: field; None for a real board or when fast load was not negotiated)
    dut_engine: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["session"] = str(self.session)
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _stride(item: Input) -> int | None:
    """The stride of a windowed input (ad01): the new bytes of each next window."""
    return int(item.row.stride) if item.row.stride is not None and item.segment else None


def _mode_code(mode: str) -> str:
    return scenarios.MODES[mode]


def _plan_digest(actions: list[Action]) -> str:
    text = json.dumps([asdict(a) for a in actions], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _uses_full_set(script: list[Any]) -> bool:
    for step in script:
        if isinstance(step, dict):
            (head, nested), = step.items()
            if str(head).split() == ["loop"] or _uses_full_set(nested):
                return True
    return False


class Runner:
    """Executes a plan on a ``Dut`` into a ``Session`` and summarises it."""

    def __init__(self, dut: Dut, config: RunConfig, session: Session):
        self.dut = dut
        self.config = config
        self.session = session
        self.records: list[dict[str, Any]] = []
        self.extras: list[dict[str, Any]] = []
        self.on_window: Callable[[int, dict[str, Any]], None] | None = None
        self.journal_header: dict[str, Any] | None = None  # set by ``resume``
        #: how N was chosen when the harness chose it (``auto``): logged, put in run.json
        self.iterations_auto: dict[str, Any] | None = None
        #: the next input to write behind the current ``infer`` (fast load, accuracy)
        self.ahead: tuple[bytes, int | None] | None = None

    # -- set-up ---------------------------------------------------------------------------------

    def _identify(self) -> Identity:
        s = self.session
        s.log("Retrieving name from DUT ...")
        ident = self.dut.identify()
        if ident.vendor is None:
            s.log("WARNING: Failed to get name.")
        else:
            s.log(f"Device name retrieved: {ident.vendor}")
        s.log(f"Device profile retrieved: {ident.firmware}",
              f"Device model retrieved: {ident.model}")
        if not ident.model:
            failures = self.dut.identify_failures.get("profile") or []
            texts = [f if isinstance(f, str) else f"{type(f).__name__}: {f}" for f in failures]
            why = f": {len(failures)} attempt(s): {'; '.join(dict.fromkeys(texts))}" \
                if failures else ""
            message = f"the DUT did not report its model id (profile){why}"
            timeouts = [f for f in failures if isinstance(f, DutTimeout)]
            if failures and len(timeouts) == len(failures):
                # no answer at all: a DUT that stopped answering, not a model-id problem
                frozen = DutTimeout("profile", timeouts[-1].waited_s, timeouts[-1].lines)
                frozen.args = (message,)
                raise frozen
            raise DutProtocolError(message, expected="m-model-[...]")
        return ident

    def _entry(self, model: str) -> TestEntry:
        if self.config.entries is None:
            return scenarios.reference_entry(model, self.config.mode)
        if model not in self.config.entries:
            raise ConfigError(f"the test script has no entry for the DUT's model {model!r} "
                              f"(entries: {', '.join(self.config.entries)})")
        return scenarios.usable(self.config.entries[model])

    def _calibrate(self, first: Input) -> tuple[int, float]:
        """(inferences, seconds) of a short window on the DUT's clock, grown to >= 0.2 s.

        A hook: the energy runner times it by the timestamp edges on the monitor.
        """
        self.dut.load(first.data)
        probe, seconds = 10, 0.0
        for _ in range(4):
            res = self.dut.infer(probe, 0)
            seconds = (res.elapsed_us or 0) / 1e6
            if seconds >= 0.2 or probe >= 100_000:
                break
            probe *= 10
        return probe, seconds

    def _auto_iterations(self, first: Input, warmups: int) -> int:
        """Pick N so a window lasts ~11 s of DUT time, from a short calibration window."""
        probe, seconds = self._calibrate(first)
        per_inference_s = max(seconds / probe, 1e-9)
        self.dut.learn(per_inference_s)
        n = math.ceil(AUTO_TARGET_S / per_inference_s)
        self._note_auto(probe, seconds, n, warmups)
        return n

    def _guard_window_length(self, actions: list[Action], first: Input) -> None:
        """Refuse a window the DUT's own speed says would outlast a sane bound.

        The lap counter is 32-bit µs on most boards (it wraps every 71.6 min) and a valid
        window needs 10 s; a huge N is a typo, and a window that wraps several times reads
        as tiny. Very large N is timed first with a short calibration window.
        """
        infers = [a for a in actions if a.verb == "infer"]
        if not infers:
            return
        big = max(infers, key=lambda a: a.iterations + a.warmups)
        count = big.iterations + big.warmups
        if count < CALIBRATE_ABOVE:
            return
        if self.dut.per_inference_s is None:
            try:
                probe, seconds = self._calibrate(first)
            except ConfigError as exc:  # e.g. a monitor that cannot time a window live
                self.session.log(f"tinyperf: window length not checked: {exc}")
                return
            self.dut.learn(seconds / probe if seconds > 0 else None)
        t = self.dut.per_inference_s
        if t is None:
            return
        expected = count * t
        if expected > MAX_WINDOW_S:
            raise ConfigError(
                f"infer {big.iterations} {big.warmups}: the DUT takes {t * 1e3:.3g} ms per "
                f"inference, so one window would last {expected:,.0f} s "
                f"({expected / 3600:.3g} h); windows over {MAX_WINDOW_S / 60:g} min are "
                "refused (the DUT's 32-bit µs lap counter wraps every 71.6 min, and a valid "
                f"window needs {metrics.MIN_WINDOW_S:g} s): give a smaller --iterations or "
                "--iterations auto")

    def _note_auto(self, probe: int, seconds: float, n: int, warmups: int) -> None:
        why = self.iterations_auto["why"] if self.iterations_auto else "--iterations auto"
        self.iterations_auto = {"why": why, "calibration_inferences": probe,
                                "calibration_s": seconds, "iterations": n,
                                "target_s": AUTO_TARGET_S}
        self.session.log(f"tinyperf: iterations auto ({why}): {probe} calibration inferences "
                         f"took {seconds:.3f} s -> {n} iterations per window "
                         f"(warm-ups {warmups})")

    def _build_plan(self, entry: TestEntry, inputs: list[Input]) -> list[Action]:
        actions = scenarios.plan(entry, len(inputs))
        iterations = self.config.iterations
        if iterations is None and self.config.entries is None \
                and self.config.mode in ("performance", "energy"):
            # the reference script's N is sized for a fast board; windows must last 10 s
            iterations = "auto"
            self.iterations_auto = {"why": "no test script and no --iterations: N sized "
                                           f"from the DUT to ~{AUTO_TARGET_S:g} s windows"}
        if iterations == "auto":
            if self.config.mode == "accuracy":
                raise ConfigError("--iterations auto is for performance runs")
            warm = self.config.warmups
            if warm is None:
                warm = next((a.warmups for a in actions if a.verb == "infer"), 0)
            iterations = self._auto_iterations(inputs[0], warm)
        planned = scenarios.with_counts(actions, iterations,  # type: ignore[arg-type]
                                        self.config.warmups)
        overridden = self.config.iterations is not None or self.config.warmups is not None
        source = ("--iterations/--warmups" if overridden else
                  "the test script" if self.config.entries is not None else
                  "the reference script")
        scenarios.check_counts(planned, self.dut.cmd_buffer, source=source)
        self._guard_window_length(planned, inputs[0])
        return planned

    # -- new run / resume ------------------------------------------------------------------------

    def start(self) -> RunResult:
        """A new run: identify, plan, journal the header, execute, summarise."""
        s = self.session
        s.log(f"Logging initialized. Writing output to {s.log_path}",
              f"Initializing SerialDevice on port: {self.config.port} at {self.config.baud} baud")
        ident = self._identify()
        if self.config.model_id and ident.model != self.config.model_id:
            raise ConfigError(f"--model-id {self.config.model_id}: the DUT reports model "
                              f"{ident.model!r}")
        entry = self._entry(ident.model or "")
        if scenarios.streams(entry):  # sww01: audio played by the interface board
            from tinyperf.harness.run.sww import run_streams

            return run_streams(self, ident, entry)
        dataset = Dataset(self.config.dataset_path, entry.model, entry.truth_file)
        inputs = dataset.inputs(all_windows=self.config.mode == "accuracy")
        if _uses_full_set(entry.script):
            s.log(f"No loop count specified.  Using full set ({len(inputs)} test files)")
        actions = self._build_plan(entry, inputs)
        header = {"type": "header", "version": JOURNAL_VERSION, "mode": self.config.mode,
                  "model": ident.model, "identity": asdict(ident),
                  "dataset_path": str(Path(self.config.dataset_path).resolve()),
                  "entry": asdict(entry), "actions": [asdict(a) for a in actions],
                  "plan_sha256": _plan_digest(actions), "port": self.config.port,
                  "baud": self.config.baud, "started": s.stamp(), "log_offset": s.log_offset(),
                  "verify_results": self.config.verify_results}
        if self.iterations_auto is not None:
            header["iterations_auto"] = self.iterations_auto
        header.update(self._header_extra())
        s.journal.append(header)
        return self._execute(ident, entry, inputs, actions, done={})

    def resume(self) -> RunResult:
        """Continue a killed run from its journal; finished windows are not run again."""
        s = self.session
        entries = s.journal.read()
        if not entries or entries[0].get("type") != "header":
            raise SessionError("journal has no header", path=s.path)
        header = entries[0]
        if header.get("version") != JOURNAL_VERSION:
            raise SessionError(f"journal version {header.get('version')} is not "
                               f"{JOURNAL_VERSION}", path=s.path)
        missing = [k for k in HEADER_KEYS if k not in header]
        if missing or not isinstance(header.get("actions"), list) \
                or not isinstance(header.get("entry"), dict):
            raise SessionError(f"the journal header is damaged (missing or wrong: "
                               f"{', '.join(missing) or 'actions/entry'})",
                               path=s.journal.path)
        self.config.mode = header["mode"]
        self.config.dataset_path = Path(header["dataset_path"])
        self.config.verify_results = self.config.verify_results or \
            bool(header.get("verify_results"))
        self.journal_header = header
        windows = [e for e in entries if e.get("type") == "window"]
        s.truncate_log(windows[-1]["log_offset"] if windows else header["log_offset"])
        ident = self._identify()
        if ident.model != header["model"]:
            raise SessionError(f"the DUT now reports model {ident.model!r}, the session was "
                               f"{header['model']!r}", path=s.path)
        try:
            entry = TestEntry(**header["entry"])
            actions = [Action(**a) for a in header["actions"]]
        except TypeError as exc:
            raise SessionError(f"the journal header is damaged: {exc}",
                               path=s.journal.path) from None
        dataset = Dataset(self.config.dataset_path, entry.model, entry.truth_file)
        inputs = dataset.inputs(all_windows=self.config.mode == "accuracy")
        if any(a.verb == "download" and a.index is not None and a.index >= len(inputs)
               for a in actions):
            raise SessionError("the dataset changed since the session started", path=s.path)
        self.iterations_auto = header.get("iterations_auto")
        for w in windows:  # the per-inference time the DUT showed before the kill
            infer = (w.get("record") or {}).get("infer") or {}
            if infer.get("elapsed_time") and infer.get("iterations"):
                speed = infer["elapsed_time"] / 1e6 / infer["iterations"]
                self.dut.learn(speed)
                self.dut.window_speeds.append(speed)
        s.log(f"tinyperf: resuming session after {len(windows)} finished windows")
        done = {w["window"]: w for w in windows}
        return self._execute(ident, entry, inputs, actions, done=done)

    # -- execution -------------------------------------------------------------------------------

    def _progress(self, total: int, initial: int) -> Any:
        return progress(total, initial, show=self.config.progress, unit="windows",
                        desc=self.config.mode)

    def _execute(self, ident: Identity, entry: TestEntry, inputs: list[Input],
                 actions: list[Action], done: dict[int, dict[str, Any]]) -> RunResult:
        s = self.session
        mode = _mode_code(self.config.mode)
        total = sum(1 for a in actions if a.verb == "infer")
        bar = self._progress(total, len(done))
        pending: int | None = None
        loaded: int | None = None
        window = 0
        try:
            for position, action in enumerate(actions):
                if action.verb == "download":
                    pending = action.index
                    continue
                if action.verb != "infer":
                    continue  # reset: every read already has a deadline
                if window in done:
                    self._restore(window, done[window])
                    window += 1
                    continue
                if pending is None:
                    raise ConfigError("an infer step comes before any download")
                item = inputs[pending]
                if loaded != pending:
                    s.log(mlc.log_loading(s.stamp(), item.row.file, item.segment))
                    try:
                        self.dut.load(item.data, _stride(item))
                    except FastLoadError as exc:
                        failed = exc.with_session(str(s.path))
                        s.log(f"ERROR: {failed}")
                        raise failed from exc
                    s.log(mlc.log_load_complete(s.stamp()))
                    loaded = pending
                self.ahead = self._next_input(actions, position, inputs, pending)
                try:
                    res = self._checked_infer(window, action)
                except FastLoadError as exc:
                    failed = exc.with_session(str(s.path))
                    s.log(f"ERROR: {failed}")
                    raise failed from exc
                except DutFrozen as exc:
                    frozen = exc.with_session(str(s.path))
                    s.log(f"ERROR: {frozen}")
                    raise frozen from exc
                self._record(window, item, res, mode)
                window += 1
                bar.update(1)
        finally:
            bar.close()
            s.flush_traffic()
        return self._finish(ident, entry, actions)

    def _next_input(self, actions: list[Action], position: int, inputs: list[Input],
                    current: int) -> tuple[bytes, int | None] | None:
        """Accuracy runs with fast load: the input the plan downloads next, to be written
        while the DUT infers (``Dut.infer(ahead=...)``); None otherwise."""
        if self.config.mode != "accuracy" or self.dut.fast is None:
            return None
        for later in actions[position + 1:]:
            if later.verb == "download" and later.index is not None \
                    and later.index != current and later.index < len(inputs):
                item = inputs[later.index]
                return item.data, _stride(item)
            if later.verb == "infer":
                return None
        return None

    def _header_extra(self) -> dict[str, Any]:
        """More keys for the journal header (a hook: the energy runner adds its set-up)."""
        return {}

    def _restore(self, window: int, entry: dict[str, Any]) -> None:  # noqa: ARG002
        """Take a journaled window as done (a hook: energy windows carry their figures)."""
        self.records.append(entry["record"])
        self.extras.append(entry["extra"])

    #: whether a window that already ran may run again (the energy runner measured it)
    RERUN_MEASURED_WINDOW = True

    def _checked_infer(self, window: int, action: Action) -> InferResult:
        """``_infer`` with the damaged-reply checks, each failure run again (bounded):

        - a window whose timing is implausible (``ImplausibleWindow``);
        - with ``--verify-results``, results that ``results`` re-prints differently;
        - no ``m-ready`` in time although the DUT then answers a ``name`` barrier: the
          reply was damaged or late, the DUT is not frozen.

        Still failing after ``WINDOW_ATTEMPTS``, the run stops with the reason (resumable).
        """
        for attempt in range(1, WINDOW_ATTEMPTS + 1):
            try:
                res = self._infer(window, action)
                if self.config.verify_results:
                    again = self.dut.results()
                    if again != res.results:
                        raise ResultsMismatch(
                            f"window {window + 1}: 'results' re-printed {list(again)} after "
                            f"'infer' printed {list(res.results)}: a damaged m-results line")
                return res
            except DutFrozen as exc:
                if attempt == WINDOW_ATTEMPTS:
                    raise
                try:  # the deadline already allowed for a slow window: a short wait
                    self.dut.barrier(self.dut.timeouts.command)
                except DutTimeout:
                    raise exc from None  # no answer to name either: frozen indeed
                self.session.log(f"tinyperf: window {window + 1} attempt {attempt}: {exc}; "
                                 "the DUT answers 'name', so the reply was damaged or late: "
                                 "running the window again")
            except (ImplausibleWindow, ResultsMismatch) as exc:
                self.session.log(f"tinyperf: window {window + 1} attempt {attempt}: {exc}")
                if attempt == WINDOW_ATTEMPTS or (isinstance(exc, ResultsMismatch)
                                                  and not self.RERUN_MEASURED_WINDOW):
                    raise DutProtocolError(
                        f"window {window + 1} failed its checks after {attempt} attempt(s): "
                        f"{exc}; session {self.session.path}: resume with "
                        f"`tinyperf run --resume {self.session.path}`") from exc
        raise AssertionError("unreachable")

    def _infer(self, window: int, action: Action) -> InferResult:  # noqa: ARG002
        """One ``infer`` step (a hook: the energy runner brackets it with monitor marks)."""
        ahead, self.ahead = self.ahead, None  # written once; a retried window reloads
        return self.dut.infer(action.iterations, action.warmups, ahead=ahead)

    def _record(self, window: int, item: Input, res: InferResult, mode: str) -> None:
        s = self.session
        elapsed = res.elapsed_us
        thr = metrics.throughput(res.iterations, elapsed)
        infer = mlc.infer_record(start_time=res.start_us, end_time=res.end_us,
                                 results=list(res.results), elapsed_time=elapsed,
                                 total_inferences=res.results_count, iterations=res.iterations,
                                 warmups=res.warmups, throughput=thr, mode=mode)
        row = item.row
        record = mlc.window_record(file=row.file, classes=row.classes, label=row.label,
                                   bytes_to_send=row.bytes_to_send, stride=row.stride,
                                   total_length=item.total_length, infer=infer, mode=mode)
        s.log(mlc.log_running(res.warmups, res.iterations), "done")
        s.log(*mlc.log_window(s.stamp(), window + 1, res.iterations, (elapsed or 0) / 1e6, thr,
                              res.results))
        extra = {"segment": item.segment, "host_elapsed_s": res.host_elapsed_s}
        s.flush_traffic()
        s.journal.append({"type": "window", "window": window, "record": record, "extra": extra,
                          "log_offset": s.log_offset()})
        self.records.append(record)
        self.extras.append(extra)
        if self.on_window is not None:
            self.on_window(window, record)

    # -- summary ---------------------------------------------------------------------------------

    def _finish(self, ident: Identity, entry: TestEntry, actions: list[Action]) -> RunResult:
        s = self.session
        ts = s.stamp()
        text, result = self._summarise(ident, entry, actions, ts)
        if self.iterations_auto is not None:
            result.figures["iterations_auto"] = self.iterations_auto
        result.fast_load = self._fast_load_record()
        dut = (result.fast_load.get("offered") or {}).get("dut")
        if isinstance(dut, str) and dut.startswith("engine-"):
            result.dut_engine = dut.removeprefix("engine-")
        s.log(mlc.SUMMARY_RULE, *text.splitlines())
        s.write_text("results.txt", text)
        s.log(f"Session logged in file {s.log_path}")
        s.write_text("results.json", mlc.results_json(self.records))
        s.write_text("run.json", result.to_json())
        s.journal.append({"type": "finished", "valid": result.valid})
        return result

    def _fast_load_record(self) -> dict[str, Any]:
        """run.json's ``fast_load``: what was asked, what the DUT offered, what was used."""
        record: dict[str, Any] = {"asked": self.config.fast_load}
        if self.dut.fast is None:
            record["used"] = False
            record["why"] = ("--fast-load off" if self.config.fast_load == "off"
                             else "not for this mode or link")
            return record
        record.update(self.dut.fast.stats.as_dict())
        return record

    def _summarise(self, ident: Identity, entry: TestEntry, actions: list[Action],
                   ts: str) -> tuple[str, RunResult]:
        """results.txt text and the run result for the mode (a hook for other modes)."""
        if self.config.mode == "performance":
            return self._summarise_performance(ident, actions, ts)
        return self._summarise_accuracy(ident, entry, ts)

    def _summarise_performance(self, ident: Identity, actions: list[Action],
                               ts: str) -> tuple[str, RunResult]:
        windows = [mlc.PerfWindow(r["infer"]["iterations"], r["infer"]["elapsed_time"],
                                  r["infer"]["throughput"]) for r in self.records]
        thr = [w.throughput for w in windows]
        median = metrics.median_throughput(thr) if thr else 0.0
        errors = []
        counts = scenarios.loop_counts(actions)
        if any(c != metrics.REQUIRED_WINDOWS for c in counts.values()) or not counts:
            errors.append("error 1")
        dut_seconds = [(w.elapsed_us / 1e6 if w.elapsed_us else None) for w in windows]
        if sum(x or 0.0 for x in dut_seconds) < metrics.MIN_WINDOW_S:
            errors.append("error 2")  # judged on DUT time; the reference used the host clock
        validity = metrics.performance_validity(dut_seconds)
        per = [(w.elapsed_us / 1e6 / w.iterations) if w.elapsed_us and w.iterations else None
               for w in windows]
        odd = plausibility.speed_outliers(per)
        if odd:
            validity = metrics.Validity(False, (*validity.reasons, *(
                f"window {i + 1}: {per[i] * 1e3:.4g} ms per inference against a median of "
                f"{statistics.median(t for t in per if t) * 1e3:.4g} ms: implausible DUT "
                "timing (a damaged m-lap-us line?)" for i in odd)))
        hint = self._valid_n_hint(windows)
        if hint:
            validity = metrics.Validity(False, (*validity.reasons, hint))
        notes = [r for r in validity.reasons if "windows, exactly" not in r]
        text = mlc.performance_txt(windows, median, ts, errors, notes)
        host = [e.get("host_elapsed_s") for e in self.extras]
        dut_total = sum(x or 0.0 for x in dut_seconds)
        ratio = (sum(h for h in host if h) / dut_total) if dut_total and all(host) else None
        figures = {"median_throughput": median,
                   "throughput": metrics.spread(thr).as_dict() if thr else None,
                   "window_seconds_dut": dut_seconds, "window_throughput": thr,
                   "host_dut_clock_ratio": ratio,
                   "iterations": [w.iterations for w in windows]}
        result = RunResult(self.session.path, "performance", ident.model or "", asdict(ident),
                           validity.valid and not errors, list(validity.reasons) +
                           [f"{e} (MLCommons runner rule)" for e in errors if e == "error 2"],
                           figures)
        return text, result

    def _valid_n_hint(self, windows: list[mlc.PerfWindow]) -> str | None:
        """For short windows: the N that makes them valid (fastest per-inference time seen)."""
        short = [w for w in windows if w.elapsed_us and w.elapsed_us / 1e6 < metrics.MIN_WINDOW_S]
        if not short:
            return None
        per = min(w.elapsed_us / 1e6 / w.iterations for w in windows
                  if w.elapsed_us and w.iterations)
        n = math.ceil(AUTO_TARGET_S / per)
        return (f"windows shorter than {metrics.MIN_WINDOW_S:g} s: N={n} would make them "
                f"valid ({per * 1e3:.2f} ms per inference measured, windows of "
                f"~{AUTO_TARGET_S:g} s; give --iterations {n} or --iterations auto)")

    def _summarise_accuracy(self, ident: Identity, entry: TestEntry,  # noqa: ARG002
                            ts: str) -> tuple[str, RunResult]:
        triples = [(r["file"], int(r["class"]), r["infer"]["results"]) for r in self.records]
        scores = metrics.file_scores(triples)
        top1 = metrics.accuracy_top1(scores.y_true, scores.y_pred)
        try:
            auc = metrics.accuracy_auc(scores.y_true, scores.y_pred)
        except ValueError as exc:
            auc = float("nan")
            log.warning("AUC not defined: %s", exc)
        reasons = []
        if not self.records:
            reasons.append("no accuracy windows")
        text = mlc.accuracy_txt(top1, auc, ts, reasons)
        figures: dict[str, Any] = {"top1": top1, "auc": auc, "files": len(scores.files),
                                   "windows": len(self.records)}
        if scores.y_pred.shape[1] > 2:
            figures["top1_argmax"] = metrics.top1(scores.y_true, scores.y_pred)
            figures["per_class_files"] = np.bincount(scores.y_true).tolist()
        result = RunResult(self.session.path, "accuracy", ident.model or "", asdict(ident),
                           not reasons, reasons, figures)
        return text, result


class StartedDut(Protocol):
    """A DUT that this process started (firmware under QEMU or on the host)."""

    url: str

    def close(self) -> None: ...

    def exit_report(self, wait_s: float = 0.0) -> str | None: ...


#: Starts the DUT a port names, or returns None for a port that is a plain link. The
#: harness does not know how to build firmware; the caller (the CLI, ``tinyperf.run``)
#: passes ``tinyperf.firmware_interface.links.start_firmware``.
DutStarter = Callable[[str], "StartedDut | None"]
_FIRMWARE_PREFIXES = ("qemu:", "host://")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the session folder is kept, marked, and can be resumed."""

    def __init__(self, session: Path):
        super().__init__(str(session))
        self.session = session

    @property
    def resume_command(self) -> str:
        return f"tinyperf run --resume {self.session}"


def _mark_interrupted(session: Session, config: RunConfig) -> None:
    """Say in log.txt and run.json that the run stopped before its end (and how to go on)."""
    hint = f"resume with `tinyperf run --resume {session.path}`"
    session.log(f"tinyperf: interrupted by the user; {hint}")
    data = {"session": str(session.path), "mode": config.mode, "model": "", "identity": {},
            "valid": False, "interrupted": True,
            "reasons": [f"interrupted before the end: {hint}"], "figures": {}}
    session.write_text("run.json", json.dumps(data, indent=2) + "\n")


def run_session(config: RunConfig, *, resume: Path | None = None,
                timeouts: Timeouts | None = None, cmd_buffer: int = 80,
                chunk_size: int | None = None, start_dut: DutStarter | None = None) -> RunResult:
    """Open the DUT link in ``config``, run (or resume) a session, close everything.

    The link is opened first, so a wrong port leaves no empty session folder behind.
    ``start_dut`` first starts the DUT a port such as ``qemu://ad01`` names (stopped at
    the end); without it such a port is refused.
    """
    with contextlib.ExitStack() as stack:  # closes session, link, firmware: in that order
        url, firmware = config.port, None
        if start_dut is not None:
            firmware = start_dut(config.port)
        elif config.port == "qemu" or config.port.startswith(_FIRMWARE_PREFIXES):
            raise ConfigError(f"{config.port}: a firmware port; run it with `tinyperf run` or "
                              "tinyperf.run(), which build and start the firmware",
                              key="port")
        if firmware is not None:
            url = firmware.url
            stack.callback(firmware.close)
        link = open_link(url, config.baud)
        stack.callback(link.close)
        session = Session.reopen(resume) if resume else Session.create(config.output_dir)
        stack.callback(session.close)
        link.add_tap(session.tap)
        dut = Dut(link, timeouts=timeouts, cmd_buffer=cmd_buffer, chunk_size=chunk_size,
                  on_event=lambda name, text: session.log(f"tinyperf: {name}: {text}"),
                  fast_load=config.fast_load == "auto" and config.mode != "energy")
        runner_cls: type[Runner] = Runner
        if config.mode == "latency":  # beyond MLPerf: harness/latency.py
            from tinyperf.harness.run.latency import LatencyRunner

            runner_cls = LatencyRunner
        runner = runner_cls(dut, config, session)
        try:
            return runner.resume() if resume else runner.start()
        except KeyboardInterrupt:
            _mark_interrupted(session, config)
            raise RunInterrupted(session.path) from None
        except (TransportError, DutTimeout, DutProtocolError) as exc:
            # a dead firmware shows up as a link error or a timeout: name the real cause
            report = firmware.exit_report(wait_s=1.0) if firmware is not None else None
            if report is None:
                raise
            session.log(f"tinyperf: firmware stopped: {report}")
            raise DutStopped(exc, report) from exc
