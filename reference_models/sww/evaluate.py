"""Host evaluation of sww01: stream WAVs through the device pipeline and score them.

No DUT: each WAV's channel 0 runs through :class:`SwwDevice` from ``start`` (features for
all steps in one vectorised pass, then the model step by step), and the detections become
the list the interface board would record: the forced first-step pulse as the origin, then
32 ms per step (sww01_model.md 7; scored times lag audio time by one step, as on the
bench). The list is scored with the runner's rules (:mod:`tinyperf.formats.sww_score`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import DatasetError
from tinyperf.formats.sww_score import (
    ALLOWANCE_CODE,
    Score,
    SwwDataError,
    TruthEntry,
    load_truth,
    score,
)
from tinyperf.reference_models.sww import features as ft
from tinyperf.reference_models.sww.device import SwwDevice
from tinyperf.reference_models.sww.wav import read_channel0

#: One step is 512 samples at 16 kHz: exactly 32 ms.
STEP_MS = ft.BLOCK * 1000 // ft.SAMPLE_RATE


@dataclass
class StreamResult:
    """One WAV streamed and scored."""

    wav: str
    steps: int
    detections_ms: list[int]  # board-style list: origin pulse (0) first
    detection_steps: list[int]
    activations: list[int]
    score: Score
    windows: tuple[tuple[float, float], ...]
    features_s: float
    model_s: float

    def as_dict(self) -> dict[str, Any]:
        s = self.score
        return {"wav": self.wav, "steps": self.steps, "tp": s.tp, "fn": s.fn, "fp": s.fp,
                "false_negatives_s": s.missed,
                "false_positives_s": [t / 1000 for t in s.false_ms],
                "detection_steps": self.detection_steps, "detections_ms": self.detections_ms,
                "detection_windows": [list(w) for w in self.windows],
                "activations": self.activations, "features_s": self.features_s,
                "model_s": self.model_s}


@dataclass
class Evaluation:
    """Every stream scored, the total, and the truth entries whose WAV was not found."""

    model: str
    allowance: str
    streams: list[StreamResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def total(self) -> Score:
        out = Score()
        for s in self.streams:
            out += s.score
        return out

    def as_dict(self) -> dict[str, Any]:
        t = self.total
        return {"model": self.model, "kernels": "reference (BUILTIN_REF)",
                "allowance": self.allowance, "tp": t.tp, "fn": t.fn, "fp": t.fp,
                "streams": [s.as_dict() for s in self.streams], "skipped": self.skipped}


def detections_ms(detected_steps: list[int]) -> list[int]:
    """The board's detection list for pulses at these steps, origin = step 0's pulse."""
    return [STEP_MS * k for k in detected_steps]


def stream_wav(device: SwwDevice, wav: str | Path, windows: tuple[tuple[float, float], ...],
               allowance: str = ALLOWANCE_CODE) -> StreamResult:
    """Run one WAV from ``start`` through ``device`` and score it against ``windows``."""
    samples = read_channel0(wav)
    if len(samples) < ft.BLOCK:
        raise DatasetError(f"{len(samples)} samples: shorter than one 512-sample step", wav)
    device.start()
    t0 = time.perf_counter()
    q = device.stream_features(samples)
    t1 = time.perf_counter()
    outs = [device.step_features(row) for row in q]
    t2 = time.perf_counter()
    steps = [k for k, o in enumerate(outs) if o.detected]
    dets = detections_ms(steps)
    return StreamResult(Path(wav).name, len(outs), dets, steps, list(device.activations),
                        score(dets, windows, allowance), windows, t1 - t0, t2 - t1)


def _pick_entry(entries: list[TruthEntry], wav: Path, truth: Path) -> TruthEntry:
    named = [e for e in entries if e.wav_file == wav.name]
    if named:
        return named[0]
    if len(entries) == 1:
        return entries[0]  # a single-stream truth file scores whatever WAV it is given
    raise SwwDataError(f"{truth}: no entry has wav_file {wav.name!r} (entries: "
                       f"{', '.join(e.wav_file for e in entries)})")


def evaluate_wav(model: str | Path, wav: str | Path, truth: str | Path,
                 allowance: str = ALLOWANCE_CODE) -> Evaluation:
    """``models evaluate sww01 --wav W --truth T``: one WAV, its truth entry."""
    wav, truth = Path(wav), Path(truth)
    entry = _pick_entry(load_truth(truth), wav, truth)
    result = Evaluation(str(model), allowance)
    result.streams.append(stream_wav(SwwDevice(model), wav, entry.windows, allowance))
    return result


def evaluate_truth(model: str | Path, truth: str | Path, wav_dir: str | Path | None = None,
                   allowance: str = ALLOWANCE_CODE,
                   progress: Callable[[str], None] | None = None) -> Evaluation:
    """Every entry of ``truth`` whose WAV exists in ``wav_dir`` (default: the truth file's
    folder); the others are listed in ``skipped``."""
    truth = Path(truth)
    folder = Path(wav_dir) if wav_dir is not None else truth.parent
    result = Evaluation(str(model), allowance)
    device = SwwDevice(model)
    for entry in load_truth(truth):
        wav = folder / entry.wav_file
        if not wav.is_file():
            result.skipped.append(f"{entry.wav_file} (not in {folder})")
            continue
        if progress is not None:
            progress(f"streaming {wav}")
        result.streams.append(stream_wav(device, wav, entry.windows, allowance))
    return result


def truth_files(folder: str | Path) -> list[Path]:
    """Truth JSON files of a data folder (``<dir>/*.json`` or ``<dir>/sww01/*.json``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError("not a folder", folder)
    for where in (folder, folder / "sww01"):
        found = sorted(p for p in where.glob("*.json") if _is_truth(p))
        if found:
            return found
    raise DatasetError("no sww01 truth file (a JSON list of wav_file/detection_windows "
                       "entries) in this folder or its sww01/ sub-folder", folder)


def _is_truth(path: Path) -> bool:
    try:
        load_truth(path)
    except SwwDataError:
        return False
    return True


def evaluate_folder(model: str | Path, folder: str | Path, allowance: str = ALLOWANCE_CODE,
                    progress: Callable[[str], None] | None = None) -> Evaluation:
    """Every truth file of ``folder`` and every entry whose WAV sits next to it."""
    result = Evaluation(str(model), allowance)
    for truth in truth_files(folder):
        part = evaluate_truth(model, truth, allowance=allowance, progress=progress)
        result.streams += part.streams
        result.skipped += [f"{truth.name}: {s}" for s in part.skipped]
    return result
