"""Turn raw audio datasets into official-format ``.bin`` inputs plus ``y_labels.csv``.

This module owns the dataset layouts and file naming:

- kws01 from Google Speech Commands v2, either the test archive (``<keyword>/``,
  ``_silence_/``, ``_unknown_/``) or the main archive (``<word>/`` for all 35 words plus
  ``_background_noise_/``; when ``testing_list.txt`` is present only its clips are used).
  Output names ``tst_{i:06d}_{Name}_{label}.bin``.
- ad01 from DCASE 2020 Task 2 ToyCar ``test/`` (``{normal|anomaly}_id_XX_NNNNNNNN.wav``).
  Output names ``{wav stem}_hist_librosa.bin``.

Feature maths lives in :mod:`tinyperf.reference_models.features`; byte layouts in
:mod:`tinyperf.reference_models.bins`. The example order of the official kws01 set comes from
tfds and cannot be reproduced here; we use sorted path order (documented, deterministic).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.io.wavfile
from tinyperf.formats.errors import DatasetError
from tinyperf.formats.progress import progress
from tinyperf.reference_models import bins
from tinyperf.reference_models.features import ad as ad_features
from tinyperf.reference_models.features import kws as kws_features

logger = logging.getLogger(__name__)

#: kws01 class order (spec §1.1); ``.bin`` names use the capitalised label.
KWS_LABELS = bins.KWS_LABELS
KWS_SILENCE = KWS_LABELS.index("silence")
KWS_UNKNOWN = KWS_LABELS.index("unknown")
BACKGROUND_DIR = "_background_noise_"
SILENCE_DIRS = ("_silence_",)
UNKNOWN_DIRS = ("_unknown_",)
#: Background-noise recordings are cut into 1 s pieces with a 0.5 s hop (tfds builder).
SILENCE_HOP = 8000

AD_WAV_RE = re.compile(r"^(normal|anomaly)_id_(\d{2})_(\d{8})\.wav$")


@dataclass
class PrepareReport:
    """What a prepare run wrote: file count per class, and quantisation overflows (kws01)."""

    model: str
    out_dir: Path
    files: list[str] = field(default_factory=list)
    class_counts: dict[int, int] = field(default_factory=dict)
    overflow_values: int = 0


def kws_bin_name(i: int, label: int) -> str:
    """Official kws01 input name, e.g. ``tst_000000_Stop_7.bin``."""
    return f"tst_{i:06d}_{KWS_LABELS[label].capitalize()}_{label}.bin"


def ad_bin_name(wav_name: str) -> str:
    """Official ad01 input name: ``<wav stem>_hist_librosa.bin``."""
    return f"{Path(wav_name).stem}_hist_librosa.bin"


def read_wav(path: Path, expected_rate: int = 16000) -> np.ndarray:
    """Read a mono 16-bit (or float) WAV at ``expected_rate``; return int16 samples.

    Float WAVs are converted to int16 because both reference pipelines start from int16
    (kws01 via tfds, ad01 via ``int16 / 32768``).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
            rate, data = scipy.io.wavfile.read(path)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read WAV: {exc}", path=path) from exc
    if rate != expected_rate:
        raise DatasetError(f"sample rate {rate} Hz, expected {expected_rate} Hz", path=path)
    if data.ndim == 2:
        if data.shape[1] != 1:
            raise DatasetError(f"expected mono audio, got {data.shape[1]} channels", path=path)
        data = data[:, 0]
    if data.dtype == np.int16:
        return data
    if np.issubdtype(data.dtype, np.floating):
        return np.clip(np.round(data * 32768.0), -32768, 32767).astype(np.int16)
    if data.dtype == np.int32:
        return (data >> 16).astype(np.int16)
    raise DatasetError(f"unsupported WAV sample type {data.dtype}", path=path)


def _kws_examples(raw_dir: Path) -> list[tuple[int, Path, int]]:
    """List (label, wav path, start sample) for every kws01 example under ``raw_dir``.

    Start samples are non-zero only for silence pieces cut from background-noise files.
    """
    testing_list: set[str] | None = None
    list_file = raw_dir / "testing_list.txt"
    if list_file.is_file():
        testing_list = {ln.strip() for ln in list_file.read_text().splitlines() if ln.strip()}
    examples: list[tuple[int, Path, int]] = []
    for folder in sorted(p for p in raw_dir.iterdir() if p.is_dir()):
        name = folder.name
        wavs = sorted(folder.glob("*.wav"))
        if name == BACKGROUND_DIR:
            for wav in wavs:
                n = read_wav(wav).size
                for start in range(0, n - kws_features.CLIP_SAMPLES + 1, SILENCE_HOP):
                    examples.append((KWS_SILENCE, wav, start))
            continue
        if name in SILENCE_DIRS:
            label = KWS_SILENCE
        elif name in UNKNOWN_DIRS:
            label = KWS_UNKNOWN
        elif name.startswith("_"):
            logger.info("skipping folder %s", folder)
            continue
        else:
            label = KWS_LABELS.index(name) if name in KWS_LABELS[:10] else KWS_UNKNOWN
        for wav in wavs:
            if testing_list is not None and f"{name}/{wav.name}" not in testing_list:
                continue
            examples.append((label, wav, 0))
    return examples


def prepare_kws01(
    raw_dir: str | Path, out_dir: str | Path, *, max_per_class: int | None = None
) -> PrepareReport:
    """Write kws01 ``.bin`` inputs and ``y_labels.csv`` from a Speech Commands v2 folder.

    Examples are taken in sorted path order (silence pieces in file/offset order), optionally
    capped at ``max_per_class`` per label, and numbered ``i = 0, 1, ...`` in that order.
    """
    raw = Path(raw_dir)
    out = Path(out_dir)
    if not raw.is_dir():
        raise DatasetError("raw Speech Commands folder not found", path=raw)
    examples = _kws_examples(raw)
    if max_per_class is not None:
        seen: Counter[int] = Counter()
        kept = []
        for ex in examples:
            if seen[ex[0]] < max_per_class:
                seen[ex[0]] += 1
                kept.append(ex)
        examples = kept
    if not examples:
        raise DatasetError("no Speech Commands WAV files found (expected <word>/*.wav)", path=raw)
    out.mkdir(parents=True, exist_ok=True)
    report = PrepareReport("kws01", out)
    rows = []
    cached: tuple[Path, np.ndarray] | None = None  # silence pieces reuse one long recording
    bar = progress(len(examples), desc="data prepare kws01", unit="files")
    for i, (label, wav, start) in enumerate(examples):
        bar.update()
        if cached is None or cached[0] != wav:
            cached = (wav, read_wav(wav))
        pcm = cached[1][start : start + kws_features.CLIP_SAMPLES]
        q, overflow = kws_features.quantize_mfcc_with_count(kws_features.mfcc(pcm))
        if overflow:
            logger.warning("%s: %d MFCC value(s) saturated to int8", wav, overflow)
            report.overflow_values += overflow
        name = kws_bin_name(i, label)
        bins.write_bin(out / name, "kws01", q)
        rows.append((name, label))
    bar.close()
    bins.write_y_labels(out / "y_labels.csv", "kws01", rows)
    report.files = [r[0] for r in rows]
    report.class_counts = dict(sorted(Counter(r[1] for r in rows).items()))
    return report


def _find_toycar_test(raw: Path) -> Path:
    """Accept ``.../ToyCar/test``, ``.../ToyCar`` or a folder holding ``ToyCar/test``."""
    for cand in (raw, raw / "test", raw / "ToyCar" / "test", raw / "dev_data" / "ToyCar" / "test"):
        if cand.is_dir() and any(AD_WAV_RE.match(p.name) for p in cand.glob("*.wav")):
            return cand
    raise DatasetError(
        "no DCASE ToyCar test WAVs ({normal|anomaly}_id_XX_NNNNNNNN.wav) found", path=raw
    )


def prepare_ad01(
    raw_dir: str | Path, out_dir: str | Path, *, official_subset: bool = False
) -> PrepareReport:
    """Write ad01 ``.bin`` inputs and ``y_labels.csv`` from DCASE 2020 ToyCar test WAVs.

    Rows are ordered like the official file: all normal clips, then all anomalies, each by
    machine id and index. ``official_subset`` keeps only indices 3, 13, 23, ... (the
    benchmark's 248-file selection when run on the full dev test set).
    """
    raw = Path(raw_dir)
    test_dir = _find_toycar_test(raw)
    entries = []
    for wav in test_dir.glob("*.wav"):
        m = AD_WAV_RE.match(wav.name)
        if m is None:
            continue
        label = 0 if m.group(1) == "normal" else 1
        index = int(m.group(3))
        if official_subset and index % 10 != 3:
            continue
        entries.append((label, m.group(2), index, wav))
    entries.sort()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = PrepareReport("ad01", out)
    rows = []
    bar = progress(len(entries), desc="data prepare ad01", unit="files")
    for label, _mid, _idx, wav in entries:
        bar.update()
        pcm = read_wav(wav)
        features = ad_features.ad_features(ad_features.int16_to_float(pcm))
        if features.shape[0] != ad_features.NUM_FRAMES:
            raise DatasetError(
                f"clip too short: {pcm.size} samples give {features.shape[0]} of the "
                f"{ad_features.NUM_FRAMES} log-mel frames 50..249 (need ~8 s at 16 kHz)",
                path=wav,
            )
        name = ad_bin_name(wav.name)
        bins.write_bin(out / name, "ad01", features)
        rows.append((name, label))
    bar.close()
    bins.write_y_labels(out / "y_labels.csv", "ad01", rows)
    report.files = [r[0] for r in rows]
    report.class_counts = dict(sorted(Counter(r[1] for r in rows).items()))
    return report
