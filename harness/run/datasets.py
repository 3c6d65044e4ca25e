"""Benchmark datasets on the host: ``y_labels.csv`` index files and ``.bin`` inputs.

Layout (spec 5.1): ``{dataset_path}/{model}/y_labels.csv`` next to its ``.bin`` files.
Values from the CSV are kept as strings, as the MLCommons runner writes them into
results.json.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinyperf.formats.errors import DatasetError

#: Expected ``.bin`` size per dataset folder (spec 5.3); ad01 files hold 200 x 128 float32.
INPUT_BYTES = {"kws01": 490, "vww01": 27648, "ic01": 3072, "ad01": 102400}
#: Models whose label file rows carry ``bytes_to_send`` and ``stride`` (windowed inputs).
WINDOWED = {"ad01"}


@dataclass(frozen=True)
class LabelRow:
    """One row of ``y_labels.csv``: ``file, classes, class[, bytes_to_send, stride]``."""

    file: str
    classes: str
    label: str
    bytes_to_send: str | None = None
    stride: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Input:
    """One thing to download to the DUT: a file, or one window of an ad01 file."""

    row: LabelRow
    segment: int
    data: bytes
    total_length: int | None  # windows per file for ad01 records, as in results.json


def read_labels(path: Path) -> list[LabelRow]:
    """Parse a label file (no header; ``kws01-open`` style spaces after commas accepted)."""
    rows = [LabelRow(fields[0], fields[1], fields[2], *(fields[3:] or (None, None)), number)
            for number, fields in _label_fields(path)]
    if not rows:
        raise DatasetError("label file has no rows", path=path)
    return rows


def label_map(path: Path) -> dict[str, int]:
    """``{file: class}`` of a label file, read and checked as :func:`read_labels` does (the
    checker's form: no row records)."""
    labels = {fields[0]: int(fields[2]) for _number, fields in _label_fields(path)}
    if not labels:
        raise DatasetError("label file has no rows", path=path)
    return labels


def _label_fields(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank row, each one checked."""
    if not path.exists():
        raise DatasetError("label file not found", path=path)
    if not path.is_file():  # a folder, or a named pipe that would block the read forever
        raise DatasetError("label file is not a regular file", path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError("label file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read label file: {exc}", path=path) from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = [f.strip() for f in raw.split(",")]
        if len(fields) not in (3, 5):
            raise DatasetError(f"expected 3 or 5 comma-separated fields, got {len(fields)}: "
                               f"{raw!r}", path=path, line=number)
        if not fields[0]:
            raise DatasetError("empty file name", path=path, line=number)
        for name, value in zip(("classes", "class", "bytes_to_send", "stride"), fields[1:]):
            if not value.lstrip("-").isdigit():
                raise DatasetError(f"field {name!r} is not an integer: {value!r}",
                                   path=path, line=number)
        yield number, fields


def windows(row: LabelRow, data: bytes) -> list[bytes]:
    """Cut an ad01 file into its windows: ``data[k*stride : k*stride + bytes_to_send]``."""
    if row.bytes_to_send is None or row.stride is None:
        return [data]
    size, stride = int(row.bytes_to_send), int(row.stride)
    if size <= 0 or stride <= 0:
        raise DatasetError(f"bytes_to_send and stride must be > 0 (got {size}, {stride})",
                           line=row.line)
    count = 0 if len(data) < size else (len(data) - size) // stride + 1
    return [data[k * stride:k * stride + size] for k in range(count)]


class Dataset:
    """One model's input set: ``{root}/{model}/`` with its label file."""

    def __init__(self, root: Path, model: str, truth_file: str = "y_labels.csv"):
        self.folder = Path(root) / model
        self.model = model
        if not self.folder.is_dir():
            raise DatasetError("dataset folder not found", path=self.folder)
        self.label_path = self.folder / truth_file
        self.rows = read_labels(self.label_path)
        for row in self.rows:
            self._check_row(row)

    def _check_row(self, row: LabelRow) -> None:
        """Refuse, before anything is sent, a row the run or its scoring could not use."""
        classes, label = int(row.classes), int(row.label)
        if classes < 1:
            raise DatasetError(f"classes must be >= 1, got {classes}", path=self.label_path,
                               line=row.line)
        if not 0 <= label < classes:
            raise DatasetError(f"class {label} outside 0..{classes - 1} (the row's "
                               f"{classes} classes)", path=self.label_path, line=row.line)

    def _input_path(self, row: LabelRow) -> Path:
        path = self.folder / row.file
        inside = Path(row.file).is_absolute() is False and \
            path.resolve().is_relative_to(self.folder.resolve())
        if not inside:
            raise DatasetError(f"{row.file!r} is outside the dataset folder",
                               path=self.label_path, line=row.line)
        return path

    def read(self, row: LabelRow) -> bytes:
        """Bytes of ``row``'s file, size-checked against the model's input layout."""
        path = self._input_path(row)
        if path.exists() and not path.is_file():
            raise DatasetError(f"input listed on line {row.line} of {self.label_path.name} is "
                               "not a regular file", path=path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"input listed on line {row.line} of {self.label_path.name} "
                               "not found", path=path) from None
        expected = INPUT_BYTES.get(self.model)
        if expected is not None and len(data) != expected:
            raise DatasetError(f"{len(data)} bytes, expected {expected} for {self.model}",
                               path=path)
        return data

    def inputs(self, all_windows: bool) -> list[Input]:
        """Every download in order: each file, or (ad01, ``all_windows``) each window.

        The reference runner multiplies the loop count by the first file's window count;
        here each file contributes its own count, so unequal files are handled right.
        """
        out: list[Input] = []
        for row in self.rows:
            data = self.read(row)
            if self.model in WINDOWED:
                cut = windows(row, data)
                if not cut:
                    raise DatasetError(f"file shorter than one window ({row.bytes_to_send} "
                                       "bytes)", path=self.folder / row.file)
                chosen = cut if all_windows else cut[:1]
                out.extend(Input(row, k, w, len(chosen)) for k, w in enumerate(chosen))
            else:
                out.append(Input(row, 0, data, None))
        return out
