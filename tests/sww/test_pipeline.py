"""sww01 device pipeline against the spec's goldens (sww01_model.md 10) and its edge rules."""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.errors import DatasetError, ModelError
from tinyperf.reference_models.sww import features as ft
from tinyperf.reference_models.sww.device import StepOutput, SwwDevice, detects
from tinyperf.reference_models.sww.wav import blocks, read_blocks, read_channel0

SHORT_FEATURES_SHA = "242f694c6897fd33bd82883e0cbcb3df092605d807bcf9e6f3c041f2cc185e51"
SHORT_WW_SHA = "c8a52fd7834fca45082e3592b45dbe26d0660d834690b2d8e2a6438b9dc0803c"
MARVIN_FEATURES_SHA = "dab0c5691d1e3bd5ca8cf55ce05c7e5debd8a9eb43926c0b2972a1d366f3092c"
STEP45 = [-128, -87, -17, -54, -17, -1, -35, 3, -10, 22, -17, -9, -33, -48, -53, -72, -61,
          -64, -15, 26, 19, -8, -27, -54, -14, 1, -37, -74, -94, -65, -43, -63, -66, -58, -66,
          -72, -103, -111, -128, -128]
MARVIN_STEP15 = [-115, -32, 0, -49, 6, 3, -18, 4, 27, 25, 53, 49, 48, 53, 43, 41, 6, -5, -3, 4,
                 0, -16, -12, 10, 17, 4, 2, 50, 48, -4, -28, -61, -69, -77, -44, 2, 27, 15,
                 -30, -83]


@pytest.fixture(scope="module")
def sww_dir(reference_dir: Path) -> Path:
    return reference_dir / "sww01"


@pytest.fixture(scope="module")
def device(sww_dir: Path) -> SwwDevice:
    return SwwDevice(sww_dir / "str_ww_ref_model.tflite")


def _stream(device: SwwDevice, wav: Path) -> list[StepOutput]:
    device.start()
    return [device.step(b) for b in read_blocks(wav)]


@pytest.fixture(scope="module")
def short_run(device: SwwDevice, sww_dir: Path) -> list[StepOutput]:
    return _stream(device, sww_dir / "short_wav_easy10s.wav")


def _golden(sww_dir: Path, name: str) -> dict:
    return json.loads((sww_dir / "golden" / f"{name}.json").read_text())


def test_short_file_features_equal_golden(short_run, sww_dir):
    gold = _golden(sww_dir, "short")
    feats = np.array([o.features for o in short_run], dtype=np.int8)
    assert feats.shape == (312, 40)
    assert np.array_equal(feats, np.array(gold["features_int8"], dtype=np.int8))
    assert hashlib.sha256(feats.tobytes()).hexdigest() == SHORT_FEATURES_SHA
    assert feats[45].tolist() == STEP45
    assert feats[136, :8].tolist() == [-121, -102, -90, -98, -49, -88, -59, -39]
    nonzero = [k for k in range(312) if (feats[k] != -128).any()]
    assert len(nonzero) == 165


def test_short_file_ww_outputs_and_detections(short_run, sww_dir):
    ww = [o.ww for o in short_run]
    assert ww == _golden(sww_dir, "short")["kernels"]["ref"]["ww_int8"]
    assert hashlib.sha256(np.array(ww, np.int8).tobytes()).hexdigest() == SHORT_WW_SHA
    assert sum(ww) == -23103
    assert [k for k, o in enumerate(short_run) if o.detected] == [0, *range(43, 67), 156]


def test_activation_log_holds_every_step(short_run, device):
    # the module's device last streamed the short file (fixture order), log = every out[0]
    assert device.activations == [o.ww for o in short_run]


def test_marvin_clip_features_and_outputs(sww_dir):
    # a fresh device: the pre-emphasis state is the power-up 0 of the goldens
    fresh = SwwDevice(sww_dir / "str_ww_ref_model.tflite")
    fresh.start()
    run = _stream(fresh, sww_dir / "marvin_617de221_0.wav")
    feats = np.array([o.features for o in run], dtype=np.int8)
    gold = _golden(sww_dir, "marvin")
    assert np.array_equal(feats, np.array(gold["features_int8"], dtype=np.int8))
    assert hashlib.sha256(feats.tobytes()).hexdigest() == MARVIN_FEATURES_SHA
    assert feats[15].tolist() == MARVIN_STEP15
    assert [o.ww for o in run] == [-128] * 17 + [-115, 95, 121, 124, 122, 121] + [127] * 8
    assert [k for k, o in enumerate(run) if o.detected] == [0, *range(19, 31)]


def test_vectorised_run_equals_stepping(short_run, device, sww_dir):
    samples = read_channel0(sww_dir / "short_wav_easy10s.wav")
    fast = device.run(samples)
    assert [o.ww for o in fast] == [o.ww for o in short_run]
    assert all(np.array_equal(a.features, b.features) for a, b in zip(fast, short_run))
    assert device.activations == [o.ww for o in short_run]
    # the state after run() is the one stepping leaves: a further block gives equal results
    assert device.pre_emphasis_state == np.float32(samples[-257 - 512] / 32768)
    extra = np.arange(512, dtype=np.int16)
    after_run = device.step(extra)
    _stream(device, sww_dir / "short_wav_easy10s.wav")
    assert np.array_equal(device.step(extra).features, after_run.features)


def test_start_keeps_pre_emphasis_state(device):
    # A loud last sample before start changes y[0] of the next run's first window only,
    # whose weight is 0.08: the int8 features may not change, but the state must persist.
    block = np.full(512, 20000, np.int16)
    device.start()
    device.step(block)
    assert device.pre_emphasis_state == 0  # x[511] of window 0 = last history sample
    device.step(block)
    assert device.pre_emphasis_state == np.float32(20000 / 32768)
    device.start()
    assert device.pre_emphasis_state == np.float32(20000 / 32768)
    assert device.step(np.zeros(512, np.int16)).first


def test_first_step_pulses_and_model_input_starts_at_zero(device):
    device.start()
    first = device.step(np.zeros(512, np.int16))
    second = device.step(np.zeros(512, np.int16))
    assert first.detected and first.first and first.ww == -128
    assert not second.detected and not second.first
    assert device.activations == [first.ww, second.ww]


def test_detection_rule_threshold():
    assert detects(116, False) and not detects(115, False) and detects(-128, True)


def test_quantisation_truncates_and_wraps():
    f = np.array([0.0, 1e-4, 0.022555, 0.5, 1.0], np.float32)
    assert ft.quantize(f).tolist() == [-128, -127, -121, 7, -114]


def test_mel_matrix_matches_firmware_table_layout():
    w = ft.mel_matrix()
    starts = [int(np.flatnonzero(w[:, m])[0]) for m in range(40)]
    lens = [int(np.count_nonzero(w[:, m])) for m in range(40)]
    assert starts[:8] == [1, 3, 6, 10, 13, 17, 20, 25] and starts[-1] == 448
    assert lens[:6] == [5, 7, 7, 7, 7, 8] and lens[-1] == 64
    assert int(np.count_nonzero(w)) == 987 and not w[512].any()


def test_hamming_is_periodic():
    w = ft.hamming_periodic()
    assert w[0] == np.float32(0.08) and w[512] == np.float32(1.0) and w[1] == w[1023]


def test_step_rejects_wrong_blocks(device):
    with pytest.raises(ValueError, match="int16"):
        device.step(np.zeros(512, np.float32))
    with pytest.raises(ValueError, match="512"):
        device.step(np.zeros(256, np.int16))


def test_partial_trailing_block_is_not_processed():
    assert len(list(blocks(np.zeros(512 * 3 + 300, np.int16)))) == 3


def _write_wav(path: Path, rate: int, width: int, channels: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x00" * width * channels * 1024)
    return path


def test_wav_reader_takes_channel0(tmp_path):
    path = tmp_path / "lr.wav"
    stereo = np.stack([np.arange(1024, dtype=np.int16), -np.arange(1024, dtype=np.int16)], 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(stereo.astype("<i2").tobytes())
    assert read_channel0(path).tolist() == list(range(1024))


@pytest.mark.parametrize(("rate", "width", "field"), [(8000, 2, "sample_rate"),
                                                      (16000, 1, "bits_per_sample"),
                                                      (16000, 4, "bits_per_sample")])
def test_wav_reader_names_the_bad_field(tmp_path, rate, width, field):
    path = _write_wav(tmp_path / "bad.wav", rate, width)
    with pytest.raises(DatasetError, match=field) as err:
        read_channel0(path)
    assert "bad.wav" in str(err.value)


def test_wav_reader_rejects_non_wav_and_missing(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav file at all")
    with pytest.raises(DatasetError, match=r"junk\.wav"):
        read_channel0(junk)
    with pytest.raises(DatasetError, match="not found"):
        read_channel0(tmp_path / "missing.wav")


def test_model_with_wrong_input_is_refused(reference_dir):
    with pytest.raises(ModelError, match="30, 1, 40"):
        SwwDevice(reference_dir / "kws01" / "kws_ref_model.tflite")


def test_stream_features_equal_per_step_across_chunks():
    # loud noise (features wrap above 0.947) over more steps than one vectorised chunk
    rng = np.random.default_rng(3)
    samples = (rng.standard_normal(512 * 2100) * 12000).clip(-32768, 32767).astype(np.int16)
    _, fast = ft.features_for_stream(samples, x_prev=0.25)
    history, x_prev, rows = np.zeros(512, np.int16), np.float32(0.25), []
    for block in blocks(samples):
        f, q, x_prev = ft.features_for_window(np.concatenate((history, block)), x_prev)
        rows.append(q)
        history = block
    assert np.array_equal(fast, np.array(rows))
    assert (f > 0.94747).any()  # the wrap region is exercised


def test_step_features_rejects_wrong_rows(device):
    with pytest.raises(ValueError, match="int8"):
        device.step_features(np.zeros(40, np.int16))
    with pytest.raises(ValueError, match="40"):
        device.step_features(np.zeros(39, np.int8))
