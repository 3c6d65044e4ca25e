"""Demo input sets: synthesise raw audio, prepare it like real data, score it with the models.

This module owns the committed demo sets in ``reference_models/demo_data/{kws01,ad01,ic01,
vww01}`` (ic01/vww01: procedural pictures, :mod:`.synth.images`, prepared by
:mod:`.prepare_images` from a CIFAR-10-layout batch and person/non_person folders) and the
generated sww01 demo stream (``<dir>/sww01/``: a synthetic 16 kHz stereo WAV and
its truth file, too large to commit, written on demand by :func:`sww01_demo_set`).
:func:`make_demo` writes synthetic audio in the *official raw layouts* (Speech Commands test
archive; DCASE ToyCar ``test/``) into a temporary folder and runs it through the same
:mod:`.prepare` code as real data. :func:`evaluate_demo` runs the int8 reference
models on the result (kws01 top-1, ad01 pooled AUC) as a pipeline check; these numbers are
not MLPerf results.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.io.wavfile
import scipy.stats
from tinyperf.reference_models import bins, prepare, prepare_images
from tinyperf.reference_models.features import ad as ad_features
from tinyperf.reference_models.synth import images as synth_images
from tinyperf.reference_models.synth import machine, speech, sww_stream

if TYPE_CHECKING:
    from tinyperf.reference_models.runtime import TfliteModel

logger = logging.getLogger(__name__)

#: Seed of the committed demo data (``tinyperf data demo --out reference_models/demo_data``).
DEFAULT_SEED = 2024
KWS_PER_CLASS = 10
AD_IDS = (1, 2, 3, 4)
AD_PER_ID_AND_LABEL = 2  # 4 ids x 2 = 8 normal + 8 anomaly files
#: sww01 demo stream: file names in ``<dir>/sww01/`` and size (~60 s, 10 wakewords).
SWW_WAV = "sww_demo_stream.wav"
SWW_TRUTH = "sww_demo_test.json"
SWW_LENGTH_S = sww_stream.DEFAULT_LENGTH_S
SWW_WAKEWORDS = sww_stream.DEFAULT_WAKEWORDS
#: ic01 demo: 4 pictures per class, rows interleaved by class (0, 1, ..., 9, 0, ...).
IC_PER_CLASS = 4
#: vww01 demo: 8 person then 8 no-person scenes (the official order: person rows first).
VWW_PER_CLASS = 8
#: vww01 demo names: COCO-style 12-digit ids from here, above every real COCO id (581,615).
VWW_FIRST_ID = 990001
#: Child seeds of ``seed`` (kws01 0, ad01 1, sww01 2).
IC_SEED_CHILD, VWW_SEED_CHILD = 3, 4


def demo_data_dir() -> Path:
    """Folder of the committed demo sets (``kws01/`` and ``ad01/``, each with ``y_labels.csv``)."""
    return Path(__file__).resolve().parent / "demo_data"


def _write_wav(path: Path, pcm: np.ndarray, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.wavfile.write(path, rate, np.asarray(pcm, dtype=np.int16))


def synthesize_kws01_raw(raw_dir: Path, rng: np.random.Generator, per_class: int) -> None:
    """Write synthetic clips in the Speech Commands v2 *test archive* layout.

    Keywords go to ``<word>/``, silence to ``_silence_/``, other words to ``_unknown_/``.
    """
    for label in speech.KWS_CLASSES:
        folder = {"silence": "_silence_", "unknown": "_unknown_"}.get(label, label)
        for k in range(per_class):
            _write_wav(raw_dir / folder / f"synth{k:04d}_nohash_0.wav",
                       speech.synth_class_clip(label, rng))


def synthesize_ad01_raw(
    raw_dir: Path, rng: np.random.Generator, ids: tuple[int, ...], per_id_and_label: int
) -> None:
    """Write synthetic 10 s clips in the DCASE 2020 layout.

    Files are ``ToyCar/test/{normal|anomaly}_id_XX_NNNNNNNN.wav``.
    """
    test_dir = raw_dir / "ToyCar" / "test"
    for kind in ("normal", "anomaly"):
        for mid in ids:
            for k in range(per_id_and_label):
                pcm = machine.synth_machine_clip(mid, kind == "anomaly", rng)
                _write_wav(test_dir / f"{kind}_id_{mid:02d}_{k:08d}.wav", pcm)


def synthesize_sww01(out: Path, rng: np.random.Generator, length_s: float = SWW_LENGTH_S,
                     wakewords: int = SWW_WAKEWORDS) -> sww_stream.SwwStream:
    """Write the sww01 demo stream ``out/sww_demo_stream.wav`` + ``out/sww_demo_test.json``."""
    others = max(0, round(wakewords * sww_stream.DEFAULT_OTHER_WORDS
                          / sww_stream.DEFAULT_WAKEWORDS))
    stream = sww_stream.synth_stream(rng, length_s, wakewords, others)
    sww_stream.write_stream(stream, out / SWW_WAV, out / SWW_TRUTH)
    return stream


def synthesize_ic01_raw(raw_dir: Path, rng: np.random.Generator, per_class: int) -> Path:
    """Write procedural pictures as a CIFAR-10 python batch (``raw_dir/test_batch``: planar
    rows, ``filenames``, ``labels``) plus the demo's label list; returns the list."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    labels = [k % 10 for k in range(10 * per_class)]
    pictures = np.stack([synth_images.ic01_image(label, rng) for label in labels])
    names = [f"synth_{prepare_images.images.CIFAR_CLASSES[lab]}_s_{k:06d}.png"
             for k, lab in enumerate(labels)]
    batch = {b"batch_label": b"tinyperf procedural demo batch", b"labels": labels,
             b"data": pictures.transpose(0, 3, 1, 2).reshape(len(labels), -1),
             b"filenames": [n.encode() for n in names]}
    with open(raw_dir / "test_batch", "wb") as fh:
        pickle.dump(batch, fh, protocol=2)
    rows = [(prepare_images.ic_bin_name(n), lab) for n, lab in zip(names, labels)]
    return bins.write_y_labels(raw_dir / "y_labels.csv", "ic01", rows)


def synthesize_vww01_raw(raw_dir: Path, rng: np.random.Generator, per_class: int) -> Path:
    """Write procedural 160x120 scenes in ``person/`` and ``non_person/`` folders plus the
    demo's label list (person rows first); returns the list."""
    rows = []
    for k in range(2 * per_class):
        person = k < per_class
        folder = raw_dir / ("person" if person else "non_person")
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{VWW_FIRST_ID + k:012d}.png"
        prepare_images.images.write_png(folder / name,
                                        synth_images.vww01_image(person, rng))
        rows.append((prepare_images.images.vww_bin_name(name), int(person)))
    return bins.write_y_labels(raw_dir / "y_labels.csv", "vww01", rows)


def sww01_seed(seed: int) -> np.random.SeedSequence:
    """The sww01 child seed of ``seed`` (kws01 and ad01 keep their children 0 and 1)."""
    return np.random.SeedSequence(seed).spawn(3)[2]


def sww01_demo_set(root: str | Path, seed: int = DEFAULT_SEED) -> tuple[Path, Path]:
    """``(wav, truth)`` of the sww01 demo stream in ``root/sww01``, synthesised first when
    either file is missing (needs espeak-ng)."""
    out = Path(root) / "sww01"
    wav, truth = out / SWW_WAV, out / SWW_TRUTH
    if not (wav.is_file() and truth.is_file()):
        speech.espeak_path()
        synthesize_sww01(out, np.random.default_rng(sww01_seed(seed)))
    return wav, truth


def _clear_outputs(out: Path) -> None:
    """Remove a previous set's ``.bin`` files and labels so no stale inputs survive."""
    if out.is_dir():
        for p in [*out.glob("*.bin"), out / "y_labels.csv"]:
            if p.is_file():
                p.unlink()


def make_demo(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    *,
    kws_per_class: int = KWS_PER_CLASS,
    ad_per_id_and_label: int = AD_PER_ID_AND_LABEL,
    models: tuple[str, ...] = ("kws01", "ad01", "ic01", "vww01"),
) -> dict[str, prepare.PrepareReport]:
    """Synthesise and prepare the demo sets into ``out_dir/<model>`` (kws01, ad01, ic01,
    vww01; sww01 on request).

    kws01, ad01 and sww01 use independent child seeds of ``seed``, so one can be regenerated
    without changing the others. Needs ``espeak-ng`` for kws01 and sww01. sww01 (if asked
    for) writes the demo stream to ``out_dir/sww01`` and has no ``PrepareReport``.
    """
    out = Path(out_dir)
    logger.info("synthesising demo sets %s into %s (seed %d)", ", ".join(models), out, seed)
    kws_seq, ad_seq = np.random.SeedSequence(seed).spawn(2)
    if "sww01" in models:
        speech.espeak_path()  # fail early, before any output is touched
        synthesize_sww01(out / "sww01", np.random.default_rng(sww01_seed(seed)))
    reports: dict[str, prepare.PrepareReport] = {}
    with tempfile.TemporaryDirectory(prefix="tinyperf-demo-") as tmp:
        raw = Path(tmp)
        if "kws01" in models:
            speech.espeak_path()  # fail early, before any output is touched
            synthesize_kws01_raw(raw / "speech_commands_test", np.random.default_rng(kws_seq),
                                 kws_per_class)
            _clear_outputs(out / "kws01")
            reports["kws01"] = prepare.prepare_kws01(raw / "speech_commands_test", out / "kws01")
        if "ad01" in models:
            synthesize_ad01_raw(raw / "dcase", np.random.default_rng(ad_seq), AD_IDS,
                                ad_per_id_and_label)
            _clear_outputs(out / "ad01")
            reports["ad01"] = prepare.prepare_ad01(raw / "dcase", out / "ad01")
        seeds = np.random.SeedSequence(seed).spawn(VWW_SEED_CHILD + 1)
        if "ic01" in models:
            labels = synthesize_ic01_raw(raw / "cifar-10-batches-py",
                                         np.random.default_rng(seeds[IC_SEED_CHILD]),
                                         IC_PER_CLASS)
            _clear_outputs(out / "ic01")
            reports["ic01"] = prepare_images.prepare_ic01(raw / "cifar-10-batches-py",
                                                          out / "ic01", labels=labels)
        if "vww01" in models:
            labels = synthesize_vww01_raw(raw / "vww", np.random.default_rng(
                seeds[VWW_SEED_CHILD]), VWW_PER_CLASS)
            _clear_outputs(out / "vww01")
            reports["vww01"] = prepare_images.prepare_vww01(raw / "vww", out / "vww01",
                                                            labels=labels)
    return reports


@dataclass(frozen=True)
class DemoScores:
    """Pipeline-check numbers of the int8 reference models on a demo set."""

    kws01_top1: float | None = None
    kws01_files: int = 0
    ad01_auc: float | None = None
    ad01_files: int = 0
    sww01: tuple[int, int, int] | None = None  # TP, FN, FP of the demo stream
    sww01_wakewords: int = 0
    ic01_top1: float | None = None
    ic01_files: int = 0
    vww01_top1: float | None = None
    vww01_files: int = 0


def ad01_file_score(model: TfliteModel, features: np.ndarray) -> float:
    """Mean reconstruction MSE over the 196 windows of one ad01 file, firmware style (§2.9).

    Each 640-float window is quantised with round-half-away-from-zero and clamped, the
    dequantised output is compared with the *float* window.
    """
    inp, outp = model.input, model.output
    windows = ad_features.stack_frames(features)
    scaled = windows / inp.scale
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + inp.zero_point
    q = np.clip(q, -128, 127).astype(np.int8)
    out = model.invoke_batch(q)
    deq = (out.astype(np.float32) - outp.zero_point) * outp.scale
    return float(np.mean(np.mean((deq - windows) ** 2, axis=1)))


def evaluate_demo(
    data_dir: str | Path | None = None,
    *,
    kws_model: str | Path | None = None,
    ad_model: str | Path | None = None,
) -> DemoScores:
    """Score the int8 reference models on a demo set (default: the committed one).

    Model files are found by :func:`tinyperf.reference_models.registry.resolve_model_file` (explicit
    path, ``$TINYPERF_REFERENCE_DIR``, cache); no download is attempted.
    """
    from tinyperf.reference_models import registry, runtime  # needs a TFLite runtime

    root = Path(data_dir) if data_dir is not None else demo_data_dir()
    scores: dict[str, float | int | None] = {}
    if (root / "kws01" / "y_labels.csv").is_file():
        model = runtime.TfliteModel(
            registry.resolve_model_file("kws01", kws_model, download=False),
            reference_kernels=True,
        )
        rows = bins.read_y_labels(root / "kws01" / "y_labels.csv", "kws01")
        hits = 0
        for row in rows:
            x = bins.read_bin(root / "kws01" / row.file, "kws01").reshape(model.input.shape)
            hits += int(np.argmax(model.invoke(x)) == row.label)
        scores.update(kws01_top1=hits / len(rows), kws01_files=len(rows))
    if (root / "ad01" / "y_labels.csv").is_file():
        model = runtime.TfliteModel(
            registry.resolve_model_file("ad01", ad_model, download=False),
            reference_kernels=True,
        )
        rows = bins.read_y_labels(root / "ad01" / "y_labels.csv", "ad01")
        file_scores = np.array(
            [ad01_file_score(model, bins.read_bin(root / "ad01" / r.file, "ad01")) for r in rows]
        )
        labels = np.array([r.label for r in rows])
        pos, neg = file_scores[labels == 1], file_scores[labels == 0]
        auc = None
        if pos.size and neg.size:
            # Mann-Whitney U / (n_pos * n_neg) is the ROC AUC (ties count one half).
            auc = float(scipy.stats.mannwhitneyu(pos, neg).statistic / (pos.size * neg.size))
        scores.update(ad01_auc=auc, ad01_files=len(rows))
    for model in ("ic01", "vww01"):
        if (root / model / "y_labels.csv").is_file():
            _names, labels, pixels = prepare_images.read_set(root / model, model)
            predict, _engine = prepare_images.reference_predictor(model, download=False)
            scores.update({f"{model}_top1": float(np.mean(predict(pixels) == labels)),
                           f"{model}_files": len(labels)})
    if (root / "sww01" / SWW_TRUTH).is_file():
        from tinyperf.reference_models.sww import evaluate as sww_evaluate

        result = sww_evaluate.evaluate_truth(registry.resolve_model_file("sww01", download=False),
                                             root / "sww01" / SWW_TRUTH)
        total = result.total
        scores.update(sww01=(total.tp, total.fn, total.fp),
                      sww01_wakewords=sum(len(s.windows) for s in result.streams))
    return DemoScores(**scores)  # type: ignore[arg-type]


def demo_subset(root: Path, model: str, count: int) -> Path:
    """Copy ``count`` files of a demo set into ``root/<model>/`` with their label rows.

    Taken from both ends of the label file, so the ad01 subset holds both labels. Returns
    ``root``, usable as a dataset path. For quick runs (tests, smoke checks).
    """
    src = demo_data_dir() / model
    dst = Path(root) / model
    dst.mkdir(parents=True, exist_ok=True)
    rows = (src / "y_labels.csv").read_text(encoding="utf-8").splitlines()
    half = count // 2
    rows = rows[:count - half] + (rows[-half:] if half else [])
    (dst / "y_labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for row in rows:
        name = row.split(",")[0]
        (dst / name).write_bytes((src / name).read_bytes())
    return Path(root)
