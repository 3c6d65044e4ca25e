"""Registry entries of ic01/vww01 and their companions; the labels lookup; md5 pinning."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models import registry as r

SPEC = {  # ic_vww spec 0 / 1.1
    "ic01": ("pretrainedResnet_quant.tflite", 98496, "2d6dd48722471313e4c4528249205ae3",
             [1, 32, 32, 3], 1.0, 10, 85.0),
    "ic01_fp32": ("pretrainedResnet.tflite", 318144, "6ba6fa3ed68c479ef7be253ba3f0b789",
                  [1, 32, 32, 3], None, 10, 85.0),
    "vww01": ("vww_96_int8.tflite", 333288, "f0b011416abee0343a5d130cb1f4c18f",
              [1, 96, 96, 3], 0.003921568859368563, 2, 80.0),
    "vww01_fp32": ("vww_96_float.tflite", 866284, "c777d35ddb2ba1a6b9f2b72d9bc59728",
                   [1, 96, 96, 3], None, 2, 80.0),
}


@pytest.mark.parametrize("model_id", sorted(SPEC))
def test_entries_match_the_spec(model_id: str) -> None:
    file, size, md5, shape, scale, classes, target = SPEC[model_id]
    spec = r.get_model(model_id)
    assert (spec.file, spec.size, spec.md5) == (file, size, md5)
    assert list(spec.input.shape) == shape and spec.output.shape == (1, classes)
    assert spec.input.scale == scale
    assert spec.metric == "top1" and spec.closed_target == target
    assert len(spec.class_names) == classes
    assert spec.input_bin_bytes == shape[1] * shape[2] * 3 == spec.max_db_input_size


def test_quantization_and_results_printing() -> None:
    ic, vww = r.get_model("ic01"), r.get_model("vww01")
    for spec in (ic, vww):
        assert spec.input.zero_point == -128 and spec.output.zero_point == -128
        assert spec.output.scale == 1 / 256
        assert spec.dut_results.rounding == "printf" and spec.dut_results.results_decimals == 3
    assert (ic.dut_results.kind, ic.dut_results.trailing_comma) == ("ic_softmax", False)
    assert (vww.dut_results.kind, vww.dut_results.trailing_comma) == ("vww_softmax", True)
    assert vww.class_names == ("notperson", "person")
    assert r.get_model("ic01_fp32").float_input_divisor == 1.0
    assert r.get_model("vww01_fp32").float_input_divisor == 255.0
    assert r.reference_artifacts("ic01") == ["ic01", "ic01_fp32"]


@pytest.mark.parametrize("model_id", sorted(SPEC))
def test_reference_files_resolve_and_verify(reference_dir: Path, model_id: str) -> None:
    path = r.resolve_model_file(model_id, reference_dir=reference_dir, download=False)
    data = path.read_bytes()
    assert hashlib.md5(data).hexdigest() == SPEC[model_id][2]
    assert len(data) == SPEC[model_id][1]


def test_labels_lookup(reference_dir: Path) -> None:
    current = r.labels("ic01", reference_dir=reference_dir, download=False)
    old = r.labels("ic01", superseded=True, reference_dir=reference_dir, download=False)
    assert current.name == "y_labels.csv" and old.name == "y_labels_superseded.csv"
    assert current.read_text().splitlines()[0] == "emu_s_002009.bin,10,2"
    assert old.read_text().splitlines()[0].startswith("lippizaner_s_000613.bin,10,")
    vww = r.labels("vww01_fp32", reference_dir=reference_dir, download=False)
    assert vww == r.labels("vww01", reference_dir=reference_dir, download=False)
    assert len(vww.read_text().splitlines()) == 1000
    with pytest.raises(ModelError, match="no superseded label list"):
        r.labels("vww01", superseded=True, reference_dir=reference_dir, download=False)


def test_superseded_list_has_its_own_download_url() -> None:
    entry = r.data_file("ic01", r.SUPERSEDED_LABELS_FILE)
    assert "/6dff252/" in entry.url and entry.url.endswith("datasets/ic01/y_labels.csv")
    assert r.data_file("ic01", r.LABELS_FILE).url == r.get_model("ic01").url.split(
        "benchmark/")[0] + "benchmark/evaluation/datasets/ic01/y_labels.csv"


def _same_sha_other_md5(tmp_path: Path) -> Path:
    """A registry whose ic01 entry keeps the sha256 but pins a wrong md5."""
    data = yaml.safe_load(r.REGISTRY_PATH.read_text())
    data["models"]["ic01"]["md5"] = "0" * 32
    out = tmp_path / "registry.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


def test_md5_is_checked_too(reference_dir: Path, tmp_path: Path) -> None:
    spec = r.load_registry(_same_sha_other_md5(tmp_path))["ic01"]
    with pytest.raises(ModelError, match="md5 mismatch for model ic01"):
        r.verify_file(spec, reference_dir / "ic01" / "pretrainedResnet_quant.tflite")


def test_a_different_model_under_the_same_name_is_refused(reference_dir: Path,
                                                         tmp_path: Path) -> None:
    # the 2026 upstream hazard: another ic model behind pretrainedResnet_quant.tflite
    fake = tmp_path / "ic01" / "pretrainedResnet_quant.tflite"
    fake.parent.mkdir()
    shutil.copy(reference_dir / "vww01" / "vww_96_int8.tflite", fake)
    with pytest.raises(ModelError, match="sha256 mismatch for model ic01"):
        r.resolve_model_file("ic01", reference_dir=tmp_path, download=False)


@pytest.mark.parametrize("bad,match", [({"trailing_comma": "yes"}, "trailing_comma"),
                                       ({"kind": "image"}, "key 'kind'")])
def test_bad_results_spec_is_named(bad: dict, match: str) -> None:
    data = yaml.safe_load(r.REGISTRY_PATH.read_text())
    data["models"]["vww01"]["dut_results"].update(bad)
    with pytest.raises(ModelError, match=match):
        r.parse_registry(data)


def test_labels_download_verifies_the_checksum(reference_dir: Path, tmp_path: Path) -> None:
    """A served copy of the list is fetched into the cache once; a wrong one is refused."""
    served = tmp_path / "srv"
    target = served / "benchmark/evaluation/datasets/vww01"
    target.mkdir(parents=True)
    shutil.copy(reference_dir / "vww01" / "y_labels.csv", target / "y_labels.csv")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(served), **k)

        def log_message(self, *_a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        data = yaml.safe_load(r.REGISTRY_PATH.read_text())
        data["base_url"] = f"http://127.0.0.1:{httpd.server_address[1]}/"
        spec = r.parse_registry(data)["vww01"]
        entry = next(e for e in spec.data_files if e.file == "y_labels.csv")
        got = r.download_model(entry, entry.url, tmp_path / "cache" / "y_labels.csv",
                               timeout_s=10)
        assert got.read_bytes() == (reference_dir / "vww01" / "y_labels.csv").read_bytes()
        (target / "y_labels.csv").write_text("tampered\n")
        with pytest.raises(ModelError, match="sha256"):
            r.download_model(entry, entry.url, tmp_path / "cache2" / "y_labels.csv",
                             timeout_s=10)
    finally:
        httpd.shutdown()
        httpd.server_close()
