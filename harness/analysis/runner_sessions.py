"""Session folders written by the MLCommons runner or the EEMBC EnergyRunner (no
``run.json``), read into the same ``SessionRecord`` as tinyperf's own, so ``report``,
``history`` and ``compare`` take them.

Everything is recomputed from the raw data with each runner's own formulas. MLCommons:
``results.json``: the median of the window throughputs and the window-length rules
(performance), top-1 and AUC from the per-file scores (accuracy), and the runner's energy
method (spec 3.3: last two events, 1000 Hz, half-open sum; energy); ``log.txt`` gives the
DUT's name and model id. EEMBC: ``log.txt`` (``m-lap-us`` pairs, ``m-results`` per file,
scored raw against the registry's labels) and ``trace1-energy.bin`` + its timestamps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats import eembc_log, metrics
from tinyperf.formats.errors import DatasetError, SessionError
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.errors import MonitorError
from tinyperf.harness.run.datasets import label_map

LOG_TXT = "log.txt"
_MODES = {"p": "performance", "a": "accuracy", "e": "energy"}
_NAME = re.compile(r"Device name retrieved: (.*?)\s*$", re.M)
_MODEL = re.compile(r"(?:Device model retrieved: |m-model-\[)([\w.-]+)", re.M)
_PROFILE = re.compile(r"Device profile retrieved: (.*?)\s*$", re.M)


def is_runner_session(folder: Path) -> bool:
    """A folder holding the runner's ``results.json`` and ``log.txt`` but no ``run.json``."""
    return (folder / "results.json").is_file() and (folder / LOG_TXT).is_file() \
        and not (folder / "run.json").exists()


def read_runner_run(folder: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``run.json``-shaped dict for a runner session: mode, model, identity, validity,
    figures (recomputed)."""
    log = (folder / LOG_TXT).read_text(errors="replace")
    windows = [r for r in records if isinstance(r.get("infer"), dict)]
    codes = {r.get("mode") for r in records}
    if not windows or len(codes) != 1 or next(iter(codes)) not in _MODES:
        raise SessionError("results.json holds no windows of one mode (modes "
                           f"{sorted(map(str, codes))})", path=folder / "results.json")
    mode = _MODES[str(next(iter(codes)))]
    model = _MODEL.search(log)
    if model is None:
        raise SessionError("log.txt names no model id ('Device model retrieved: ...')",
                           path=folder / LOG_TXT)
    name, profile = _NAME.search(log), _PROFILE.search(log)
    reasons: list[str] = [f"{r['error']} (MLCommons runner)" for r in records if "error" in r]
    figures: dict[str, Any] = {"source": "MLCommons runner session"}
    if mode == "performance":
        thr = [float(w["infer"].get("throughput") or 0.0) for w in windows]
        seconds = [(w["infer"].get("elapsed_time") or 0) / 1e6 for w in windows]
        figures.update(median_throughput=metrics.median_throughput(thr),
                       window_throughput=thr, window_seconds_dut=seconds,
                       iterations=[w["infer"].get("iterations") for w in windows])
        reasons += list(metrics.performance_validity(seconds).reasons)
    elif mode == "accuracy":
        try:
            scores = metrics.file_scores([(str(w["file"]), int(w["class"]),
                                           w["infer"]["results"]) for w in windows])
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionError(f"cannot score the records: {exc!r}",
                               path=folder / "results.json") from None
        figures.update(top1=metrics.accuracy_top1(scores.y_true, scores.y_pred),
                       auc=_auc(scores), files=len(scores.files), windows=len(windows))
    else:
        per_window = []
        for i, w in enumerate(windows, 1):
            power = w.get("power") if isinstance(w.get("power"), dict) else {}
            try:
                mw = integrate.mlcommons_window(power.get("samples") or [],
                                                power.get("timestamps") or [],
                                                int(w["infer"]["iterations"]))
            except (MonitorError, KeyError, TypeError, ValueError) as exc:
                reasons.append(f"window {i}: no energy ({exc})")
                continue
            per_window.append(mw.uj_per_inference)
            if mw.elapsed_s < metrics.MIN_WINDOW_S:
                reasons.append(f"window {i}: {mw.elapsed_s:.3f} s, below the "
                               f"{metrics.MIN_WINDOW_S:g} s minimum")
        if len(windows) != metrics.REQUIRED_WINDOWS:
            reasons.append(f"{len(windows)} windows, exactly {metrics.REQUIRED_WINDOWS} "
                           "required")
        figures.update(window_uj_per_inference=per_window,
                       median_uj_per_inference=float(np.median(per_window)) if per_window
                       else None)
    return {"mode": mode, "model": model.group(1),
            "identity": {"vendor": name.group(1) if name else None,
                         "firmware": profile.group(1) if profile else None},
            "valid": not reasons, "reasons": reasons, "figures": figures}


def _auc(scores: metrics.FileScores) -> float | None:
    try:
        return metrics.accuracy_auc(scores.y_true, scores.y_pred)
    except ValueError:
        return None


# -- EEMBC EnergyRunner session folders ---------------------------------------------------------

EEMBC_MODES = {"multi": "accuracy", "bmark": "performance"}


def is_eembc_session(folder: Path) -> bool:
    """A folder holding the EEMBC runner's ``log.txt`` (and no ``run.json``)."""
    path = folder / LOG_TXT
    if (folder / "run.json").exists() or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", "replace")
    return eembc_log.is_eembc_log(head)


def read_eembc_run(folder: Path, *, reference_dir: Path | None = None
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ``run.json``-shaped dict and MLC-shaped ``results.json`` records for an EEMBC
    runner session, every figure recomputed from the raw log (and the ``trace1-*`` files
    in energy mode) with the EEMBC runner's own formulas; accuracy labels come from the
    model registry (``reference_dir``, else ``TINYPERF_REFERENCE_DIR`` or the cache)."""
    log = eembc_log.parse_log((folder / LOG_TXT).read_text(encoding="utf-8", errors="replace"))
    model = log.model or log.config.get("model")
    if not model:
        raise SessionError("log.txt names no model id (no m-model-[...] line, no bm cfg "
                           "model)", path=folder / LOG_TXT)
    if not log.infers:
        raise SessionError("log.txt holds no infer command", path=folder / LOG_TXT)
    energy = (folder / "trace1-energy.bin").is_file()
    mode = "energy" if energy else EEMBC_MODES.get(log.config.get("runMode", ""), "")
    if not mode:  # older logs without runMode: many files scored is an accuracy run
        mode = "accuracy" if len({i.file for i in log.infers}) > 1 else "performance"
    reasons = [f"{e} (EEMBC runner)" for e in log.errors]
    figures: dict[str, Any] = {"source": "EEMBC runner session"}
    records: list[dict[str, Any]] = []
    if mode == "performance":
        seconds: list[float | None] = []
        for n, infer in enumerate(log.infers, 1):
            us = _lap_us(infer.laps)
            if us is None:
                reasons.append(f"window {n}: {len(infer.laps)} m-lap-us line(s), 2 needed")
            seconds.append(None if us is None else us / 1e6)
            records.append({"mode": "p", "infer": {
                "iterations": infer.iterations, "elapsed_time": us,
                "throughput": metrics.throughput(infer.iterations, us)}})
        thr = [r["infer"]["throughput"] for r in records if r["infer"]["elapsed_time"]]
        figures.update(median_throughput=metrics.median_throughput(thr) if thr else None,
                       window_throughput=thr, window_seconds_dut=seconds,
                       iterations=[i.iterations for i in log.infers])
        reasons += list(metrics.performance_validity(seconds).reasons)
    elif mode == "accuracy":
        labels = _registry_labels(model, reference_dir)
        if isinstance(labels, str):
            raise SessionError(f"cannot score an accuracy run: {labels}", path=folder)
        missing = sorted({i.file or "?" for i in log.infers if i.results} - set(labels))
        if missing:
            reasons.append(f"{len(missing)} scored file(s) not in {model}'s y_labels.csv "
                           f"(e.g. {missing[0]})")
        for infer in log.infers:
            if infer.results and infer.file in labels:
                records.append({"mode": "a", "file": infer.file, "class": labels[infer.file],
                                "infer": {"results": list(infer.results[-1])}})
        if not records:
            raise SessionError("no scored input (no m-results line for a labelled file)",
                               path=folder / LOG_TXT)
        scores = metrics.file_scores([(r["file"], r["class"], r["infer"]["results"])
                                      for r in records], normalised=False)
        top1, auc = metrics.eembc_accuracy(scores.y_true, scores.y_pred)
        figures.update(top1=top1, auc=auc, files=len(scores.files), windows=len(records),
                       formula="EEMBC runner (printed values, 100-threshold AUC)")
    else:
        per_window = _eembc_energy(folder, log, reasons)
        records = [{"mode": "e", "infer": {"iterations": i.iterations}} for i in log.infers]
        figures.update(window_uj_per_inference=per_window,
                       median_uj_per_inference=float(np.median(per_window)) if per_window
                       else None)
    return ({"mode": mode, "model": model, "started": _session_start(folder),
             "identity": {"vendor": None, "firmware": log.profile},
             "valid": not reasons, "reasons": reasons, "figures": figures}, records)


_SESSION_ID = re.compile(rb"m-session-start-id\[(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\]")


def _session_start(folder: Path) -> str | None:
    """The EEMBC session id (``m-session-start-id[YYYYMMDDhhmmss]``) as an ISO time."""
    with (folder / LOG_TXT).open("rb") as fh:
        m = _SESSION_ID.search(fh.read(4096))
    if m is None:
        return None
    y, mo, d, h, mi, se = (int(g) for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{se:02d}"


def _lap_us(laps: list[tuple[float, int]]) -> int | None:
    return eembc_log.lap_us(laps[0][1], laps[-1][1]) if len(laps) >= 2 else None


def _registry_labels(model: str, reference_dir: Path | None) -> dict[str, int] | str:
    """``{file: class}`` from the registry's label list, or why there is none."""
    from tinyperf.formats.errors import ModelError
    from tinyperf.reference_models import registry

    try:
        path = registry.labels(model, reference_dir=reference_dir, download=False)
    except (ModelError, KeyError, OSError) as exc:
        return f"no label list for {model} ({exc}); set TINYPERF_REFERENCE_DIR"
    try:
        return label_map(path)
    except DatasetError as exc:
        return str(exc)


def _eembc_energy(folder: Path, log: eembc_log.EembcLog, reasons: list[str]) -> list[float]:
    """µJ per inference of each window: the trace's samples between a window's two
    timestamps (after the first, the trace's start mark), over its iterations."""
    try:
        rate, samples = eembc_log.parse_energy_bin((folder / "trace1-energy.bin").read_bytes())
        stamps = eembc_log.parse_timestamps(
            (folder / "trace1-timestamps.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reasons.append(f"energy trace unreadable: {exc}")
        return []
    windows = eembc_log.window_times(stamps)
    if len(windows) != metrics.REQUIRED_WINDOWS:
        reasons.append(f"{len(windows)} windows in trace1-timestamps.json, exactly "
                       f"{metrics.REQUIRED_WINDOWS} required")
    per_window = []
    for n, (start, end) in enumerate(windows):
        iterations = log.infers[n].iterations if n < len(log.infers) else 0
        if not iterations:
            reasons.append(f"window {n + 1}: no infer command for it in log.txt")
            continue
        per_window.append(eembc_log.span_energy(
            samples, *eembc_log.sample_span(rate, start, end)) / iterations)
        if end - start < metrics.MIN_WINDOW_S:
            reasons.append(f"window {n + 1}: {end - start:.3f} s, below the "
                           f"{metrics.MIN_WINDOW_S:g} s minimum")
    return per_window
