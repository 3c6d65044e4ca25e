"""The C int8 ad01 runtime against the TFLite interpreter, bit for bit.

The exporter turns the reference ``ad01_int8.tflite`` into C; the runtime's test driver
(``ad01_check``) runs every window of the ad01 demo set and random int8 inputs. Each
rounding variant is compared with the interpreter op resolver that computes it:
``ties-up`` (the default) with the builtin kernels the project's host evaluation uses,
``single`` with ``BUILTIN_REF`` (TFLite's reference kernels), ``double`` (gemmlowp, CMSIS-NN
style) with a direct transcription of TFLite's ``common.h`` maths.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tinyperf.firmware_interface.export_fc import read_model, to_c
from tinyperf.harness.run.datasets import Dataset
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.reference_models.dut_outputs import (
    _ad01_floats,
    ad01_file_scores,
    ad01_file_windows,
    quantize_c_round,
)
from tinyperf.reference_models.registry import resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel, _import_runtime

from .conftest import make, require_toolchain


@pytest.fixture(scope="module")
def ad01_path(reference_dir: Path) -> Path:
    return resolve_model_file("ad01", reference_dir=reference_dir)


@pytest.fixture(scope="module")
def ad01_build(ad01_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_toolchain()
    build = tmp_path_factory.mktemp("ad01_build")
    source = build / "ad01_model_data.c"
    source.write_text(to_c(read_model(ad01_path), "ad01_model", ad01_path.name))
    make(build, "host-ad01", "ad01-check", AD01_MODEL_C=str(source))
    return build


@pytest.fixture(scope="module")
def demo_windows() -> list[bytes]:
    windows = []
    for path in sorted((demo_data_dir() / "ad01").glob("*.bin")):
        windows += ad01_file_windows(path.read_bytes())
    return windows


def _interpreter_batch(path: Path, resolver: str, x: np.ndarray) -> np.ndarray:
    module = _import_runtime()
    kinds = getattr(module, "OpResolverType", None)
    if kinds is None or not hasattr(kinds, resolver):
        pytest.skip(f"this TFLite runtime has no OpResolverType.{resolver}")
    interp = module.Interpreter(model_path=str(path), num_threads=1,
                                experimental_op_resolver_type=getattr(kinds, resolver))
    index = interp.get_input_details()[0]["index"]
    interp.resize_tensor_input(index, list(x.shape))
    interp.allocate_tensors()
    interp.set_tensor(index, x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def _tflite_common_h_double(path: Path, x: np.ndarray) -> np.ndarray:
    """TFLite common.h MultiplyByQuantizedMultiplier (double rounding), in numpy int64."""
    def requant(acc: np.ndarray, m: int, s: int) -> np.ndarray:
        left, right = max(s, 0), max(-s, 0)
        ab = (acc << left) * m
        t = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
        high = np.where(t >= 0, t // (1 << 31), -((-t) // (1 << 31)))
        mask = (1 << right) - 1
        return (high >> right) + ((high & mask) > ((mask >> 1) + (high < 0)))

    h = x.astype(np.int64)
    for layer in read_model(path).layers:
        acc = (h + layer.input_offset) @ layer.weights.astype(np.int64).T + layer.bias
        h = np.clip(requant(acc, layer.multiplier, layer.shift) + layer.output_offset,
                    layer.act_min, layer.act_max)
    return h.astype(np.int8)


def _c_int8(build: Path, x: np.ndarray, rounding: str) -> np.ndarray:
    out = subprocess.run([str(build / "host" / "ad01_check"), "int8", rounding],
                         input=x.astype(np.int8).tobytes(), capture_output=True, check=True,
                         timeout=60).stdout
    return np.frombuffer(out, dtype=np.int8).reshape(x.shape)


def _inputs(path: Path, windows: list[bytes]) -> np.ndarray:
    model = TfliteModel(path)
    demo = quantize_c_round(_ad01_floats(b"".join(windows)), model.input)
    rng = np.random.default_rng(8)
    return np.concatenate([demo, rng.integers(-128, 128, size=(300, 640), dtype=np.int8)])


@pytest.mark.parametrize("rounding,resolver", [("ties-up", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"),
                                               ("single", "BUILTIN_REF")])
def test_c_runtime_is_bit_exact_with_interpreter(ad01_build, ad01_path, demo_windows,
                                                 rounding: str, resolver: str) -> None:
    x = _inputs(ad01_path, demo_windows)
    expected = _interpreter_batch(ad01_path, resolver, x)
    got = _c_int8(ad01_build, x, rounding)
    assert np.count_nonzero(got != expected) == 0


def test_c_runtime_double_rounding_matches_tflite_common_h(ad01_build, ad01_path,
                                                           demo_windows) -> None:
    x = _inputs(ad01_path, demo_windows)
    assert np.array_equal(_c_int8(ad01_build, x, "double"), _tflite_common_h_double(ad01_path, x))


def test_c_scores_equal_dut_outputs(ad01_build, ad01_path, demo_windows) -> None:
    """Float windows in, MSE out: identical doubles to tinyperf.reference_models.dut_outputs."""
    out = subprocess.run([str(ad01_build / "host" / "ad01_check"), "float"],
                         input=b"".join(demo_windows), capture_output=True, check=True,
                         timeout=60).stdout.decode().split()
    c_scores = np.array([float(v) for v in out])
    model = TfliteModel(ad01_path)
    py_scores = np.concatenate([
        ad01_file_scores(model, path.read_bytes())
        for path in sorted((demo_data_dir() / "ad01").glob("*.bin"))])
    assert len(c_scores) == len(demo_windows) == len(py_scores)
    assert [f"{v:.3f}" for v in c_scores] == [f"{v:.3f}" for v in py_scores]
    assert np.array_equal(c_scores, py_scores)  # same double, numpy pairwise order included


@pytest.mark.timeout(80)
def test_ad01_accuracy_run_on_host_firmware(ad01_build, ad01_path, host_dut_factory,
                                            tmp_path: Path) -> None:
    src = demo_data_dir() / "ad01"
    rows = (src / "y_labels.csv").read_text().splitlines()
    rows = rows[:1] + rows[-1:]  # one normal and one anomalous file
    data = tmp_path / "data" / "ad01"
    data.mkdir(parents=True)
    (data / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        (data / row.split(",")[0]).write_bytes((src / row.split(",")[0]).read_bytes())
    dut = host_dut_factory(binary=ad01_build / "host" / "tinyperf-dut-ad01")
    result = run_session(RunConfig(mode="accuracy", dataset_path=data.parent,
                                   output_dir=tmp_path / "s", port=dut.url, progress=False))
    records = json.loads((result.session / "results.json").read_text())
    assert len(records) == 2 * 196
    model = TfliteModel(ad01_path)
    ds = Dataset(data.parent, "ad01")
    printed = []
    for row in ds.rows:
        scores = ad01_file_scores(model, ds.read(row))
        printed += [round(float(s), 3) for s in scores]
    assert [r["infer"]["results"][0] for r in records] == printed
    assert 0.0 <= result.figures["auc"] <= 1.0
