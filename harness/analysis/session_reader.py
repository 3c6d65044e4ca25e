"""Read a finished session folder into a typed ``SessionRecord``.

``run.json`` is what the harness writes last; a folder without it is read as an MLCommons
runner session when it holds the runner's ``results.json`` and ``log.txt`` (see
``runner_sessions``: the figures are recomputed from the raw records). Everything else is read if
present: ``results.json`` (per-window throughput, per-file scores recomputed with
``tinyperf.formats.metrics.file_scores``), ``energy.json`` (energy mode), ``latency.csv`` (latency
mode). New optional files are added as one ``_read_<thing>`` function plus one field.
Malformed input raises ``SessionError`` naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats import metrics
from tinyperf.formats.errors import SessionError
from tinyperf.harness.analysis import intervals, runner_sessions

RUN_JSON = "run.json"
RESULTS_JSON = "results.json"
ENERGY_JSON = "energy.json"
LATENCY_CSV = "latency.csv"

#: Resamples used for the bootstrap intervals a record computes (fixed seed).
RESAMPLES = 1000

_FOLDER_TIME = re.compile(r"^(\d{8}_\d{6})")


@dataclass(frozen=True)
class EnergyData:
    """Per-window energy per inference (µJ) with each window's monitor U (k=1, µJ)."""

    uj_per_inference: list[float]
    uncertainty_uj: list[float | None]
    trace_t_s: list[float] = field(default_factory=list)
    trace_power_w: list[float] = field(default_factory=list)
    windows_s: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class LatencyData:
    """Per-inference latencies in milliseconds (latency mode)."""

    ms: list[float]

    def percentile(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.ms), q))


@dataclass
class SessionRecord:
    """What tinyperf knows about one finished session, loaded once."""

    path: Path
    mode: str
    model: str
    vendor: str | None
    firmware: str | None
    valid: bool
    reasons: list[str]
    figures: dict[str, Any]
    started: str | None = None
    window_throughput: list[float] = field(default_factory=list)
    scores: metrics.FileScores | None = None
    energy: EnergyData | None = None
    latency: LatencyData | None = None
    model_sha256: str | None = None
    content_sha256: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def board(self) -> str:
        return self.vendor or "unknown"

    @property
    def top1(self) -> float | None:
        v = self.figures.get("top1")
        return float(v) if v is not None else None

    @property
    def auc(self) -> float | None:
        v = self.figures.get("auc")
        return float(v) if v is not None else None

    @property
    def median_throughput(self) -> float | None:
        v = self.figures.get("median_throughput")
        if v is None and self.window_throughput:
            v = float(np.median(self.window_throughput))
        return float(v) if v is not None else None

    @property
    def energy_median_uj(self) -> float | None:
        if self.energy is None or not self.energy.uj_per_inference:
            return None
        return float(np.median(self.energy.uj_per_inference))

    def latency_ms(self, stat: str) -> float | None:
        """``p50``/``p90``/``p99``/``max``/``mean`` in ms: latency.csv first, then run.json."""
        if self.latency is not None and self.latency.ms:
            if stat == "max":
                return max(self.latency.ms)
            if stat == "mean":
                return float(np.mean(self.latency.ms))
            return self.latency.percentile(float(stat.lstrip("p")))
        block = self.figures.get("latency")
        if not isinstance(block, dict):
            return None
        for key, scale in ((f"{stat}_ms", 1.0), (f"{stat}_us", 1e-3), (stat, 1.0)):
            if isinstance(block.get(key), (int, float)):
                return float(block[key]) * scale
        return None

    @cached_property
    def intervals(self) -> dict[str, intervals.Interval]:
        """Intervals of this session's figures, keyed by figure name (computed once)."""
        out: dict[str, intervals.Interval] = {}
        if len(self.window_throughput) >= 2:
            out["throughput"] = intervals.median_interval(self.window_throughput)
        if self.scores is not None:
            out.update(accuracy_intervals(self.scores))
        if self.energy is not None and self.energy.uj_per_inference:
            e = intervals.energy_interval(self.energy.uj_per_inference,
                                          self.energy.uncertainty_uj)
            out["energy_uj"] = e.combined
        return out


def accuracy_intervals(scores: metrics.FileScores) -> dict[str, intervals.Interval]:
    """Wilson for top-1 (kws-style argmax models) and stratified bootstrap for AUC."""
    out: dict[str, intervals.Interval] = {}
    y, pred = scores.y_true, scores.y_pred
    if pred.shape[1] > 1:
        correct = int((np.argmax(pred, axis=1) == y).sum())
        w = intervals.wilson_interval(correct, int(y.size))
        out["top1"] = intervals.Interval(100 * w.estimate, 100 * w.low, 100 * w.high,
                                         w.confidence, w.method)
    if np.unique(y).size >= 2:
        try:
            out["auc"] = intervals.auc_interval(y, pred, resamples=RESAMPLES)
        except ValueError:  # a class without positives in the OvR macro
            pass
    return out


# -- loading ------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SessionError(f"not valid JSON ({exc.msg} at line {exc.lineno})",
                           path=path) from None
    except OSError as exc:
        raise SessionError(f"cannot read: {exc.strerror}", path=path) from None


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    names = [RUN_JSON, RESULTS_JSON, ENERGY_JSON, LATENCY_CSV]
    if not (folder / RUN_JSON).exists():  # another runner's session: its raw files say it all
        names += ["log.txt", "trace1-energy.bin", "trace1-timestamps.json"]
    for name in names:
        p = folder / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _started(folder: Path) -> str:
    m = _FOLDER_TIME.match(folder.name)
    if m:
        try:
            return datetime.strptime(m.group(1), "%Y%m%d_%H%M%S").isoformat()
        except ValueError:  # digits that are not a date: use the file time
            pass
    written = next((folder / n for n in (RUN_JSON, RESULTS_JSON) if (folder / n).exists()),
                   folder / "log.txt")
    return datetime.fromtimestamp(written.stat().st_mtime).isoformat(timespec="seconds")


def _read_records(folder: Path) -> list[dict[str, Any]] | None:
    path = folder / RESULTS_JSON
    if not path.is_file():
        return None
    data = _load_json(path)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SessionError("expected a list of runner records", path=path)
    return data


def _window_throughput(figures: dict[str, Any],
                       records: list[dict[str, Any]] | None) -> list[float]:
    values = figures.get("window_throughput")
    if isinstance(values, list):
        return [float(v) for v in values]
    if records:
        return [float(r["infer"]["throughput"]) for r in records
                if isinstance(r.get("infer"), dict) and r["infer"].get("throughput")]
    return []


def _scores(folder: Path, records: list[dict[str, Any]]) -> metrics.FileScores:
    try:
        triples = [(str(r["file"]), int(r["class"]), r["infer"]["results"]) for r in records]
        return metrics.file_scores(triples)
    except (KeyError, TypeError, ValueError) as exc:
        raise SessionError(f"cannot score the records: {exc!r}",
                           path=folder / RESULTS_JSON) from None


def _read_energy(folder: Path, figures: dict[str, Any]) -> EnergyData | None:
    """energy.json: ``windows`` with ``energy_per_inference_j`` (or ``uj_per_inference``)
    and ``uncertainty_per_inference_j``; optional ``trace`` {t_s, power_w}."""
    path = folder / ENERGY_JSON
    if not path.is_file():
        per = figures.get("window_uj_per_inference")
        return EnergyData([float(v) for v in per], [None] * len(per)) if per else None
    data = _load_json(path)
    windows = data.get("windows") if isinstance(data, dict) else None
    if not isinstance(windows, list):
        raise SessionError("expected an object with a 'windows' list", path=path)
    uj: list[float] = []
    unc: list[float | None] = []
    spans: list[tuple[float, float]] = []
    for i, w in enumerate(windows, start=1):
        value, u = _window_uj(w)
        if value is None:
            if not isinstance(w, dict):
                raise SessionError(f"window {i} is not an object", path=path)
            continue  # an invalid window has no figure; its reasons are in the file
        uj.append(value)
        unc.append(u)
        if isinstance(w.get("start_s"), (int, float)) and isinstance(w.get("end_s"), (int, float)):
            spans.append((float(w["start_s"]), float(w["end_s"])))
    trace = data.get("trace") if isinstance(data.get("trace"), dict) else {}
    return EnergyData(uj, unc, [float(t) for t in trace.get("t_s", [])],
                      [float(p) for p in trace.get("power_w", [])], spans)


def _window_uj(w: Any) -> tuple[float | None, float | None]:
    if not isinstance(w, dict):
        return None, None
    if isinstance(w.get("energy_per_inference_j"), (int, float)):
        u = w.get("uncertainty_per_inference_j")
        return w["energy_per_inference_j"] * 1e6, (u * 1e6 if isinstance(u, (int, float))
                                                   else None)
    if isinstance(w.get("uj_per_inference"), (int, float)):
        u = w.get("uncertainty_uj")
        return float(w["uj_per_inference"]), (float(u) if isinstance(u, (int, float))
                                              else None)
    return None, None


def _read_latency(folder: Path) -> LatencyData | None:
    """latency.csv: one row per inference; the first column whose header names a latency
    (``latency_us``, ``us``, ``latency_ms``, ``ms``) is used."""
    path = folder / LATENCY_CSV
    if not path.is_file():
        return None
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        column = next((c for c in header if c.lower().strip() in
                       ("latency_us", "us", "dut_us", "latency_ms", "ms")), None)
        if column is None:
            raise SessionError(f"no latency column in header {header}", path=path)
        scale = 1e-3 if column.lower().strip().endswith("us") else 1.0
        try:
            values = [float(row[column]) * scale for row in reader if row.get(column)]
        except ValueError as exc:
            raise SessionError(f"bad latency value: {exc}", path=path) from None
    return LatencyData([v for v in values if math.isfinite(v)])


def read_session(folder: str | Path) -> SessionRecord:
    """Load ``folder`` (a finished session) into a ``SessionRecord``."""
    folder = Path(folder).resolve()
    run_path = folder / RUN_JSON
    if not folder.is_dir():
        raise SessionError("not a session folder", path=folder)
    records: list[dict[str, Any]] | None = None
    if not run_path.is_file():
        if runner_sessions.is_runner_session(folder):
            records = _read_records(folder)
            run = runner_sessions.read_runner_run(folder, records or [])
        elif runner_sessions.is_eembc_session(folder):
            run, records = runner_sessions.read_eembc_run(folder)
        else:
            raise SessionError(f"no {RUN_JSON}: not a finished tinyperf session, nor an "
                               "MLCommons runner session (results.json + log.txt), nor an "
                               "EEMBC runner session (its log.txt)", path=folder)
    else:
        run = _load_json(run_path)
    if not isinstance(run, dict):
        raise SessionError("expected a JSON object", path=run_path)
    if run.get("interrupted"):
        raise SessionError(f"an interrupted run: finish it with `tinyperf run --resume "
                           f"{folder}`", path=folder)
    for key in ("mode", "model"):
        if not isinstance(run.get(key), str):
            raise SessionError(f"missing or non-string key {key!r}", path=run_path)
    figures = run.get("figures") or {}
    if not isinstance(figures, dict):
        raise SessionError("'figures' is not an object", path=run_path)
    identity = run.get("identity") if isinstance(run.get("identity"), dict) else {}
    if records is None:
        records = _read_records(folder)
    scores = None
    if run["mode"] == "accuracy":
        if records is None:
            raise SessionError(f"accuracy session without {RESULTS_JSON}", path=folder)
        scores = _scores(folder, records)
    return SessionRecord(
        path=folder, mode=run["mode"], model=run["model"],
        vendor=identity.get("vendor"), firmware=identity.get("firmware"),
        valid=bool(run.get("valid", False)), reasons=list(run.get("reasons") or []),
        figures=figures, started=run.get("started") or _started(folder),
        window_throughput=_window_throughput(figures, records) if run["mode"] != "accuracy"
        else [],
        scores=scores, energy=_read_energy(folder, figures), latency=_read_latency(folder),
        model_sha256=run.get("model_sha256"), content_sha256=_digest(folder))
