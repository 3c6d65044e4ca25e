"""Turn raw image datasets into official-format ic01 / vww01 ``.bin`` inputs + ``y_labels.csv``.

Sources (ic_vww.md 2):

- ic01: the CIFAR-10 python ``test_batch`` (the file, or its ``cifar-10-batches-py``
  folder), or a folder of 32x32 PNGs (flat, named as CIFAR-10's ``filenames``, or in one
  folder per class name). Each ``.bin`` is the raw HWC RGB uint8 image, named after the
  CIFAR file name with ``png`` replaced by ``bin``; no resize.
- vww01: ``person/`` and ``non_person/`` image folders (the ``vw_coco2014_96`` layout), or
  a COCO image folder plus its instances JSON (labelled as the VWW builder does). Each image
  is resized to 96x96 as ``skimage`` does, x255, truncated to uint8; named by COCO id.

By default the inputs are those of the benchmark's label list (``y_labels.csv`` from the
registry, in its row order: the first 5 rows are the performance subset), and the list
written equals it; ``labels`` picks another list (ic01's superseded one), ``every_image``
writes every image found with its source label.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tinyperf.formats.errors import DatasetError
from tinyperf.formats.progress import progress
from tinyperf.reference_models import bins, images
from tinyperf.reference_models.prepare import PrepareReport

#: Folder names of the two vww01 classes (label 1 = person, ic_vww.md 2.2).
VWW_FOLDERS = {"person": 1, "non_person": 0, "non-person": 0, "nonperson": 0,
               "notperson": 0, "no_person": 0}

#: name of the .bin -> (label from the source, loader of its HWC uint8 pixels)
Source = dict[str, tuple[int | None, Callable[[], np.ndarray]]]


def ic_bin_name(name: str) -> str:
    """CIFAR-10 file name -> ic01 input name (``emu_s_002009.png`` -> ``emu_s_002009.bin``)."""
    return f"{Path(name).stem}.bin"


def _cifar_batch_file(raw: Path) -> Path | None:
    for cand in (raw, raw / "test_batch", raw / "cifar-10-batches-py" / "test_batch"):
        if cand.is_file():
            return cand
    return None


def ic01_source(raw: Path) -> Source:
    """Every ic01 image a CIFAR-10 batch or PNG folder holds, by ``.bin`` name."""
    batch = _cifar_batch_file(raw)
    if batch is not None:
        pixels, labels, names = images.read_cifar_batch(batch)
        return {ic_bin_name(n): (lab, (lambda i=i: pixels[i]))
                for i, (lab, n) in enumerate(zip(labels, names))}
    if not raw.is_dir():
        raise DatasetError("no CIFAR-10 test_batch file or PNG folder here", path=raw)
    out: Source = {}
    for path in sorted(p for p in raw.rglob("*") if p.suffix.lower() in images.IMAGE_SUFFIXES):
        folder = path.parent.name
        label = images.CIFAR_CLASSES.index(folder) if folder in images.CIFAR_CLASSES else None
        out[ic_bin_name(path.name)] = (label, _ic_png(path))
    if not out:
        raise DatasetError("no CIFAR-10 test_batch and no .png images found", path=raw)
    return out


def _ic_png(path: Path) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        img = images.read_image(path)
        if img.shape != (images.IC_SIZE, images.IC_SIZE, 3):
            raise DatasetError(f"ic01 images are 32x32 (no resize is done), got "
                               f"{img.shape[1]}x{img.shape[0]}", path=path)
        return img
    return load


def vww01_source(raw: Path, annotations: Path | None = None) -> Source:
    """Every vww01 image of a person/non_person folder pair or a COCO folder + JSON."""
    if not raw.is_dir():
        raise DatasetError("image folder not found", path=raw)
    found: list[tuple[Path, int | None]] = []
    if annotations is not None:
        try:
            doc = json.loads(annotations.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read COCO annotations: {exc}", path=annotations) from exc
        for file_name, label in images.coco_person_labels(doc, annotations).items():
            path = raw / file_name
            if path.is_file():
                found.append((path, label))
    else:
        for folder in sorted(p for p in raw.iterdir() if p.is_dir()):
            label = VWW_FOLDERS.get(folder.name.lower())
            if label is None:
                continue
            found += [(p, label) for p in sorted(folder.iterdir())
                      if p.suffix.lower() in images.IMAGE_SUFFIXES]
    if not found:
        raise DatasetError("no images found (expected person/ and non_person/ folders, or "
                           "COCO images named in --annotations)", path=raw)
    out: Source = {}
    for path, label in found:
        name = images.vww_bin_name(path.name)
        if name in out and out[name][0] != label:
            raise DatasetError(f"{name}: the same COCO image in both classes", path=path)
        out[name] = (label, (lambda p=path: images.vww_pixels(images.read_image(p))))
    return out


def _rows(source: Source, labels: Path | None, every_image: bool, model: str
          ) -> list[tuple[str, int]]:
    """(name, label) to write: the label list's rows, or every image with its label."""
    if every_image:
        missing = [n for n, (lab, _f) in source.items() if lab is None]
        if missing:
            raise DatasetError(f"{len(missing)} image(s) have no class (e.g. {missing[0]}): "
                               "put them in class folders or give the label list")
        return sorted((n, int(lab)) for n, (lab, _f) in source.items())  # type: ignore[arg-type]
    assert labels is not None
    rows = [(r.file, r.label) for r in bins.read_y_labels(labels, model)]
    absent = [n for n, _lab in rows if n not in source]
    if absent:
        raise DatasetError(f"{len(absent)} of the {len(rows)} inputs of {labels.name} are not "
                           f"in the raw data (e.g. {absent[0]}); use every image found with "
                           "--all", path=labels)
    for n, lab in rows:
        if source[n][0] is not None and source[n][0] != lab:
            raise DatasetError(f"{n}: class {source[n][0]} in the raw data but {lab} in the "
                               "label list", path=labels)
    return rows


def _write(model: str, source: Source, rows: list[tuple[str, int]], out: Path
           ) -> PrepareReport:
    out.mkdir(parents=True, exist_ok=True)
    report = PrepareReport(model, out)
    bar = progress(len(rows), desc=f"data prepare {model}", unit="files")
    for name, _label in rows:
        bar.update()
        bins.write_bin(out / name, model, source[name][1]())
    bar.close()
    bins.write_y_labels(out / "y_labels.csv", model, rows)
    report.files = [n for n, _lab in rows]
    report.class_counts = dict(sorted(Counter(lab for _n, lab in rows).items()))
    return report


def prepare_ic01(raw: str | Path, out_dir: str | Path, *, labels: str | Path | None = None,
                 every_image: bool = False) -> PrepareReport:
    """Write ic01 inputs from CIFAR-10 (see the module docstring); ``labels``: the list
    to follow (default: the benchmark's ``y_labels.csv`` from the registry)."""
    src = ic01_source(Path(raw))
    lab = None if every_image else _labels_file("ic01", labels)
    return _write("ic01", src, _rows(src, lab, every_image, "ic01"), Path(out_dir))


def prepare_vww01(raw: str | Path, out_dir: str | Path, *, annotations: str | Path | None = None,
                  labels: str | Path | None = None, every_image: bool = False
                  ) -> PrepareReport:
    """Write vww01 inputs from person/non_person folders or COCO + its annotation JSON."""
    src = vww01_source(Path(raw), Path(annotations) if annotations else None)
    lab = None if every_image else _labels_file("vww01", labels)
    return _write("vww01", src, _rows(src, lab, every_image, "vww01"), Path(out_dir))


def _labels_file(model: str, labels: str | Path | None) -> Path:
    if labels is not None:
        return Path(labels)
    from tinyperf.reference_models import registry

    return registry.labels(model)


# -- checking a prepared set --------------------------------------------------------------------


def read_set(folder: str | Path, model: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(names, labels, pixels [N,H,W,3] uint8) of a prepared ic01/vww01 folder."""
    d = Path(folder)
    if not (d / "y_labels.csv").is_file() and (d / model / "y_labels.csv").is_file():
        d = d / model  # a dataset path (<dir>/<model>/y_labels.csv), as ``run`` takes
    rows = bins.read_y_labels(d / "y_labels.csv", model)
    if not rows:
        raise DatasetError("no rows", path=d / "y_labels.csv")
    pixels = np.stack([bins.read_bin(d / r.file, model) for r in rows])
    return [r.file for r in rows], np.array([r.label for r in rows]), pixels


def layout_verdict(pixels: np.ndarray) -> tuple[str, dict[str, float]]:
    """'HWC' or 'CHW': the layout under which the set's images are smoothest."""
    scores = images.layout_scores(pixels)
    return min(scores, key=scores.__getitem__), scores


#: A wrong reading must beat the as-written one with this one-sided sign-test p-value
#: (over the inputs only one of the two readings gets right) to call the set misread. The
#: spec's table shows what a real misreading does: 86.5 % right vs 72.5 % BGR, 11 % planar.
LAYOUT_P_VALUE = 0.01


def misread(pixels: np.ndarray, labels: np.ndarray, predict: Callable[[np.ndarray], np.ndarray]
            ) -> tuple[dict[str, float], str | None]:
    """Top-1 % per reading and the reading the set was
    evidently written in, if not HWC RGB (a sign test, so 16 files do not decide it)."""
    from scipy.stats import binomtest

    right = {layout: predict(pixels if layout == "HWC RGB" else
                             images.reinterpret(pixels, layout)) == labels
             for layout in ("HWC RGB", "BGR", "CHW")}
    tops = {k: float(100.0 * np.mean(v)) for k, v in right.items()}
    for layout in ("BGR", "CHW"):
        better = int(np.sum(right[layout] & ~right["HWC RGB"]))
        worse = int(np.sum(~right[layout] & right["HWC RGB"]))
        if better > worse and binomtest(better, better + worse, 0.5,
                                        alternative="greater").pvalue < LAYOUT_P_VALUE:
            return tops, layout
    return tops, None


def reference_predictor(model: str, *, download: bool = True, engine: str | None = None
                        ) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """Class predictions of the int8 reference model on uint8 HWC pixels (the DUT's
    ``byte - 128`` conversion), and the engine's name. ``engine`` as ``runtime.load_model``
    takes it (default: TFLM when installed, as the virtual DUT runs, else LiteRT-REF)."""
    from tinyperf.reference_models import registry, runtime

    m = runtime.load_model(registry.resolve_model_file(model, download=download),
                           engine=engine)

    def predict(pixels: np.ndarray) -> np.ndarray:
        q = (np.asarray(pixels, dtype=np.int16) - 128).astype(np.int8)
        return np.argmax(m.invoke_batch(q), axis=-1).reshape(-1)

    return predict, m.engine
