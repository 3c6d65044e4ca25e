"""A prepared ic01/vww01 set written planar (CHW) or BGR is caught (ic_vww.md 2.1: 86.5 %
right vs 72.5 % BGR and 11 % planar), and the committed demo sets are right."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from tinyperf.reference_models import bins, demo, images, prepare_images
from tinyperf.reference_models.synth import images as synth

from tinyperf.cli.main import main


def rewrite(src: Path, dst: Path, model: str, layout: str) -> Path:
    """A copy of a prepared set whose bytes a wrong writer produced."""
    names, _labels, pixels = prepare_images.read_set(src, model)
    dst.mkdir(parents=True)
    shutil.copy(src / "y_labels.csv", dst / "y_labels.csv")
    for name, pic in zip(names, images.write_wrongly(pixels, layout)):
        (dst / name).write_bytes(pic.tobytes())
    return dst


def test_reinterpret_undoes_a_wrong_writer() -> None:
    pics = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    for layout in ("BGR", "CHW"):
        assert np.array_equal(images.reinterpret(images.write_wrongly(pics, layout), layout),
                              pics)
    planar = images.write_wrongly(pics, "CHW").reshape(3, -1)
    assert np.array_equal(planar[0, :1024], pics[0, :, :, 0].ravel())  # the R plane first


@pytest.mark.parametrize("model", ["ic01", "vww01"])
def test_smoothness_tells_planar_from_hwc(tmp_path: Path, model: str) -> None:
    src = demo.demo_data_dir() / model
    _n, _l, pixels = prepare_images.read_set(src, model)
    assert prepare_images.layout_verdict(pixels)[0] == "HWC"
    bad = rewrite(src, tmp_path / model, model, "CHW")
    assert prepare_images.layout_verdict(prepare_images.read_set(bad, model)[2])[0] == "CHW"
    assert main(["data", "check", "--model-id", model, "--dataset-path", str(bad),
                 "--no-model"]) == 1
    assert main(["data", "check", "--model-id", model, "--dataset-path", str(src.parent),
                 "--no-model"]) == 0


def test_the_reference_model_catches_bgr_and_planar(tmp_path: Path, reference_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ai_edge_litert.interpreter")
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    rng = np.random.default_rng(11)
    labels = np.arange(100) % 10
    pics = np.stack([synth.ic01_image(int(k), rng) for k in labels])
    # argmaxes only: the fast LiteRT default engine (the CLI below runs the default engine)
    predict, _engine = prepare_images.reference_predictor("ic01", download=False,
                                                          engine="xnnpack")
    tops, wrong = prepare_images.misread(pics, labels, predict)
    assert wrong is None and tops["HWC RGB"] > max(tops["BGR"], tops["CHW"]) + 15
    for layout in ("BGR", "CHW"):
        assert prepare_images.misread(images.write_wrongly(pics, layout), labels,
                                      predict)[1] == layout
    # the CLI on a BGR-written set: the smoothness test passes it, the model does not
    src = tmp_path / "ok" / "ic01"
    src.mkdir(parents=True)
    rows = [(f"p{i:03d}.bin", int(k)) for i, k in enumerate(labels)]
    bins.write_y_labels(src / "y_labels.csv", "ic01", rows)
    for (name, _k), pic in zip(rows, images.write_wrongly(pics, "BGR")):
        bins.write_bin(src / name, "ic01", pic)
    assert main(["data", "check", "--model-id", "ic01", "--dataset-path", str(src),
                 "--limit", "50"]) == 1
    out = capsys.readouterr().out
    assert "bytes look HWC" in out and "the set was written BGR" in out


def test_committed_demo_sets() -> None:
    for model, count, classes in (("ic01", 40, list(range(10))), ("vww01", 16, [0, 1])):
        root = demo.demo_data_dir() / model
        rows = bins.read_y_labels(root / "y_labels.csv", model)
        assert len(rows) == count and sorted({r.label for r in rows}) == classes
        assert {p.name for p in root.glob("*.bin")} == {r.file for r in rows}
        size = bins.bin_format(model).nbytes
        assert all((root / r.file).stat().st_size == size for r in rows)
    ic = bins.read_y_labels(demo.demo_data_dir() / "ic01" / "y_labels.csv", "ic01")
    assert [r.label for r in ic[:10]] == list(range(10))  # interleaved: 5-row perf subset
    vww = bins.read_y_labels(demo.demo_data_dir() / "vww01" / "y_labels.csv", "vww01")
    assert [r.label for r in vww] == [1] * 8 + [0] * 8  # person rows first, as official
    assert "pipeline check" in (demo.demo_data_dir() / "README.md").read_text()


def test_demo_regenerates_byte_identical(tmp_path: Path) -> None:
    demo.make_demo(tmp_path, models=("ic01", "vww01"))
    for model in ("ic01", "vww01"):
        committed = demo.demo_data_dir() / model
        for path in committed.iterdir():
            assert (tmp_path / model / path.name).read_bytes() == path.read_bytes(), path.name


def test_demo_scores_are_a_pipeline_check(reference_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ai_edge_litert.interpreter")
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    root = demo.demo_data_dir()
    scores = {}
    for model in ("ic01", "vww01"):
        _n, labels, pixels = prepare_images.read_set(root / model, model)
        predict, _e = prepare_images.reference_predictor(model, download=False)
        scores[model] = float(np.mean(predict(pixels) == labels))
    assert scores["ic01"] == pytest.approx(0.625)  # chance 0.1 (README table)
    assert scores["vww01"] == pytest.approx(0.625)  # chance 0.5
