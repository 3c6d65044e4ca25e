"""Robustness sweep (beyond MLPerf Tiny): accuracy / AUC of a model vs signal-to-noise ratio.

Takes the *raw* audio (Speech Commands layout for kws01, DCASE ToyCar ``test/`` WAVs for
ad01, exactly what :mod:`.prepare` reads), mixes noise into every clip at each
SNR, runs the real feature pipeline (:mod:`.features.kws` MFCC + int8
quantisation / :mod:`.features.ad` log-mel) and scores the model on the host
with the same code as ``tinyperf models evaluate`` (reference kernels for int8 models): kws01
top-1 (argmax) and OvR macro AUC of the printed values, ad01 pooled AUC over files.

Mixing: ``y = x + g·n`` in float (int16 / 32768), then rounded and clipped back to int16 like
a recording. ``n`` is unit-RMS noise (white gaussian, pink 1/f, or a WAV file looped from a
random offset); ``g`` makes ``10·log10(P_x / P_{g·n}) = SNR`` with ``P_x`` the mean power of
the whole clip. Clips with (near) digital silence use a -60 dBFS floor as ``P_x``. Each clip
gets one noise realisation (drawn from ``(seed, clip index)``) scaled to every SNR, so the
SNRs differ only by level (common random numbers: a smoother curve) and a seed reproduces
the table exactly. The clean set (no noise) is always evaluated as the reference row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ConfigError, DatasetError
from tinyperf.formats.progress import progress
from tinyperf.reference_models import evaluate, prepare, registry
from tinyperf.reference_models.features import ad as ad_features
from tinyperf.reference_models.features import kws as kws_features

SAMPLE_RATE = 16000
#: P_x floor for clips that are (nearly) digital silence: -60 dBFS.
SILENCE_FLOOR_POWER = 1e-6
DEFAULT_SNRS = (30.0, 20.0, 10.0, 5.0, 0.0)
NOISE_KINDS = ("white", "pink")


@dataclass(frozen=True)
class Clip:
    """One raw example: label, source WAV name and int16 samples."""

    name: str
    label: int
    pcm: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class SnrRow:
    """Figures at one SNR (``snr_db`` None = clean)."""

    snr_db: float | None
    files: int
    top1: float | None  # percent (kws01: argmax; ad01: the runner's threshold "Top 1%")
    auc: float | None


@dataclass(frozen=True)
class SweepResult:
    model_id: str
    model: str
    noise: str
    seed: int
    rows: list[SnrRow]

    @property
    def clean(self) -> SnrRow:
        return self.rows[0]

    def as_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "model": self.model, "noise": self.noise,
                "seed": self.seed, "metric": "top1" if self.model_id == "kws01" else "auc",
                "note": "beyond MLPerf Tiny: robustness under additive noise; not a "
                        "submission figure",
                "rows": [asdict(r) for r in self.rows]}


# -- raw audio ---------------------------------------------------------------------------------


def load_kws01_clips(raw_dir: Path) -> list[Clip]:
    """Speech Commands layout → 1 s clips with labels, in ``prepare_kws01`` order."""
    raw = Path(raw_dir)
    if not raw.is_dir():
        raise DatasetError("raw Speech Commands folder not found", path=raw)
    clips, cached = [], None
    for label, wav, start in prepare._kws_examples(raw):  # the same listing as prepare
        if cached is None or cached[0] != wav:
            cached = (wav, prepare.read_wav(wav))
        pcm = cached[1][start:start + kws_features.CLIP_SAMPLES]
        clips.append(Clip(f"{wav.parent.name}/{wav.name}@{start}", label, pcm))
    if not clips:
        raise DatasetError("no Speech Commands WAV files found (expected <word>/*.wav)",
                           path=raw)
    return clips


def load_ad01_clips(raw_dir: Path) -> list[Clip]:
    """DCASE ToyCar test WAVs → clips with labels (0 normal, 1 anomaly), prepare's order."""
    test_dir = prepare._find_toycar_test(Path(raw_dir))
    entries = []
    for wav in test_dir.glob("*.wav"):
        m = prepare.AD_WAV_RE.match(wav.name)
        if m is None:
            continue
        entries.append((0 if m.group(1) == "normal" else 1, m.group(2), int(m.group(3)), wav))
    entries.sort()
    return [Clip(wav.name, label, prepare.read_wav(wav)) for label, _m, _i, wav in entries]


# -- noise -------------------------------------------------------------------------------------


def make_noise(kind: str, n: int, rng: np.random.Generator,
               noise_wav: np.ndarray | None = None) -> np.ndarray:
    """Unit-RMS float noise of ``n`` samples: white, pink (1/f), or a looped recording."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        f[0] = f[1]
        x = np.fft.irfft(spec / np.sqrt(f), n)
    else:
        if noise_wav is None or noise_wav.size == 0:
            raise ConfigError(f"noise {kind!r}: no samples")
        src = noise_wav.astype(np.float64)
        start = int(rng.integers(src.size))
        x = np.resize(np.roll(src, -start), n)
        x = x - x.mean()
    rms = float(np.sqrt(np.mean(x ** 2)))
    if rms == 0.0:
        raise ConfigError("the noise is all zeros")
    return x / rms


def mix(pcm: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``pcm`` (int16) plus unit-RMS ``noise`` at ``snr_db`` → int16 (rounded, clipped)."""
    x = pcm.astype(np.float64) / 32768.0
    p_x = max(float(np.mean(x ** 2)), SILENCE_FLOOR_POWER)
    gain = math.sqrt(p_x / 10.0 ** (snr_db / 10.0))
    y = x + gain * noise[:x.size]
    return np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)


def measured_snr_db(pcm: np.ndarray, noisy: np.ndarray) -> float:
    """SNR actually present in ``noisy`` (before clipping effects) against ``pcm``."""
    x = pcm.astype(np.float64)
    d = noisy.astype(np.float64) - x
    return 10.0 * math.log10(max(float(np.mean(x ** 2)), SILENCE_FLOOR_POWER * 32768.0 ** 2)
                             / float(np.mean(d ** 2)))


# -- features and scoring -----------------------------------------------------------------------


class _Scorer:
    """The model and the host evaluation of one benchmark."""

    def __init__(self, model_id: str, model_path: Path):
        self.model_id = model_id
        self.model = evaluate.open_models(model_path, evaluate.default_kernels(model_path), 1)
        detected = evaluate.detect_benchmark(self.model[0])
        if detected != model_id:
            raise ConfigError(f"{model_path} is a {detected} model, not {model_id}")

    def score(self, clips: Sequence[Clip], pcms: Sequence[np.ndarray]) -> tuple[float | None,
                                                                             float | None]:
        labels = np.array([c.label for c in clips])
        m = self.model[0]
        if self.model_id == "kws01":
            # as prepare_kws01 encodes the .bin (saturating int8; the count is not needed)
            q = np.stack([kws_features.quantize_mfcc_with_count(kws_features.mfcc(p))[0]
                          for p in pcms])
            x = evaluate.kws01_model_inputs(q, m)
            out = evaluate.infer_batched(self.model, x)
            _pred, top1, auc = evaluate.kws01_scores(labels, out, evaluate.kws01_printed(out, m))
            return top1, auc
        scores = []
        for p in pcms:
            feats = ad_features.ad_features(ad_features.int16_to_float(p)).astype(np.float32)
            if feats.shape[0] != ad_features.NUM_FRAMES:
                raise DatasetError(f"clip too short: {p.size} samples")
            w = evaluate.ad01_file_windows(feats)
            scores.append(evaluate.file_score(evaluate.ad01_window_scores(m, w)))
        s = np.array(scores)
        from tinyperf.formats import metrics

        auc, _per_id, _mean = evaluate.ad01_aucs([c.name for c in clips], labels, s)
        top1 = metrics.ad_top1_percent(labels, s) if len(s) else None
        return top1, auc


def sweep(model_id: str, dataset_path: str | Path, snrs: Sequence[float] = DEFAULT_SNRS, *,
          noise: str = "white", seed: int = 0, model: str | Path | None = None,
          max_files: int | None = None) -> SweepResult:
    """Evaluate ``model_id`` on the raw set at ``dataset_path``, clean and at every SNR."""
    if model_id not in ("kws01", "ad01"):
        raise ConfigError(f"robustness supports kws01 and ad01, not {model_id!r}")
    clips = (load_kws01_clips if model_id == "kws01" else load_ad01_clips)(Path(dataset_path))
    if max_files is not None:
        clips = clips[:max_files]
    if not clips:
        raise DatasetError("no clips found", path=Path(dataset_path))
    noise_wav = None
    if noise not in NOISE_KINDS:
        path = Path(noise)
        if not path.is_file():
            raise ConfigError(f"--noise must be white, pink or a WAV file; {noise!r} is neither")
        noise_wav = prepare.read_wav(path)
    model_path = registry.resolve_model_file(model_id, model, verify=False)
    scorer = _Scorer(model_id, model_path)
    noises = [make_noise(noise if noise_wav is None else "file", c.pcm.size,
                         np.random.default_rng([seed, i]), noise_wav)
              for i, c in enumerate(clips)]
    bar = progress(len(snrs) + 1, desc=f"robustness {model_id}", unit="SNR steps")
    rows = [SnrRow(None, len(clips), *scorer.score(clips, [c.pcm for c in clips]))]
    bar.update()
    for snr in snrs:
        noisy = [mix(c.pcm, n, float(snr)) for c, n in zip(clips, noises)]
        rows.append(SnrRow(float(snr), len(clips), *scorer.score(clips, noisy)))
        bar.update()
    bar.close()
    return SweepResult(model_id, str(model_path), noise if noise_wav is None else
                       str(Path(noise).name), seed, rows)


# -- output ------------------------------------------------------------------------------------


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def table(result: SweepResult) -> str:
    """A fixed-width text table: SNR, files, top-1 %, AUC, change vs clean."""
    key = "top1" if result.model_id == "kws01" else "auc"
    head = (f"robustness of {result.model_id} to {result.noise} noise (seed {result.seed}; "
            "beyond MLPerf Tiny)\n"
            f"{'SNR dB':>7}  {'files':>5}  {'top-1 %':>7}  {'AUC':>6}  {'change':>7}\n")
    clean = getattr(result.clean, key)
    lines = []
    for r in result.rows:
        v = getattr(r, key)
        if clean is None or v is None:
            delta = "-"
        else:
            delta = f"{v - clean:+.1f}" if key == "top1" else f"{v - clean:+.3f}"
        snr = "clean" if r.snr_db is None else f"{r.snr_db:g}"
        lines.append(f"{snr:>7}  {r.files:>5}  {_fmt(r.top1, '.1f'):>7}  "
                     f"{_fmt(r.auc, '.3f'):>6}  {delta:>7}")
    return head + "\n".join(lines) + "\n"


def plot(result: SweepResult, path: str | Path) -> Path:
    """top-1 (kws01) or AUC (ad01) vs SNR, clean as a dashed line → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = "top1" if result.model_id == "kws01" else "auc"
    pts = sorted((r.snr_db, getattr(r, key)) for r in result.rows
                 if r.snr_db is not None and getattr(r, key) is not None)
    fig, ax = plt.subplots(figsize=(5.0, 3.4), dpi=100)
    try:
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="tab:blue",
                    label=f"{result.noise} noise")
        clean = getattr(result.clean, key)
        if clean is not None:
            ax.axhline(clean, color="black", ls="--", lw=1, label="clean")
        ax.set_xlabel("SNR (dB)")
        ax.set_ylabel("top-1 (%)" if key == "top1" else "AUC")
        ax.set_title(f"{result.model_id}: {'top-1' if key == 'top1' else 'AUC'} vs SNR "
                     f"({result.clean.files} files)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, metadata={"Software": None})
    finally:
        plt.close(fig)
    return out


def write_outputs(result: SweepResult, out_dir: str | Path) -> dict[str, Path]:
    """``robustness.json``, ``robustness.txt`` and ``robustness.png`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "robustness.json", "txt": out / "robustness.txt",
             "png": out / "robustness.png"}
    paths["json"].write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    paths["txt"].write_text(table(result))
    plot(result, paths["png"])
    return paths
