"""Session folders written by the MLCommons runner (no ``run.json``), read into the same
``SessionRecord`` as tinyperf's own, so ``report``, ``history`` and ``compare`` take them.

Everything is recomputed from the raw ``results.json`` with the runner's own formulas: the
median of the window throughputs and the window-length rules (performance), top-1 and AUC
from the per-file scores (accuracy), and the runner's energy method (spec 3.3: last two
events, 1000 Hz, half-open sum; energy). ``log.txt`` gives the DUT's name and model id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats import metrics
from tinyperf.formats.errors import SessionError
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.errors import MonitorError

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
