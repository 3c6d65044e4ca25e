"""``.bin`` model inputs and ``y_labels.csv`` files in the official MLPerf Tiny formats.

kws01: 490 bytes of int8 MFCCs, row-major [49][10]; label rows ``{file},12,{label}``.
ad01: 102400 bytes of float32 little-endian log-mel, frame-major [200][128]; label rows
``{file},2,{label},2560,512`` (window and stride in bytes).
ic01 / vww01: raw uint8 pixels, HWC, RGB, top row first: [32][32][3] (3,072 bytes) /
[96][96][3] (27,648 bytes); label rows ``{file},10,{label}`` / ``{file},2,{label}``
(ic_vww.md 2). No header, ``\\n`` line ends.

This module owns the byte layouts and size checks; every malformed file raises
:class:`tinyperf.formats.errors.DatasetError` naming the file (and line, for label files).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tinyperf.formats.errors import DatasetError

#: kws01 class order (spec §1.1): model output index = y_labels label = ``.bin`` name suffix.
KWS_LABELS: tuple[str, ...] = (
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown",
)


@dataclass(frozen=True)
class BinFormat:
    """Byte layout of one model's ``.bin`` input and its ``y_labels.csv`` row."""

    model: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype string with explicit byte order
    num_classes: int
    window_bytes: int | None = None  # ad01 only: runner window / stride columns
    stride_bytes: int | None = None

    @property
    def nbytes(self) -> int:
        """Exact size of one ``.bin`` file."""
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize


FORMATS: dict[str, BinFormat] = {
    "kws01": BinFormat("kws01", (49, 10), "i1", num_classes=12),
    "ad01": BinFormat(
        "ad01", (200, 128), "<f4", num_classes=2, window_bytes=2560, stride_bytes=512
    ),
    "ic01": BinFormat("ic01", (32, 32, 3), "u1", num_classes=10),
    "vww01": BinFormat("vww01", (96, 96, 3), "u1", num_classes=2),
}

KWS_BIN_BYTES = FORMATS["kws01"].nbytes  # 490
AD_BIN_BYTES = FORMATS["ad01"].nbytes  # 102400


def bin_format(model: str) -> BinFormat:
    """Return the :class:`BinFormat` of ``model`` (kws01, ad01, ic01 or vww01)."""
    try:
        return FORMATS[model]
    except KeyError:
        raise DatasetError(
            f"unknown model {model!r} (expected one of {', '.join(FORMATS)})"
        ) from None


def encode_bin(model: str, array: np.ndarray) -> bytes:
    """Serialise one model input to the exact ``.bin`` bytes, checking shape and range."""
    fmt = bin_format(model)
    a = np.asarray(array)
    if a.size != int(np.prod(fmt.shape)):
        raise DatasetError(f"{model} input must have shape {fmt.shape}, got {a.shape}")
    if fmt.dtype == "i1" and a.dtype != np.int8:
        # Refuse silent wrap-around: quantise with features.kws.quantize_mfcc first.
        raise DatasetError(f"{model} input must already be int8, got {a.dtype}")
    if fmt.dtype == "u1" and a.dtype != np.uint8:
        # Pixels are bytes: a float image must be scaled and cast by the caller.
        raise DatasetError(f"{model} input must be uint8 pixels, got {a.dtype}")
    if fmt.dtype == "u1" and a.shape != fmt.shape:
        # A planar (CHW) image has the right size but the wrong layout (ic_vww.md 2.1).
        raise DatasetError(f"{model} input must be HWC {fmt.shape}, got {a.shape}")
    if fmt.dtype == "<f4" and not np.all(np.isfinite(a)):
        raise DatasetError(f"{model} input contains NaN or infinite values")
    data = a.reshape(fmt.shape).astype(fmt.dtype, copy=False).tobytes()
    assert len(data) == fmt.nbytes
    return data


def write_bin(path: str | Path, model: str, array: np.ndarray) -> Path:
    """Write one ``.bin`` input file; returns the path."""
    p = Path(path)
    p.write_bytes(encode_bin(model, array))
    return p


def decode_bin(model: str, data: bytes, path: str | Path | None = None) -> np.ndarray:
    """Parse ``.bin`` bytes into an array of the model's input shape (size-checked)."""
    fmt = bin_format(model)
    if len(data) != fmt.nbytes:
        raise DatasetError(
            f"{model} .bin must be exactly {fmt.nbytes} bytes, got {len(data)}", path=path
        )
    return np.frombuffer(data, dtype=fmt.dtype).reshape(fmt.shape).copy()


def read_bin(path: str | Path, model: str) -> np.ndarray:
    """Read one ``.bin`` input file (kws01 int8 [49,10], ad01 float32 [200,128], ic01/vww01
    uint8 HWC [32,32,3]/[96,96,3])."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read input file: {exc.strerror or exc}", path=p) from exc
    return decode_bin(model, data, path=p)


@dataclass(frozen=True)
class LabelRow:
    """One ``y_labels.csv`` row: input file name and integer class label."""

    file: str
    label: int


def format_label_row(model: str, file: str, label: int) -> str:
    """Format one label row exactly as the official files do (no newline)."""
    fmt = bin_format(model)
    if not 0 <= int(label) < fmt.num_classes:
        raise DatasetError(f"label {label} out of range 0..{fmt.num_classes - 1} for {file!r}")
    if "," in file or "\n" in file:
        raise DatasetError(f"file name {file!r} cannot contain ',' or a newline")
    row = f"{file},{fmt.num_classes},{int(label)}"
    if fmt.window_bytes is not None:
        row += f",{fmt.window_bytes},{fmt.stride_bytes}"
    return row


def write_y_labels(
    path: str | Path, model: str, rows: Iterable[LabelRow | tuple[str, int]]
) -> Path:
    """Write ``y_labels.csv`` (no header, ``\\n`` line ends) in the official row format."""
    p = Path(path)
    lines = []
    for row in rows:
        file, label = (row.file, row.label) if isinstance(row, LabelRow) else row
        lines.append(format_label_row(model, file, label) + "\n")
    with open(p, "w", encoding="ascii", newline="\n") as fh:
        fh.writelines(lines)
    return p


def read_y_labels(path: str | Path, model: str) -> list[LabelRow]:
    """Parse and validate a ``y_labels.csv`` of ``model``; errors name the file and line."""
    fmt = bin_format(model)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read label file: {exc.strerror or exc}", path=p) from exc
    expected_cols = 3 if fmt.window_bytes is None else 5
    rows: list[LabelRow] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        cols = [c.strip() for c in line.split(",")]
        if len(cols) != expected_cols:
            raise DatasetError(
                f"expected {expected_cols} comma-separated fields for {model}, got {len(cols)}",
                path=p,
                line=lineno,
            )
        try:
            values = [int(c) for c in cols[1:]]
        except ValueError:
            raise DatasetError(f"non-integer field in {line!r}", path=p, line=lineno) from None
        if values[0] != fmt.num_classes:
            raise DatasetError(
                f"class count {values[0]} != {fmt.num_classes} for {model}", path=p, line=lineno
            )
        if not 0 <= values[1] < fmt.num_classes:
            raise DatasetError(f"label {values[1]} out of range", path=p, line=lineno)
        if fmt.window_bytes is not None and values[2:] != [fmt.window_bytes, fmt.stride_bytes]:
            raise DatasetError(
                f"window/stride {values[2]},{values[3]} != "
                f"{fmt.window_bytes},{fmt.stride_bytes}",
                path=p,
                line=lineno,
            )
        if not cols[0] or os.sep in cols[0] or "/" in cols[0]:
            raise DatasetError(f"bad input file name {cols[0]!r}", path=p, line=lineno)
        rows.append(LabelRow(cols[0], values[1]))
    return rows
