"""Image inputs of ic01 and vww01: reading sources, the reference preprocessing, layout checks.

Owns the pixel maths of ic_vww.md 2 (pure functions on numpy arrays) and the readers of the
raw sources (I/O at the edges, every error a ``DatasetError`` naming the file):

- CIFAR-10 python batches (``test_batch``): 3,072-byte planar rows (1024 R, 1024 G, 1024 B)
  turned HWC RGB; read with a restricted unpickler (a pickle can run code: only the few
  numpy constructors a CIFAR batch holds are allowed).
- PNG/JPEG files (Pillow, which matplotlib depends on): RGB, grayscale expanded.
- The vww01 resize: ``skimage.transform.resize(anti_aliasing=True)`` to 96x96 (Gaussian
  pre-filter with sigma = (factor - 1) / 2, bilinear zoom, mirror edges), then x255 and a
  truncating cast to uint8, reproduced with ``scipy.ndimage``.
- COCO "person" labelling as the VWW builder does it (non-crowd person box > 2.5 % of the
  image: 1; no non-crowd person: 0; only small persons: dropped).
- Layout scores: whether a set of ``.bin`` files reads as HWC (right) or planar CHW.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage
from tinyperf.formats.errors import DatasetError

IC_SIZE = 32
VWW_SIZE = 96
#: Smallest person box, as a fraction of the image area, that makes an image "person".
VWW_MIN_PERSON_FRACTION = 0.025
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: CIFAR-10 class order = ic01 label (ic_vww.md 2.1).
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")
#: The only globals a CIFAR-10 python batch needs (numpy 1 and numpy 2 module names).
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how Python 3 writes bytes in a protocol-2 pickle
}


class _CifarUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return super().find_class(module, name)


def cifar_rows_to_hwc(rows: np.ndarray) -> np.ndarray:
    """[N, 3072] planar rows (R plane, G plane, B plane) -> [N, 32, 32, 3] HWC RGB uint8."""
    a = np.asarray(rows)
    if a.ndim != 2 or a.shape[1] != 3 * IC_SIZE * IC_SIZE:
        raise DatasetError(f"CIFAR rows must be [N, 3072], got {list(a.shape)}")
    return a.astype(np.uint8).reshape(-1, 3, IC_SIZE, IC_SIZE).transpose(0, 2, 3, 1).copy()


def read_cifar_batch(path: Path) -> tuple[np.ndarray, list[int], list[str]]:
    """(images [N,32,32,3] uint8, labels, file names) of a CIFAR-10 python batch file."""
    try:
        with open(path, "rb") as fh:
            batch = _CifarUnpickler(fh, encoding="bytes").load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DatasetError(f"not a CIFAR-10 python batch: {exc}", path=path) from exc
    if not isinstance(batch, dict):
        raise DatasetError("not a CIFAR-10 python batch: no dictionary", path=path)
    fields = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in batch.items()}
    for key in ("data", "labels", "filenames"):
        if key not in fields:
            raise DatasetError(f"CIFAR-10 batch has no '{key}' entry", path=path)
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in fields["filenames"]]
    labels = [int(x) for x in fields["labels"]]
    try:
        images = cifar_rows_to_hwc(np.asarray(fields["data"]))
    except DatasetError as exc:
        raise DatasetError(str(exc), path=path) from None
    if not len(images) == len(labels) == len(names):
        raise DatasetError(f"CIFAR-10 batch: {len(images)} images, {len(labels)} labels, "
                           f"{len(names)} file names", path=path)
    return images, labels, names


def read_image(path: Path) -> np.ndarray:
    """An image file as [H, W, 3] uint8 RGB (grayscale expanded, alpha dropped)."""
    from PIL import Image, UnidentifiedImageError  # matplotlib's own image library

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DatasetError(f"cannot read image: {exc}", path=path) from exc


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write [H, W, 3] uint8 RGB as PNG (tests and demo sources)."""
    from PIL import Image

    Image.fromarray(np.asarray(image, dtype=np.uint8), "RGB").save(path, format="PNG")
    return path


def resize_like_skimage(image: np.ndarray, size: int = VWW_SIZE) -> np.ndarray:
    """``skimage.transform.resize(image, (size, size), anti_aliasing=True)`` of a uint8 RGB
    image: floats in [0, 1] (skimage first scales uint8 to [0, 1]); aspect ratio not kept."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise DatasetError(f"expected an [H, W, 3] image, got {list(img.shape)}")
    x = img.astype(np.float64) * (1.0 / 255)  # as skimage: times 1/255, not divided by 255
    factors = np.array([img.shape[0] / size, img.shape[1] / size, 1.0])
    if np.any(factors > 1):  # skimage filters only when some axis shrinks
        x = ndimage.gaussian_filter(x, np.maximum(0.0, (factors - 1) / 2), mode="mirror")
    out = ndimage.zoom(x, 1 / factors, order=1, mode="mirror", grid_mode=True)
    if out.shape[:2] != (size, size):  # zoom rounds the shape; never seen, kept explicit
        raise DatasetError(f"resize gave {list(out.shape)}, expected [{size}, {size}, 3]")
    return np.clip(out, x.min(), x.max())


def vww_pixels(image: np.ndarray) -> np.ndarray:
    """The vww01 input of an RGB image: resized to 96x96, x255, truncated to uint8."""
    return (resize_like_skimage(image, VWW_SIZE) * 255.0).astype(np.uint8)


def coco_image_id(name: str) -> int | None:
    """The COCO image id in a file name (``COCO_val2014_000000000872.jpg`` -> 872)."""
    digits = re.findall(r"\d+", Path(name).stem)
    return int(digits[-1]) if digits else None


def vww_bin_name(name: str) -> str:
    """vww01 input name: the 12-digit zero-padded COCO id + ``.bin`` (ic_vww.md 2.2)."""
    image_id = coco_image_id(name)
    return f"{image_id:012d}.bin" if image_id is not None else f"{Path(name).stem}.bin"


def coco_person_labels(doc: Any, where: Path) -> dict[str, int]:
    """image file name -> 1 (person) / 0 (no person) from a COCO instances JSON document."""
    try:
        person = [c["id"] for c in doc["categories"] if c.get("name") == "person"]
        images = {im["id"]: im for im in doc["images"]}
        boxes: dict[int, list[float]] = {}
        for ann in doc["annotations"]:
            if ann["category_id"] in person and not ann.get("iscrowd", 0):
                w, h = ann["bbox"][2], ann["bbox"][3]
                boxes.setdefault(ann["image_id"], []).append(float(w) * float(h))
    except (KeyError, TypeError, IndexError) as exc:
        raise DatasetError(f"not a COCO instances file (missing {exc})", path=where) from exc
    if not person:
        raise DatasetError("COCO annotations have no 'person' category", path=where)
    out = {}
    for image_id, im in images.items():
        areas = boxes.get(image_id)
        if not areas:
            out[str(im["file_name"])] = 0
        elif max(areas) > VWW_MIN_PERSON_FRACTION * float(im["width"]) * float(im["height"]):
            out[str(im["file_name"])] = 1
    return out


def layout_scores(images: np.ndarray) -> dict[str, float]:
    """Mean absolute difference of neighbouring pixels if the bytes are HWC vs planar CHW.

    Natural (and the demo's) images are smooth: read the right way, horizontal and vertical
    neighbours differ little. HWC neighbours are 3 and 3*W bytes apart; planar ones 1 and W.
    The lower score is the layout the bytes were written in.
    """
    a = np.asarray(images, dtype=np.int16)
    n, _h, w, c = a.shape
    flat = a.reshape(n, -1)

    def mad(step: int) -> float:
        return float(np.mean(np.abs(flat[:, step:] - flat[:, :-step])))

    return {"HWC": (mad(c) + mad(c * w)) / 2, "CHW": (mad(1) + mad(w)) / 2}


def reinterpret(images: np.ndarray, layout: str) -> np.ndarray:
    """The picture held by ``.bin`` bytes (given as read, HWC RGB) if they were in fact
    written in ``layout``: ``BGR`` (channels swapped) or ``CHW`` (planar), ic_vww.md 2.1."""
    a = np.asarray(images, dtype=np.uint8)
    if layout == "BGR":
        return a[..., ::-1].copy()
    if layout == "CHW":
        n, h, w, c = a.shape
        return a.reshape(n, c, h, w).transpose(0, 2, 3, 1).copy()
    raise ValueError(f"unknown layout {layout!r}")


def write_wrongly(images: np.ndarray, layout: str) -> np.ndarray:
    """The bytes (shaped HWC) a wrong writer produces from HWC RGB pictures: the inverse of
    :func:`reinterpret` (tests and the layout check's own self-test)."""
    a = np.asarray(images, dtype=np.uint8)
    if layout == "BGR":
        return a[..., ::-1].copy()
    if layout == "CHW":
        n, h, w, c = a.shape
        return a.transpose(0, 3, 1, 2).reshape(n, h, w, c).copy()
    raise ValueError(f"unknown layout {layout!r}")
