"""``.bin`` input files and ``y_labels.csv`` in the official byte/row formats."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.errors import DatasetError
from tinyperf.reference_models import bins


def test_sizes() -> None:
    assert bins.KWS_BIN_BYTES == 490
    assert bins.AD_BIN_BYTES == 102400


def test_kws_roundtrip(tmp_path: Path) -> None:
    q = np.arange(-128, 362, dtype=np.int64).astype(np.int8).reshape(49, 10)
    p = bins.write_bin(tmp_path / "x.bin", "kws01", q)
    data = p.read_bytes()
    assert len(data) == 490
    assert data[:10] == q[0].tobytes()  # row-major: bytes 0-9 are frame 0
    np.testing.assert_array_equal(bins.read_bin(p, "kws01"), q)


def test_ad_roundtrip_is_little_endian(tmp_path: Path) -> None:
    f = np.linspace(-80, 10, 25600, dtype=np.float32).reshape(200, 128)
    p = bins.write_bin(tmp_path / "a_hist_librosa.bin", "ad01", f)
    data = p.read_bytes()
    assert len(data) == 102400
    assert data[:4] == np.float32(-80.0).astype("<f4").tobytes()
    assert data[512:516] == f[1, 0].astype("<f4").tobytes()  # frame-major
    np.testing.assert_array_equal(bins.read_bin(p, "ad01"), f)


def test_wrong_size_names_file(tmp_path: Path) -> None:
    p = tmp_path / "short.bin"
    p.write_bytes(b"\0" * 489)
    with pytest.raises(DatasetError, match="490") as exc:
        bins.read_bin(p, "kws01")
    assert exc.value.path == str(p)
    with pytest.raises(DatasetError, match="cannot read"):
        bins.read_bin(tmp_path / "missing.bin", "ad01")


def test_encode_rejects_bad_arrays() -> None:
    with pytest.raises(DatasetError, match="int8"):
        bins.encode_bin("kws01", np.zeros((49, 10), dtype=np.float32))
    with pytest.raises(DatasetError, match="shape"):
        bins.encode_bin("kws01", np.zeros((48, 10), dtype=np.int8))
    bad = np.zeros((200, 128), dtype=np.float32)
    bad[3, 3] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        bins.encode_bin("ad01", bad)
    with pytest.raises(DatasetError, match="unknown model"):
        bins.encode_bin("sww01", np.zeros(3))  # no .bin inputs: a stream


def test_label_rows_exact_bytes(tmp_path: Path) -> None:
    rows = [("tst_000000_Stop_7.bin", 7), bins.LabelRow("tst_000001_Left_2.bin", 2)]
    k = bins.write_y_labels(tmp_path / "k.csv", "kws01", rows)
    assert k.read_bytes() == b"tst_000000_Stop_7.bin,12,7\ntst_000001_Left_2.bin,12,2\n"
    a = bins.write_y_labels(tmp_path / "a.csv", "ad01",
                            [("normal_id_01_00000003_hist_librosa.bin", 0)])
    assert a.read_bytes() == b"normal_id_01_00000003_hist_librosa.bin,2,0,2560,512\n"
    assert bins.read_y_labels(k, "kws01") == [bins.LabelRow("tst_000000_Stop_7.bin", 7),
                                              bins.LabelRow("tst_000001_Left_2.bin", 2)]
    with pytest.raises(DatasetError, match="out of range"):
        bins.format_label_row("kws01", "x.bin", 12)


@pytest.mark.parametrize(
    ("model", "text", "line", "match"),
    [
        ("kws01", "a.bin,12,1\nb.bin,12\n", 2, "fields"),
        ("kws01", "a.bin,12,x\n", 1, "non-integer"),
        ("kws01", "a.bin,12,1\n\nb.bin,2,1\n", 3, "class count"),
        ("kws01", "a.bin,12,12\n", 1, "out of range"),
        ("ad01", "a.bin,2,1,2560,256\n", 1, "window/stride"),
        ("ad01", "a.bin,2,0\n", 1, "fields"),
    ],
)
def test_malformed_labels_name_line(
    tmp_path: Path, model: str, text: str, line: int, match: str
) -> None:
    p = tmp_path / "y_labels.csv"
    p.write_text(text)
    with pytest.raises(DatasetError, match=match) as exc:
        bins.read_y_labels(p, model)
    assert exc.value.line == line
    assert f"{p}:{line}" in str(exc.value)


@pytest.mark.parametrize(("model", "count"), [("kws01", 1000), ("ad01", 248)])
def test_official_label_files_roundtrip(tmp_path: Path, model: str, count: int) -> None:
    ref = os.environ.get("TINYPERF_REFERENCE_DIR")
    if not ref:
        pytest.skip("TINYPERF_REFERENCE_DIR is not set")
    official = Path(ref) / model / "y_labels.csv"
    rows = bins.read_y_labels(official, model)
    assert len(rows) == count
    out = bins.write_y_labels(tmp_path / "y_labels.csv", model, rows)
    assert out.read_bytes() == official.read_bytes()


def test_reference_sample_bin_reads() -> None:
    ref = os.environ.get("TINYPERF_REFERENCE_DIR")
    if not ref:
        pytest.skip("TINYPERF_REFERENCE_DIR is not set")
    f = bins.read_bin(Path(ref) / "ad01" / "normal_id_01_00000000_hist_librosa.bin", "ad01")
    assert f.shape == (200, 128) and f.dtype == np.float32
    assert -85 < f.min() < f.max() < 15  # inside the int8 model's representable input range
