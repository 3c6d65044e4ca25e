"""``data prepare`` for ic01 and vww01 on small sources the tests generate themselves
(ic_vww.md 2): a CIFAR-10-layout pickle batch, PNG folders, a tiny COCO instances file."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.errors import DatasetError
from tinyperf.reference_models import bins, images, prepare_images

from tinyperf.cli.main import main

CLASSES = images.CIFAR_CLASSES


def pictures(n: int, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    """Distinct pictures whose every byte says where it is: (y, x, channel, picture)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        for c in range(3):
            out[i, :, :, c] = (7 * y + 3 * x + 50 * c + 11 * i + rng.integers(0, 3, (h, w))) % 256
    return out


def write_cifar_batch(path: Path, pics: np.ndarray, labels: list[int], names: list[str]) -> None:
    """The CIFAR-10 python layout: planar rows (1024 R, 1024 G, 1024 B), bytes keys."""
    planar = pics.transpose(0, 3, 1, 2).reshape(len(pics), 3072)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"testing batch 1 of 1", b"labels": labels,
                     b"data": planar, b"filenames": [n.encode() for n in names]}, fh, protocol=2)


def write_list(path: Path, model: str, rows: list[tuple[str, int]]) -> Path:
    return bins.write_y_labels(path, model, rows)


@pytest.fixture
def cifar(tmp_path: Path) -> tuple[Path, np.ndarray, list[int], list[str]]:
    pics = pictures(12)
    labels = [i % 10 for i in range(12)]
    names = [f"{CLASSES[lab]}_s_{i:06d}.png" for i, lab in enumerate(labels)]
    write_cifar_batch(tmp_path / "cifar-10-batches-py" / "test_batch", pics, labels, names)
    return tmp_path / "cifar-10-batches-py", pics, labels, names


def test_ic01_from_cifar_batch_follows_the_label_list(tmp_path: Path, cifar) -> None:
    raw, pics, labels, names = cifar
    order = [7, 2, 11, 0, 5]  # the list's order, not the batch's
    rows = [(names[i].replace(".png", ".bin"), labels[i]) for i in order]
    lst = write_list(tmp_path / "list.csv", "ic01", rows)
    out = tmp_path / "out"
    report = prepare_images.prepare_ic01(raw, out, labels=lst)
    assert report.files == [r[0] for r in rows]
    assert (out / "y_labels.csv").read_bytes() == lst.read_bytes()
    assert sorted(p.name for p in out.glob("*.bin")) == sorted(r[0] for r in rows)
    for i in order:
        data = (out / names[i].replace(".png", ".bin")).read_bytes()
        assert len(data) == 3072
        # byte (y*32 + x)*3 + c = channel c of pixel (y, x), RGB, top row first
        for y, x, c in ((0, 0, 0), (0, 1, 2), (5, 9, 1), (31, 31, 2)):
            assert data[(y * 32 + x) * 3 + c] == pics[i, y, x, c]
        assert np.array_equal(bins.read_bin(out / names[i].replace(".png", ".bin"), "ic01"),
                              pics[i])


def test_ic01_every_image_and_file_forms(tmp_path: Path, cifar) -> None:
    raw, pics, _labels, names = cifar
    out = tmp_path / "all"
    report = prepare_images.prepare_ic01(raw / "test_batch", out, every_image=True)
    assert len(report.files) == 12 and report.class_counts[0] == 2
    k = names.index("dog_s_000005.png")
    assert np.array_equal(bins.read_bin(out / "dog_s_000005.bin", "ic01"), pics[k])


def test_ic01_list_problems_are_named(tmp_path: Path, cifar) -> None:
    raw, _pics, labels, names = cifar
    missing = write_list(tmp_path / "m.csv", "ic01", [("emu_s_002009.bin", 2),
                                                      (names[0].replace(".png", ".bin"), 0)])
    with pytest.raises(DatasetError, match=r"1 of the 2 inputs of m.csv are not in the raw "
                                           r"data \(e.g. emu_s_002009.bin\)"):
        prepare_images.prepare_ic01(raw, tmp_path / "o1", labels=missing)
    wrong = write_list(tmp_path / "w.csv", "ic01", [(names[3].replace(".png", ".bin"),
                                                     (labels[3] + 1) % 10)])
    with pytest.raises(DatasetError, match="class 3 in the raw data but 4 in the label list"):
        prepare_images.prepare_ic01(raw, tmp_path / "o2", labels=wrong)


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "test_batch"
    bad.write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(DatasetError, match=r"test_batch: not a CIFAR-10 python batch: refused "
                                           r"global .*system"):
        prepare_images.prepare_ic01(bad, tmp_path / "o", every_image=True)
    assert not marker.exists()


def test_ic01_from_png_folders(tmp_path: Path) -> None:
    pics = pictures(4, seed=1)
    raw = tmp_path / "png"
    for i, pic in enumerate(pics):  # class folders (label from the folder) and a flat file
        folder = raw / CLASSES[i] if i < 3 else raw
        folder.mkdir(parents=True, exist_ok=True)
        images.write_png(folder / f"pic_{i}.png", pic)
    lst = write_list(tmp_path / "l.csv", "ic01", [(f"pic_{i}.bin", i) for i in range(4)])
    out = tmp_path / "out"
    prepare_images.prepare_ic01(raw, out, labels=lst)
    for i in range(4):
        assert np.array_equal(bins.read_bin(out / f"pic_{i}.bin", "ic01"), pics[i])
    with pytest.raises(DatasetError, match="have no class"):  # the flat one has no folder
        prepare_images.prepare_ic01(raw, tmp_path / "o2", every_image=True)
    images.write_png(raw / "big.png", pictures(1, 40, 40)[0])
    big = write_list(tmp_path / "b.csv", "ic01", [("big.bin", 1)])
    with pytest.raises(DatasetError, match=r"big.png: ic01 images are 32x32 \(no resize is "
                                           r"done\), got 40x40"):
        prepare_images.prepare_ic01(raw, tmp_path / "o3", labels=big)


def test_vww01_from_person_folders_resizes_and_names_by_coco_id(tmp_path: Path) -> None:
    raw = tmp_path / "vw_coco2014_96"
    big = pictures(2, 120, 160, seed=2)
    (raw / "person").mkdir(parents=True)
    (raw / "non_person").mkdir()
    images.write_png(raw / "person" / "COCO_val2014_000000000872.png", big[0])
    images.write_png(raw / "non_person" / "COCO_train2014_000000343218.png", big[1])
    gray = raw / "non_person" / "000000000724.png"  # a grayscale picture: expanded to RGB
    from PIL import Image
    Image.fromarray(big[1][:, :, 0], "L").save(gray)
    out = tmp_path / "out"
    report = prepare_images.prepare_vww01(raw, out, every_image=True)
    assert report.files == ["000000000724.bin", "000000000872.bin", "000000343218.bin"]
    assert (out / "y_labels.csv").read_text() == ("000000000724.bin,2,0\n000000000872.bin,2,1\n"
                                                  "000000343218.bin,2,0\n")
    got = bins.read_bin(out / "000000000872.bin", "vww01")
    assert got.shape == (96, 96, 3) and got.dtype == np.uint8
    assert np.array_equal(got, images.vww_pixels(big[0]))
    g = bins.read_bin(out / "000000000724.bin", "vww01")
    assert np.array_equal(g[..., 0], g[..., 1]) and np.array_equal(g[..., 0], g[..., 2])


def test_vww_resize_of_a_96_picture_only_truncates() -> None:
    """No filter, identity zoom; x(1/255) then x255 lands just below some bytes and the
    truncating cast takes one off them (53 -> 52), as the reference builder does."""
    pic = pictures(1, 96, 96)[0]
    got = images.vww_pixels(pic).astype(int)
    b = np.arange(256)
    drops = set(b[(b * (1.0 / 255) * 255).astype(np.uint8) != b].tolist())
    assert 53 in drops and 0 not in drops and 255 not in drops
    want = pic.astype(int) - np.isin(pic, list(drops))
    assert np.array_equal(got, want)
    # shrinking a flat picture: the Gaussian weights sum to 1 within rounding, so the
    # truncation may take one off (the reference's own behaviour, never more)
    flat = np.full((192, 192, 3), 201, dtype=np.uint8)
    assert set(np.unique(images.vww_pixels(flat)).tolist()) <= {200, 201}


def test_vww_resize_equals_skimage() -> None:
    """Bit-exact with ``skimage.transform.resize(anti_aliasing=True)`` then x255 -> uint8
    (checked with scikit-image 0.26; skipped where scikit-image is not installed)."""
    transform = pytest.importorskip("skimage.transform")
    for shape in ((480, 640), (427, 640), (96, 96), (50, 70)):
        pic = pictures(1, *shape, seed=5)[0]
        want = (transform.resize(pic, (96, 96), anti_aliasing=True) * 255).astype(np.uint8)
        assert np.array_equal(images.vww_pixels(pic), want)


def test_vww01_from_coco_annotations(tmp_path: Path) -> None:
    raw = tmp_path / "val2017"
    raw.mkdir()
    pics = pictures(4, 100, 100, seed=3)
    files = [f"{i:012d}.jpg" for i in (11, 22, 33, 44)]
    for name, pic in zip(files, pics):
        images.write_png(raw / name, pic)  # content decides the format, not the suffix
    doc = {"categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
           "images": [{"id": i, "file_name": f, "width": 100, "height": 100}
                      for i, f in zip((11, 22, 33, 44), files)],
           "annotations": [
               {"image_id": 11, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 30, 30]},  # 9 %
               {"image_id": 22, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 90, 90]},  # crowd
               {"image_id": 22, "category_id": 3, "iscrowd": 0, "bbox": [0, 0, 50, 50]},
               {"image_id": 33, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 10, 20]},  # 2 %
           ]}
    ann = tmp_path / "instances_val2017.json"
    ann.write_text(json.dumps(doc))
    out = tmp_path / "out"
    prepare_images.prepare_vww01(raw, out, annotations=ann, every_image=True)
    # 11: big person -> 1; 22: only a crowd person -> 0; 33: only a small person -> dropped;
    # 44: nothing -> 0
    assert (out / "y_labels.csv").read_text() == ("000000000011.bin,2,1\n000000000022.bin,2,0\n"
                                                  "000000000044.bin,2,0\n")
    ann.write_text(json.dumps({"images": []}))
    with pytest.raises(DatasetError, match=r"instances_val2017.json: not a COCO instances "
                                           r"file \(missing 'categories'\)"):
        prepare_images.prepare_vww01(raw, out, annotations=ann, every_image=True)


def test_cli_prepare_ic01_and_vww01(tmp_path: Path, cifar, capsys) -> None:
    raw, pics, _labels, names = cifar
    lst = write_list(tmp_path / "list.csv", "ic01", [(names[4].replace(".png", ".bin"), 4)])
    assert main(["data", "prepare", "--model-id", "ic01", "--raw-path", str(raw),
                 "--output-dir", str(tmp_path / "ic01"), "--labels", str(lst)]) == 0
    assert "ic01: wrote 1 inputs + y_labels.csv" in capsys.readouterr().out
    assert np.array_equal(bins.read_bin(tmp_path / "ic01" / names[4].replace(".png", ".bin"),
                                        "ic01"), pics[4])
    assert main(["data", "prepare", "--model-id", "vww01", "--raw-path", str(tmp_path / "none"),
                 "--output-dir", str(tmp_path / "v"), "--all"]) == 2
    assert "image folder not found" in capsys.readouterr().err


def test_default_list_is_the_registry_one(tmp_path: Path, reference_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --labels the benchmark's list decides the inputs (here: all 200 are absent)."""
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    raw = tmp_path / "cifar"
    write_cifar_batch(raw / "test_batch", pictures(1), [2], ["emu_s_002009.png"])
    with pytest.raises(DatasetError, match=r"199 of the 200 inputs of y_labels.csv are not in "
                                           r"the raw data"):
        prepare_images.prepare_ic01(raw, tmp_path / "out")
