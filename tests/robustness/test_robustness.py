"""Robustness sweep on a small demo-style synthetic raw set (espeak-ng speech, machine sounds).

What is checked:
- the clean row is exactly what ``prepare`` + ``models evaluate`` give on the same raw set
  (the sweep runs the real feature pipeline and host evaluation);
- at very high SNR (noise under half an LSB) the figure equals the clean one exactly, and at
  40 dB it is within a few clips of it (kws01) / equal (ad01 AUC). The synthetic kws01 clips
  contain stretches of digital silence, which even -40 dB noise changes completely, so a
  few borderline clips flip there (in both directions);
- the figure falls, monotonically-ish, as the SNR drops (small rises between neighbours
  allowed);
- same seed → identical table and JSON; table, JSON and PNG are written.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
import scipy.signal
import scipy.stats
from tinyperf.reference_models import evaluate, prepare, registry
from tinyperf.reference_models import robustness as rb
from tinyperf.reference_models.demo import synthesize_ad01_raw, synthesize_kws01_raw

from tinyperf.cli import robustness as cli

SNRS = (100.0, 40.0, 30.0, 20.0, 10.0, 5.0, 0.0)
NOISY = SNRS[2:]


@pytest.fixture(scope="module")
def kws_raw(tmp_path_factory: pytest.TempPathFactory,
            reference_dir: Path) -> Path:  # noqa: ARG001 (skips without models)
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    raw = tmp_path_factory.mktemp("kws") / "speech_commands_test"
    synthesize_kws01_raw(raw, np.random.default_rng(2024), 3)  # 36 clips
    return raw


@pytest.fixture(scope="module")
def ad_raw(tmp_path_factory: pytest.TempPathFactory,
           reference_dir: Path) -> Path:  # noqa: ARG001 (skips without models)
    raw = tmp_path_factory.mktemp("ad") / "dcase"
    synthesize_ad01_raw(raw, np.random.default_rng(7), (1, 2, 3), 2)  # 6 normal + 6 anomaly
    return raw


def values(result: rb.SweepResult, key: str) -> dict[float | None, float]:
    return {r.snr_db: getattr(r, key) for r in result.rows}


def check_falls(v: dict[float | None, float], drop: float, rise: float) -> None:
    clean = v[None]
    noisy = [v[s] for s in NOISY]
    assert v[0.0] <= clean - drop, v
    # decreasing SNR: a rise from one SNR to the next lower one is at most `rise`
    for hi, lo in itertools.pairwise(NOISY):
        assert v[lo] <= v[hi] + rise, (hi, lo, v)
    rho = scipy.stats.spearmanr(NOISY, noisy).statistic
    assert rho >= 0.6, (rho, v)


def test_kws01_sweep(kws_raw: Path, tmp_path: Path) -> None:
    result = rb.sweep("kws01", kws_raw, SNRS, noise="white", seed=1)
    top1 = values(result, "top1")
    # the clean row is prepare_kws01 + evaluate_kws01 on the same raw clips
    prepare.prepare_kws01(kws_raw, tmp_path / "bins" / "kws01")
    ref = evaluate.evaluate_kws01(registry.resolve_model_file("kws01"), tmp_path / "bins")
    assert top1[None] == pytest.approx(ref.top1)
    assert result.clean.auc == pytest.approx(ref.auc)
    assert result.clean.files == 36
    assert top1[100.0] == top1[None]  # noise below half an LSB: identical PCM
    assert abs(top1[40.0] - top1[None]) <= 3 * 100 / 36 + 1e-9  # a few borderline clips
    check_falls(top1, drop=10.0, rise=3 * 100 / 36 + 1e-9)


def test_kws01_pink_and_determinism(kws_raw: Path, tmp_path: Path) -> None:
    a = rb.sweep("kws01", kws_raw, NOISY, noise="pink", seed=5)
    b = rb.sweep("kws01", kws_raw, NOISY, noise="pink", seed=5)
    assert rb.table(a) == rb.table(b)
    assert a.as_dict() == b.as_dict()
    assert values(a, "top1")[0.0] < values(a, "top1")[None]
    paths = rb.write_outputs(a, tmp_path / "out")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text())
    assert [r["snr_db"] for r in data["rows"]] == [None, *NOISY]
    assert paths["txt"].read_text() == rb.table(a)


def test_ad01_sweep(ad_raw: Path, tmp_path: Path) -> None:
    result = rb.sweep("ad01", ad_raw, SNRS, noise="white", seed=3)
    auc = values(result, "auc")
    prepare.prepare_ad01(ad_raw, tmp_path / "bins" / "ad01")
    ref = evaluate.evaluate_ad01(registry.resolve_model_file("ad01"), tmp_path / "bins")
    assert auc[None] == pytest.approx(ref.auc_pooled)
    assert auc[100.0] == auc[None]
    assert auc[40.0] == pytest.approx(auc[None], abs=0.03)  # at most one of 36 pairs
    check_falls(auc, drop=0.15, rise=0.1)
    again = rb.sweep("ad01", ad_raw, SNRS, noise="white", seed=3)
    assert rb.table(again) == rb.table(result)


def test_noise_file_and_mixing(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pcm = (rng.standard_normal(16000) * 3000).astype(np.int16)
    for kind in ("white", "pink"):
        n = rb.make_noise(kind, 16000, np.random.default_rng(1))
        assert np.sqrt(np.mean(n ** 2)) == pytest.approx(1.0)
        for snr in (30.0, 10.0, 0.0):
            assert rb.measured_snr_db(pcm, rb.mix(pcm, n, snr)) == pytest.approx(snr, abs=0.05)
    # pink: power falls ~3 dB/octave
    n = rb.make_noise("pink", 1 << 16, np.random.default_rng(2))
    f, pxx = scipy.signal.welch(n, 16000, nperseg=4096)
    slope = np.polyfit(np.log10(f[4:]), 10 * np.log10(pxx[4:]), 1)[0]
    assert -12 < slope < -8  # -10 dB/decade
    wav = tmp_path / "hum.wav"
    t = np.arange(8000) / 16000
    scipy.io.wavfile.write(wav, 16000, (np.sin(2 * np.pi * 50 * t) * 10000).astype(np.int16))
    hum = prepare.read_wav(wav)
    n = rb.make_noise("file", 16000, np.random.default_rng(3), hum)
    assert n.size == 16000 and np.sqrt(np.mean(n ** 2)) == pytest.approx(1.0)


def test_cli(ad_raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.register(sub)
    args = parser.parse_args(["robustness", "ad01", "--dataset-path", str(ad_raw), "--snr",
                              "20,0", "--seed", "4", "-o", str(tmp_path / "o")])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "clean" in out and "AUC" in out
    for name in ("robustness.json", "robustness.txt", "robustness.png"):
        assert (tmp_path / "o" / name).is_file()
    args = parser.parse_args(["robustness", "ad01", "--dataset-path", str(ad_raw), "--snr",
                              "x"])
    with pytest.raises(Exception, match="--snr"):
        args.handler(args)
