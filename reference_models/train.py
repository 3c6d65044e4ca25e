"""Train, quantize, export and evaluate the reference models: ``tinyperf models build``.

Needs TensorFlow (the ``train`` extra, ``pip install -e '.[train]'``). Feature code is the
project's numpy pipelines (:mod:`.features`), the same code ``data prepare``
uses, so training and run-time features cannot drift apart.

:func:`build` ``(model_id, data_dir, out_dir, ...)`` writes into ``out_dir``:

- ``<id>_float.keras`` (trained Keras model), ``<id>_fp32.tflite`` (pure float32),
  ``<id>_int8.tflite`` (full-integer, int8 I/O — the deliverable);
- ``eval/`` — the held-out inputs in the official ``.bin`` + ``y_labels.csv`` layout, scored
  with :mod:`.evaluate` (kws01 ``.bin`` files are encoded with *this* model's
  input quantization; ad01 ``.bin`` files are float and model independent);
- ``run_record.json`` — every hyper-parameter, seed, dataset count, the calibration source,
  float and int8 metrics, the int8 drop, sha256 of the exported files and the versions.

kws01 (spec §1.2, 1.5-1.7), data = extracted Speech Commands v2 (``<word>/*.wav``,
``_background_noise_/``, ``validation_list.txt``, ``testing_list.txt``; ``_silence_/`` and
``_unknown_/`` folders as in the test archive are accepted too):

- splits as tfds builds them: validation = ``validation_list.txt`` + 1 s pieces (0.5 s hop)
  of ``running_tap.wav``; test = ``testing_list.txt`` (or ``test_dir``, e.g. the separate
  v0.02 test archive, the reference's test split); train = the rest, including pieces of the
  other background-noise files as ``silence``. Without list files the Speech Commands hash
  rule (``which_set``, 10 % / 10 %) splits the clips.
- order: tfds's example order cannot be reproduced (it hashes example keys); sorted path
  order is used for validation/test (so ``quant_cal_idxs.txt`` selects *different* clips than
  in the reference) and a fixed permutation (``data_seed``) of it for train, batched *first*,
  then the batch order is reshuffled every epoch (the reference's batch-then-shuffle).
- augmentation (suite decision, spec §1.6): per-example background noise, p 0.8, volume
  U(0, 0.1), a random 1 s segment of a random ``_background_noise_`` wav, added to the
  peak-normalised clip and clipped to [-1, 1]; features are recomputed every epoch. Off when
  there is no ``_background_noise_`` folder (recorded).
- calibration: ``quant_cal_idxs.txt`` = 120 indices into the **validation** split (spec §1.7,
  sorted ascending, MFCC without noise). When it is missing, or indexes past the validation
  split (small data sets), the fallback is the same rule that made it (``mk_cal_set.py``:
  numpy seed 2, 10 per class without replacement) applied to the validation split here.

ad01 (spec §2.2, 2.5-2.7), data = ``dev_data/ToyCar/{train,test}`` (``data_dir`` may be the
folder holding ``dev_data``, ``dev_data`` itself or ``ToyCar``):

- training vectors: all 196 five-frame vectors of every ``train/`` clip in sorted file order;
  Keras ``validation_split=0.1`` (the last 10 % before shuffling), per-epoch shuffle.
- export: BN folded into the Dense layers *correctly* (suite decision, spec §2.7) or with the
  reference's bias-dropping rule (``legacy_fold=True``), 10 FULLY_CONNECTED ops.
- calibration: every vector of the ``calibration.txt`` files (1,400 train files) found in
  ``train/``; fallback: a seeded random fifth of the training files. ``max_calibration``
  optionally subsamples the vectors (seeded).
- evaluation: the ``test/`` clips through :func:`tinyperf.reference_models.prepare.prepare_ad01`,
  AUC pooled (benchmark runner) and per machine id (training scripts), float and int8.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.fft
from tinyperf.formats.errors import ConfigError, DatasetError
from tinyperf.reference_models import bins, prepare
from tinyperf.reference_models.features import ad as ad_features
from tinyperf.reference_models.features import kws as kws_features

logger = logging.getLogger(__name__)

MODEL_IDS = ("kws01", "ad01")
DEFAULT_SEED = 1234

#: Spec §1.6 (kws01) and §2.6 (ad01) hyper-parameters.
KWS_HPARAMS: dict[str, Any] = {
    "epochs": 36,
    "batch_size": 100,
    "optimizer": "adam",
    "adam_beta_1": 0.9,
    "adam_beta_2": 0.999,
    "adam_epsilon": 1e-7,
    "loss": "sparse_categorical_crossentropy (+ L2 1e-4 on the 5 Conv2D kernels)",
    # (first epoch, learning rate): 0-11 5e-4, 12-23 1e-4, 24-35 2e-5, >= 36 1e-5
    "lr_schedule": [[0, 5e-4], [12, 1e-4], [24, 2e-5], [36, 1e-5]],
    "noise_probability": 0.8,
    "noise_volume_max": 0.1,
    "pool": [25, 5],
    "bn_momentum": 0.99,
}
AD_HPARAMS: dict[str, Any] = {
    "epochs": 100,
    "batch_size": 512,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "adam_beta_1": 0.9,
    "adam_beta_2": 0.999,
    "adam_epsilon": 1e-7,
    "loss": "mean_squared_error",
    "validation_split": 0.1,
    "shuffle": True,
    "bn_momentum": 0.99,
}
#: Keys callers may override (e.g. small CI runs); overrides are listed in the run record.
OVERRIDABLE = {
    "kws01": {"epochs", "batch_size", "lr_schedule", "noise_probability", "noise_volume_max",
              "bn_momentum"},
    "ad01": {"epochs", "batch_size", "learning_rate", "validation_split", "bn_momentum"},
}

KWS_CAL_FILE = "quant_cal_idxs.txt"
AD_CAL_FILE = "calibration.txt"
KWS_CAL_SEED = 2
KWS_CAL_PER_CLASS = 10
VALIDATION_NOISE_FILE = "running_tap.wav"
SILENCE_HOP = 8000
#: Speech Commands' own split rule (README of the data set).
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


# -- common -----------------------------------------------------------------------------------


def _tf() -> Any:
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "training needs TensorFlow: pip install -e '.[train]' (or pip install tensorflow)"
        ) from exc
    return tf


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def set_seeds(seed: int) -> None:
    """Python, numpy and TF seeds plus deterministic TF ops (spec: reproducible builds)."""
    tf = _tf()
    # fresh layer-name counters: auto names (dense_18) end up in the .tflite tensor names, so
    # without this a second build in one process differs in bytes though not in weights
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError) as exc:  # pragma: no cover
        logger.warning("deterministic ops not available: %s", exc)


def reference_file(name: str, model_id: str, calibration: str | Path | None) -> Path | None:
    """Locate a calibration definition: ``calibration`` (file or folder), else the reference dir."""
    candidates: list[Path] = []
    if calibration is not None:
        c = Path(calibration)
        candidates += [c] if c.is_file() else [c / name, c / model_id / name]
    env = os.environ.get("TINYPERF_REFERENCE_DIR")
    if env:
        candidates += [Path(env) / model_id / name, Path(env) / name]
    for cand in candidates:
        if cand.is_file():
            return cand
    if calibration is not None:
        raise ConfigError(f"no {name} at {calibration}", path=calibration)
    return None


def _versions() -> dict[str, str]:
    tf = _tf()
    keras_version = getattr(tf.keras, "__version__", None) or getattr(
        __import__("keras"), "__version__", "?")
    return {"tensorflow": tf.__version__, "keras": str(keras_version),
            "numpy": np.__version__, "python": platform.python_version()}


def _hparams(model_id: str, epochs: int | None, overrides: dict[str, Any] | None
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    base = dict(KWS_HPARAMS if model_id == "kws01" else AD_HPARAMS)
    changes = dict(overrides or {})
    if epochs is not None:
        changes["epochs"] = epochs
    bad = set(changes) - OVERRIDABLE[model_id]
    if bad:
        raise ConfigError(f"cannot override {sorted(bad)} for {model_id}")
    if changes.get("epochs", 1) < 1:
        raise ConfigError("must be >= 1", key="epochs")
    deviations = {k: {"spec": base.get(k), "used": v} for k, v in changes.items()
                  if base.get(k) != v}
    base.update(changes)
    return base, deviations


# -- kws01 data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KwsExample:
    """One kws01 example: label, wav file and start sample (silence pieces of long noise)."""

    label: int
    path: Path
    start: int = 0

    @property
    def key(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"


def which_set(filename: str, validation_percentage: float = 10.0,
              testing_percentage: float = 10.0) -> str:
    """Speech Commands' deterministic split of a file (hash of the name without ``_nohash_``)."""
    base = re.sub(r"_nohash_.*$", "", Path(filename).name)
    h = int(hashlib.sha1(base.encode()).hexdigest(), 16)
    pct = (h % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if pct < validation_percentage:
        return "validation"
    if pct < validation_percentage + testing_percentage:
        return "test"
    return "train"


def _read_list(path: Path) -> set[str] | None:
    if not path.is_file():
        return None
    return {ln.strip() for ln in path.read_text().splitlines() if ln.strip()}


def _noise_pieces(wav: Path) -> list[KwsExample]:
    n = prepare.read_wav(wav).size
    # tfds: range(0, len - SAMPLE_RATE, SAMPLE_RATE // 2)
    return [KwsExample(prepare.KWS_SILENCE, wav, s)
            for s in range(0, n - kws_features.CLIP_SAMPLES, SILENCE_HOP)]


def _folder_label(name: str) -> int | None:
    if name in prepare.SILENCE_DIRS:
        return prepare.KWS_SILENCE
    if name in prepare.UNKNOWN_DIRS:
        return prepare.KWS_UNKNOWN
    if name.startswith("_"):
        return None
    labels = prepare.KWS_LABELS
    return labels.index(name) if name in labels[:10] else prepare.KWS_UNKNOWN


def kws01_splits(data_dir: str | Path, test_dir: str | Path | None = None
                 ) -> tuple[dict[str, list[KwsExample]], dict[str, Any]]:
    """Train/validation/test examples of a Speech Commands v2 folder, plus split notes."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError("Speech Commands folder not found", path=root)
    val_list = _read_list(root / "validation_list.txt")
    test_list = _read_list(root / "testing_list.txt")
    rule = "lists" if val_list is not None or test_list is not None else "hash"
    splits: dict[str, list[KwsExample]] = {"train": [], "validation": [], "test": []}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == prepare.BACKGROUND_DIR:
            for wav in sorted(folder.glob("*.wav")):
                split = "validation" if wav.name == VALIDATION_NOISE_FILE else "train"
                splits[split] += _noise_pieces(wav)
            continue
        label = _folder_label(folder.name)
        if label is None:
            continue
        for wav in sorted(folder.glob("*.wav")):
            key = f"{folder.name}/{wav.name}"
            if rule == "lists":
                split = ("validation" if val_list and key in val_list
                         else "test" if test_list and key in test_list else "train")
            else:
                split = which_set(wav.name)
            splits[split].append(KwsExample(label, wav))
    notes: dict[str, Any] = {"split_rule": rule, "test_source": "data_dir"}
    if test_dir is not None:
        test_examples = prepare._kws_examples(Path(test_dir))
        splits["test"] = [KwsExample(lab, p, s) for lab, p, s in test_examples]
        notes["test_source"] = str(test_dir)
    if not splits["train"]:
        raise DatasetError("no training clips found (expected <word>/*.wav)", path=root)
    return splits, notes


class _WavCache:
    """int16 samples of the clips (one read per file; long noise files are cut lazily)."""

    def __init__(self) -> None:
        self._data: dict[Path, np.ndarray] = {}

    def clip(self, ex: KwsExample) -> np.ndarray:
        if ex.path not in self._data:
            self._data[ex.path] = prepare.read_wav(ex.path)
        return self._data[ex.path][ex.start : ex.start + kws_features.CLIP_SAMPLES]


def mfcc_normalized(x: np.ndarray) -> np.ndarray:
    """kws01 MFCCs of an already peak-normalised, 16000-sample float clip (spec §1.3 steps 6-11)."""
    mel = kws_features.magnitude_stft(x) @ kws_features.mel_weight_matrix()
    log_mel = np.log(mel + kws_features.LOG_OFFSET)
    coeffs = scipy.fft.dct(log_mel, type=2, norm=None, axis=-1) / np.sqrt(
        2.0 * kws_features.NUM_MEL_BINS)
    return coeffs[:, : kws_features.NUM_MFCC].astype(np.float32)


def kws01_features(clips: Sequence[np.ndarray], rng: np.random.Generator | None = None,
                   noises: Sequence[np.ndarray] = (), probability: float = 0.8,
                   volume_max: float = 0.1) -> np.ndarray:
    """[n, 49, 10, 1] float32 MFCCs; with ``rng`` and ``noises``, per-example noise mixing."""
    out = np.empty((len(clips), kws_features.NUM_FRAMES, kws_features.NUM_MFCC, 1),
                   dtype=np.float32)
    for i, pcm in enumerate(clips):
        x = kws_features.normalize_clip(pcm)
        if rng is not None and noises and rng.random() < probability:
            noise = noises[int(rng.integers(len(noises)))]
            start = int(rng.integers(0, max(noise.size - x.size, 0) + 1))
            seg = noise[start : start + x.size]
            volume = float(rng.uniform(0.0, volume_max))
            x = x.copy()
            x[: seg.size] += volume * seg
            x = np.clip(x, -1.0, 1.0)
        out[i, :, :, 0] = mfcc_normalized(x)
    return out


def kws01_calibration(val: Sequence[KwsExample], calibration: str | Path | None
                      ) -> tuple[list[int], dict[str, Any]]:
    """Sorted validation indices for calibration and a record of where they came from."""
    path = reference_file(KWS_CAL_FILE, "kws01", calibration)
    info: dict[str, Any] = {"split": "validation", "definition": KWS_CAL_FILE}
    if path is not None:
        idxs = sorted(int(t) for t in path.read_text().split())
        if idxs and max(idxs) < len(val):
            info.update(source="official", file=str(path), sha256=sha256_bytes(path.read_bytes()),
                        note="indices applied to the validation split in sorted path order "
                             "(tfds order is not reproducible, so the clips differ)")
            return idxs, info
        info["rejected"] = (f"{path}: max index {max(idxs) if idxs else None} >= "
                            f"{len(val)} validation examples")
    # mk_cal_set.py: numpy seed 2, for each label in order 10 positions without replacement.
    rng = np.random.RandomState(KWS_CAL_SEED)
    labels = np.array([ex.label for ex in val])
    chosen: list[int] = []
    for label in range(len(prepare.KWS_LABELS)):
        pos = np.flatnonzero(labels == label)
        if pos.size:
            k = min(KWS_CAL_PER_CLASS, pos.size)
            chosen += [int(i) for i in rng.choice(pos, k, replace=False)]
    info.update(source="fallback", rule="mk_cal_set.py (numpy seed 2, 10 per class) on the "
                                        "validation split")
    return sorted(chosen), info


# -- kws01 build -------------------------------------------------------------------------------


def _batch_order_epochs(n: int, batch: int, rng: np.random.Generator) -> np.ndarray:
    """Example order of one epoch: fixed consecutive batches, batch order shuffled."""
    starts = np.arange(0, n, batch)
    rng.shuffle(starts)
    return np.concatenate([np.arange(s, min(s + batch, n)) for s in starts])


def _lr_for_epoch(schedule: Sequence[Sequence[float]], epoch: int) -> float:
    lr = float(schedule[0][1])
    for first, value in schedule:
        if epoch >= first:
            lr = float(value)
    return lr


def write_kws01_eval_set(features: np.ndarray, labels: Sequence[int], out_dir: Path,
                         scale: float, zero_point: int) -> Path:
    """Write the official ``.bin`` + ``y_labels.csv`` layout with the given input quantization."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.bin"):
        old.unlink()
    rows = []
    for i, (f, label) in enumerate(zip(features, labels)):
        q, _ = kws_features.quantize_mfcc_with_count(f[:, :, 0], scale, zero_point)
        name = prepare.kws_bin_name(i, int(label))
        bins.write_bin(out_dir / name, "kws01", q)
        rows.append((name, int(label)))
    bins.write_y_labels(out_dir / "y_labels.csv", "kws01", rows)
    return out_dir


def build_kws01(data_dir: str | Path, out_dir: str | Path, *, epochs: int | None = None,
                seed: int = DEFAULT_SEED, calibration: str | Path | None = None,
                test_dir: str | Path | None = None, noise: bool | None = None,
                overrides: dict[str, Any] | None = None, verbose: int = 0) -> dict[str, Any]:
    """Train the DS-CNN, quantize to int8, export and evaluate (see the module docstring)."""
    from tinyperf.reference_models import architectures, evaluate, quantize, tflite_info

    tf = _tf()
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hp, deviations = _hparams("kws01", epochs, overrides)
    set_seeds(seed)
    data_rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    noise_rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))

    splits, notes = kws01_splits(data_dir, test_dir)
    cache = _WavCache()
    train = splits["train"]
    train = [train[i] for i in data_rng.permutation(len(train))]  # stands in for tfds order
    train_clips = [cache.clip(ex) for ex in train]
    y_train = np.array([ex.label for ex in train], dtype=np.int64)
    val, test = splits["validation"], splits["test"]
    x_val = kws01_features([cache.clip(ex) for ex in val])
    y_val = np.array([ex.label for ex in val], dtype=np.int64)
    x_test = kws01_features([cache.clip(ex) for ex in test])
    y_test = np.array([ex.label for ex in test], dtype=np.int64)
    noise_dir = Path(data_dir) / prepare.BACKGROUND_DIR
    noises = ([prepare.read_wav(w).astype(np.float32) / 32768.0
               for w in sorted(noise_dir.glob("*.wav"))] if noise_dir.is_dir() else [])
    augment = bool(noises) if noise is None else (noise and bool(noises))
    if noise and not noises:
        logger.warning("no %s folder in %s: training without noise", prepare.BACKGROUND_DIR,
                       data_dir)
    x_train_clean = None if augment else kws01_features(train_clips)

    model = architectures.ds_cnn(bn_momentum=hp["bn_momentum"])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(
            learning_rate=_lr_for_epoch(hp["lr_schedule"], 0), beta_1=hp["adam_beta_1"],
            beta_2=hp["adam_beta_2"], epsilon=hp["adam_epsilon"]),
        loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    history: list[dict[str, float]] = []
    t_train = time.perf_counter()
    for epoch in range(hp["epochs"]):
        x_epoch = (kws01_features(train_clips, noise_rng, noises, hp["noise_probability"],
                                  hp["noise_volume_max"]) if augment else x_train_clean)
        assert x_epoch is not None
        order = _batch_order_epochs(len(train), hp["batch_size"], data_rng)
        lr = _lr_for_epoch(hp["lr_schedule"], epoch)
        model.optimizer.learning_rate.assign(lr)
        h = model.fit(x_epoch[order], y_train[order], batch_size=hp["batch_size"],
                      shuffle=False, verbose=verbose,
                      validation_data=(x_val, y_val) if len(val) else None)
        row = {"epoch": epoch, "lr": lr, **{k: float(v[-1]) for k, v in h.history.items()}}
        history.append(row)
        logger.info("kws01 epoch %d: %s", epoch, row)
    train_seconds = time.perf_counter() - t_train

    float_acc = _keras_accuracy(model, x_test, y_test)
    float_val_acc = _keras_accuracy(model, x_val, y_val)

    export = architectures.ds_cnn(batch_size=1)
    export.set_weights(model.get_weights())
    cal_idxs, cal_info = kws01_calibration(val, calibration)
    if not cal_idxs:  # no validation data at all: seeded training subset
        cal_idxs_train = sorted(data_rng.choice(len(train), min(120, len(train)),
                                                replace=False).tolist())
        cal_x = kws01_features([train_clips[i] for i in cal_idxs_train])
        cal_info.update(source="fallback", split="train", rule="seeded random 120")
    else:
        cal_x = x_val[cal_idxs]
    cal_info.update(count=len(cal_x), class_counts=_class_counts(
        [val[i].label for i in cal_idxs] if len(cal_idxs) and cal_info["split"] == "validation"
        else []))
    model.save(out / "kws01_float.keras")
    fp32 = quantize.restore_fc_reshape(quantize.convert_float(export))
    int8 = quantize.restore_fc_reshape(
        quantize.convert_int8(export, lambda: (x[np.newaxis] for x in cal_x)))
    fp32_path = _write(out / "kws01_fp32.tflite", fp32)
    int8_path = _write(out / "kws01_int8.tflite", int8)

    info = tflite_info.read_model(int8_path)
    in_q = info.tensors[info.inputs[0]].quantization
    assert in_q is not None
    scale, zp = float(in_q.scale[0]), int(in_q.zero_point[0])
    eval_dir = write_kws01_eval_set(x_test, y_test, out / "eval" / "kws01", scale, zp)
    int8_eval = evaluate.evaluate(int8_path, eval_dir).as_dict() if len(test) else None
    int8_acc = int8_eval["top1_percent"] / 100.0 if int8_eval else None

    record = {
        "model_id": "kws01",
        "created_unix": time.time(),
        "data_dir": str(Path(data_dir).resolve()),
        "seed": seed,
        "seeds": {"tf_keras_set_random_seed": seed, "data_order": [seed, 1],
                  "noise": [seed, 2], "calibration_fallback_numpy": KWS_CAL_SEED},
        "deterministic_ops": True,
        "hyperparameters": hp,
        "deviations_from_spec": deviations,
        "architecture": {"name": "ds_cnn", "params": architectures.param_counts(model)},
        "dataset": {**notes, "counts": {k: len(v) for k, v in splits.items()},
                    "class_counts": {k: _class_counts([e.label for e in v])
                                     for k, v in splits.items()},
                    "train_order": "fixed permutation of sorted paths (tfds order not "
                                   "reproducible); batches fixed, batch order shuffled per epoch"},
        "augmentation": {"background_noise": augment, "noise_files": len(noises),
                         "time_shift": "none (identity in the reference)"},
        "calibration": cal_info,
        "history": history,
        "metrics": {
            "float_test_accuracy": float_acc,
            "float_validation_accuracy": float_val_acc,
            "int8_test_accuracy": int8_acc,
            "int8_accuracy_drop_points": (None if int8_acc is None or float_acc is None
                                          else 100.0 * (float_acc - int8_acc)),
            "int8_auc": int8_eval["auc"] if int8_eval else None,
            "test_examples": len(test),
            "int8_eval_set": str(eval_dir),
            "int8_eval_input_quantization": {"scale": scale, "zero_point": zp},
        },
        "files": _file_record({"float_keras": out / "kws01_float.keras",
                               "fp32_tflite": fp32_path, "int8_tflite": int8_path}),
        "versions": _versions(),
        "seconds": {"train": train_seconds, "total": time.perf_counter() - t0},
    }
    return _save_record(out, record)


def _keras_accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    if not len(x):
        return None
    pred = np.argmax(model.predict(x, batch_size=256, verbose=0), axis=1)
    return float(np.mean(pred == y))


def _class_counts(labels: Sequence[int]) -> dict[str, int]:
    counts = Counter(labels)
    return {prepare.KWS_LABELS[k]: counts[k] for k in sorted(counts)}


def _file_record(files: dict[str, Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, path in files.items():
        if path.is_file():
            out[key] = {"path": str(path), "bytes": path.stat().st_size,
                        "sha256": sha256_bytes(path.read_bytes())}
    return out


def _save_record(out: Path, record: dict[str, Any]) -> dict[str, Any]:
    path = out / "run_record.json"
    path.write_text(json.dumps(record, indent=2, default=_json_default) + "\n")
    record["record_path"] = str(path)
    return record


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# -- ad01 -------------------------------------------------------------------------------------


AD_TRAIN_RE = re.compile(r"^normal_id_(\d{2})_(\d{8})\.wav$")


def find_toycar(data_dir: str | Path) -> Path:
    """The ``ToyCar`` folder (with ``train/``) under ``data_dir``."""
    root = Path(data_dir)
    for cand in (root, root / "ToyCar", root / "dev_data" / "ToyCar"):
        if (cand / "train").is_dir():
            return cand
    raise DatasetError("no ToyCar/train folder (expected dev_data/ToyCar/{train,test})",
                       path=root)


def ad01_clip_vectors(wav: Path) -> np.ndarray:
    """The 196 model vectors (640 float32) of one clip, spec §2.3."""
    pcm = prepare.read_wav(wav)
    return ad_features.stack_frames(ad_features.ad_features(ad_features.int16_to_float(pcm)))


def ad01_calibration_files(train_files: Sequence[Path], calibration: str | Path | None,
                           rng: np.random.Generator) -> tuple[list[Path], dict[str, Any]]:
    """Files of ``calibration.txt`` present in ``train/``, else a seeded fifth of them."""
    path = reference_file(AD_CAL_FILE, "ad01", calibration)
    info: dict[str, Any] = {"definition": AD_CAL_FILE}
    by_name = {p.name: p for p in train_files}
    if path is not None:
        names = [Path(ln.strip()).name for ln in path.read_text().splitlines() if ln.strip()]
        found = [by_name[n] for n in names if n in by_name]
        if found:
            info.update(source="official", file=str(path),
                        sha256=sha256_bytes(path.read_bytes()), listed=len(names),
                        missing=len(names) - len(found))
            return found, info
        info["rejected"] = f"{path}: none of its {len(names)} files is in train/"
    k = max(1, len(train_files) // 5)
    picks = sorted(rng.choice(len(train_files), k, replace=False).tolist())
    info.update(source="fallback", rule="seeded random 1/5 of the training files")
    return [train_files[i] for i in picks], info


def build_ad01(data_dir: str | Path, out_dir: str | Path, *, epochs: int | None = None,
               seed: int = DEFAULT_SEED, calibration: str | Path | None = None,
               legacy_fold: bool = False, max_calibration: int | None = None,
               overrides: dict[str, Any] | None = None, verbose: int = 0) -> dict[str, Any]:
    """Train the dense autoencoder, fold BN, quantize, export and evaluate."""
    from tinyperf.reference_models import architectures, evaluate, quantize

    tf = _tf()
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hp, deviations = _hparams("ad01", epochs, overrides)
    set_seeds(seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))

    toycar = find_toycar(data_dir)
    train_files = sorted(p for p in (toycar / "train").glob("*.wav") if AD_TRAIN_RE.match(p.name))
    if not train_files:
        raise DatasetError("no normal_id_XX_NNNNNNNN.wav clips in train/", path=toycar / "train")
    vectors = {p: ad01_clip_vectors(p) for p in train_files}
    x_train = np.concatenate([vectors[p] for p in train_files]).astype(np.float32)

    model = architectures.dense_autoencoder(bn_momentum=hp["bn_momentum"])
    model.compile(optimizer=tf.keras.optimizers.Adam(
        learning_rate=hp["learning_rate"], beta_1=hp["adam_beta_1"], beta_2=hp["adam_beta_2"],
        epsilon=hp["adam_epsilon"]), loss="mean_squared_error")
    t_train = time.perf_counter()
    h = model.fit(x_train, x_train, batch_size=hp["batch_size"], epochs=hp["epochs"],
                  shuffle=hp["shuffle"], validation_split=hp["validation_split"],
                  verbose=verbose)
    train_seconds = time.perf_counter() - t_train
    history = [{"epoch": i, **{k: float(v[i]) for k, v in h.history.items()}}
               for i in range(len(h.history["loss"]))]

    folded = architectures.fold_autoencoder(model, legacy=legacy_fold, batch_size=1)
    probe = x_train[:: max(1, len(x_train) // 256)][:256]
    fold_error = float(np.max(np.abs(folded.predict(probe, batch_size=256, verbose=0)
                                     - model.predict(probe, batch_size=256, verbose=0))))
    cal_files, cal_info = ad01_calibration_files(train_files, calibration, rng)
    cal_x = np.concatenate([vectors[p] for p in cal_files]).astype(np.float32)
    if max_calibration is not None and len(cal_x) > max_calibration:
        cal_x = cal_x[np.sort(rng.choice(len(cal_x), max_calibration, replace=False))]
        cal_info["subsampled_to"] = max_calibration
    cal_info.update(files=len(cal_files), vectors=len(cal_x))

    model.save(out / "ad01_float.keras")
    fp32_path = _write(out / "ad01_fp32.tflite", quantize.convert_float(folded))
    int8_path = _write(out / "ad01_int8.tflite", quantize.convert_int8(
        folded, lambda: (v[np.newaxis] for v in cal_x)))

    metrics: dict[str, Any] = {"fold_max_abs_output_diff": fold_error}
    test_dir = toycar / "test"
    test_counts: dict[str, int] = {}
    if test_dir.is_dir() and any(test_dir.glob("*.wav")):
        eval_dir = out / "eval" / "ad01"
        report = prepare.prepare_ad01(test_dir, eval_dir)
        test_counts = {"normal": report.class_counts.get(0, 0),
                       "anomaly": report.class_counts.get(1, 0)}
        for kind, path in (("float", fp32_path), ("int8", int8_path)):
            r = evaluate.evaluate(path, eval_dir).as_dict()
            metrics[f"{kind}_auc_pooled"] = r["auc_pooled"]
            metrics[f"{kind}_auc_per_id"] = r["auc_per_id"]
            metrics[f"{kind}_auc_mean_of_ids"] = r["auc_mean_of_ids"]
        if metrics["float_auc_pooled"] is not None and metrics["int8_auc_pooled"] is not None:
            metrics["int8_auc_drop"] = metrics["float_auc_pooled"] - metrics["int8_auc_pooled"]
        metrics["eval_set"] = str(eval_dir)
    ids = Counter(AD_TRAIN_RE.match(p.name).group(1) for p in train_files)  # type: ignore[union-attr]
    record = {
        "model_id": "ad01",
        "created_unix": time.time(),
        "data_dir": str(Path(data_dir).resolve()),
        "seed": seed,
        "seeds": {"tf_keras_set_random_seed": seed, "calibration": [seed, 3]},
        "deterministic_ops": True,
        "hyperparameters": hp,
        "deviations_from_spec": deviations,
        "architecture": {"name": "dense_autoencoder",
                         "params": architectures.param_counts(model),
                         "folded_params": architectures.param_counts(folded)},
        "bn_fold": "legacy (reference bias-dropping rule)" if legacy_fold else "correct",
        "dataset": {"toycar": str(toycar), "train_files": len(train_files),
                    "train_files_per_id": dict(sorted(ids.items())),
                    "train_vectors": len(x_train),
                    "validation_vectors": len(x_train)
                    - int(len(x_train) * (1 - hp["validation_split"])),
                    "test_files": test_counts},
        "calibration": cal_info,
        "history": history,
        "metrics": metrics,
        "files": _file_record({"float_keras": out / "ad01_float.keras",
                               "fp32_tflite": fp32_path, "int8_tflite": int8_path}),
        "versions": _versions(),
        "seconds": {"train": train_seconds, "total": time.perf_counter() - t0},
    }
    return _save_record(out, record)


# -- entry point ------------------------------------------------------------------------------


def build(model_id: str, data_dir: str | Path, out_dir: str | Path, epochs: int | None = None,
          seed: int = DEFAULT_SEED, *, calibration: str | Path | None = None,
          **options: Any) -> dict[str, Any]:
    """Build ``kws01`` or ``ad01``; returns the run record (also written as JSON)."""
    if model_id == "kws01":
        return build_kws01(data_dir, out_dir, epochs=epochs, seed=seed,
                           calibration=calibration, **options)
    if model_id == "ad01":
        return build_ad01(data_dir, out_dir, epochs=epochs, seed=seed,
                          calibration=calibration, **options)
    raise ConfigError(f"unknown model id {model_id!r} (expected one of {MODEL_IDS})")


def iter_record_lines(record: dict[str, Any]) -> Iterator[str]:
    """Short human summary of a run record (for the CLI)."""
    m = record["metrics"]
    yield f"model      {record['model_id']}  ({record['architecture']['params']['total']:,} params)"
    yield f"epochs     {record['hyperparameters']['epochs']}, seed {record['seed']}, " \
          f"TF {record['versions']['tensorflow']}"
    cal = record["calibration"]
    yield f"calibration {cal['source']} ({cal.get('count', cal.get('vectors'))} inputs)"
    fmt = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
    if record["model_id"] == "kws01":
        yield f"float test accuracy {fmt(m['float_test_accuracy'])}"
        yield f"int8 test accuracy  {fmt(m['int8_test_accuracy'])}"
        drop = m["int8_accuracy_drop_points"]
        yield f"int8 drop           {'n/a' if drop is None else f'{drop:.2f} points'}"
    else:
        yield f"float AUC pooled {fmt(m.get('float_auc_pooled'))}, mean of ids " \
              f"{fmt(m.get('float_auc_mean_of_ids'))}"
        yield f"int8 AUC pooled  {fmt(m.get('int8_auc_pooled'))}, mean of ids " \
              f"{fmt(m.get('int8_auc_mean_of_ids'))}"
    for key, f in record["files"].items():
        yield f"{key:<12} {f['path']}  sha256 {f['sha256'][:16]}…"
    yield f"record     {record.get('record_path')}"


__all__ = ["build", "build_ad01", "build_kws01", "kws01_splits", "which_set"]
