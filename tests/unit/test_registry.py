"""Model registry: validation, lookup order, sha256 checks and download (local HTTP only)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models import registry
from tinyperf.reference_models.registry import get_model, parse_registry, resolve_model_file

pytestmark = pytest.mark.timeout(60)

REFERENCE = Path(
    os.environ.get("TINYPERF_REFERENCE_DIR", Path(__file__).parents[3] / "shared/reference")
)


def _ref_file(model_id: str) -> Path:
    spec = get_model(model_id)
    path = REFERENCE / spec.benchmark / spec.file
    if not path.is_file():
        pytest.skip(f"reference file {path} not available")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test may see the developer's cache or reference dir unless it sets them.
    monkeypatch.delenv(registry.ENV_REFERENCE_DIR, raising=False)
    monkeypatch.setenv(registry.ENV_CACHE_DIR, str(tmp_path / "env-cache"))


def test_packaged_registry_entries() -> None:
    kws = get_model("kws01")
    assert kws.sha256 == "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae"
    assert kws.input.shape == (1, 49, 10, 1) and kws.input.zero_point == 83
    assert kws.output.scale == 1 / 256 and kws.output.zero_point == -128
    assert kws.input_bin_bytes == 490 and kws.max_db_input_size == 490
    assert kws.metric == "top1" and kws.closed_target == 90.0
    assert kws.dut_results is not None and kws.dut_results.rounding == "truncate"
    assert kws.url.startswith("https://") and kws.url.endswith("/kws_ref_model.tflite")
    ad = get_model("ad01")
    assert ad.dut_input_bytes == 2560 and ad.input_bin_bytes == 102400
    assert ad.max_db_input_size == 5120 and ad.stride_bytes == 512
    assert ad.metric == "auc" and ad.closed_target == 0.85
    assert ad.dut_results is not None and ad.dut_results.rounding == "printf"
    assert get_model("ad01_fp32").companion_of == "ad01"
    assert get_model("kws01_fp32").input.dtype == "float32"


def test_unknown_model_lists_known_ids() -> None:
    with pytest.raises(ModelError, match="known: .*kws01"):
        get_model("vww99")


def _raw_registry() -> dict:
    return yaml.safe_load(registry.REGISTRY_PATH.read_text())


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d["models"]["kws01"].pop("sha256"), "sha256"),
        (lambda d: d["models"]["kws01"].__setitem__("sha256", "abc"), "sha256"),
        (lambda d: d["models"]["kws01"].__setitem__("metric", "f1"), "metric"),
        (lambda d: d["models"]["kws01"]["input"].pop("scale"), "scale"),
        (lambda d: d["models"]["kws01"].__setitem__("size", True), "size"),
        (lambda d: d["models"]["ad01_fp32"].__setitem__("companion_of", "nope"), "companion_of"),
        (lambda d: d.pop("base_url"), "base_url"),
    ],
)
def test_invalid_registry_names_the_key(mutate, key: str) -> None:
    data = _raw_registry()
    mutate(data)
    with pytest.raises(ModelError, match=key):
        parse_registry(data, "test.yaml")


def test_lookup_order_explicit_then_reference_then_cache(tmp_path: Path) -> None:
    src = _ref_file("kws01")
    ref_dir, cache_dir = tmp_path / "ref", tmp_path / "cache"
    for root in (ref_dir, cache_dir):
        (root / "kws01").mkdir(parents=True)
        shutil.copy(src, root / "kws01" / src.name)
    explicit = tmp_path / "mine.tflite"
    shutil.copy(src, explicit)
    kw = {"reference_dir": ref_dir, "cache_dir": cache_dir, "download": False}
    assert resolve_model_file("kws01", explicit, **kw) == explicit
    assert resolve_model_file("kws01", **kw) == ref_dir / "kws01" / src.name
    (ref_dir / "kws01" / src.name).unlink()
    assert resolve_model_file("kws01", **kw) == cache_dir / "kws01" / src.name
    (cache_dir / "kws01" / src.name).unlink()
    with pytest.raises(ModelError, match="download is disabled"):
        resolve_model_file("kws01", **kw)


def test_reference_dir_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    src = _ref_file("ad01")
    monkeypatch.setenv(registry.ENV_REFERENCE_DIR, str(REFERENCE))
    assert resolve_model_file("ad01", download=False) == src


def test_sha_mismatch_names_file_and_hashes(tmp_path: Path) -> None:
    bad = tmp_path / "ref" / "kws01" / "kws_ref_model.tflite"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a model")
    actual = hashlib.sha256(b"not a model").hexdigest()
    with pytest.raises(ModelError) as info:
        resolve_model_file("kws01", reference_dir=tmp_path / "ref", download=False)
    text = str(info.value)
    assert str(bad) in text and actual in text and get_model("kws01").sha256 in text


def test_explicit_path_verify_option(tmp_path: Path) -> None:
    custom = tmp_path / "custom.tflite"
    custom.write_bytes(b"vendor model")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        resolve_model_file("kws01", custom)
    with pytest.warns(UserWarning, match="not the registry"):
        assert resolve_model_file("kws01", custom, verify=False) == custom
    with pytest.raises(ModelError, match="not found"):
        resolve_model_file("kws01", tmp_path / "missing.tflite")


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *_args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A local HTTP server on 127.0.0.1 serving a temp dir: (base_url, root, request log)."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _publish(root: Path, model_id: str, content: bytes) -> None:
    target = root / get_model(model_id).path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def test_download_verifies_and_is_cached(tmp_path: Path, http_root) -> None:
    base_url, root, requests = http_root
    src = _ref_file("kws01")
    _publish(root, "kws01", src.read_bytes())
    cache = tmp_path / "cache"
    got = resolve_model_file("kws01", cache_dir=cache, base_url=base_url)
    assert got == cache / "kws01" / src.name
    assert got.read_bytes() == src.read_bytes()
    assert len(requests) == 1
    assert not [p for p in got.parent.iterdir() if p.name.endswith(".part")]
    # second call: served from the cache, no new request
    assert resolve_model_file("kws01", cache_dir=cache, base_url=base_url) == got
    assert len(requests) == 1


def test_download_with_wrong_hash_leaves_no_file(tmp_path: Path, http_root) -> None:
    base_url, root, _requests = http_root
    _publish(root, "kws01", b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match="expected " + get_model("kws01").sha256):
        resolve_model_file("kws01", cache_dir=cache, base_url=base_url)
    assert list((cache / "kws01").iterdir()) == []


def test_download_http_error_is_model_error(tmp_path: Path, http_root) -> None:
    base_url, _root, _requests = http_root
    with pytest.raises(ModelError, match="cannot download"):
        resolve_model_file("ad01", cache_dir=tmp_path / "cache", base_url=base_url)


def test_default_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(registry.ENV_CACHE_DIR, str(tmp_path / "c"))
    assert registry.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(registry.ENV_CACHE_DIR)
    assert registry.default_cache_dir() == Path.home() / ".cache/tinyperf/models"
