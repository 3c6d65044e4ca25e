"""The model registry: which reference models exist, what they look like, where their files are.

Owns ``registry.yaml`` (loading and validation into frozen ``ModelSpec`` records) and the
lookup of a model's ``.tflite`` file: explicit path, then ``TINYPERF_REFERENCE_DIR``, then the
user cache, then a download from the official MLCommons location. Every file found is checked
against the registry's sha256 before it is returned.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from tinyperf.formats.errors import ModelError

log = logging.getLogger(__name__)

REGISTRY_PATH = Path(__file__).with_name("registry.yaml")
ENV_REFERENCE_DIR = "TINYPERF_REFERENCE_DIR"
ENV_CACHE_DIR = "TINYPERF_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/tinyperf/models")
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


@dataclass(frozen=True)
class TensorSpec:
    """Shape, dtype and (for int8 tensors) the quantization of one model input or output."""

    shape: tuple[int, ...]
    dtype: str
    scale: float | None = None
    zero_point: int | None = None


@dataclass(frozen=True)
class DutResultsSpec:
    """How a reference DUT prints ``m-results`` for this model (kind, rounding, decimals)."""

    kind: str
    rounding: str
    results_decimals: int
    #: A comma after every value, the last one included (the reference vww01 port).
    trailing_comma: bool = False


@dataclass(frozen=True)
class DataFile:
    """A data file shipped next to a model (sww01's stream WAVs and truth files): found and
    verified like the model file itself."""

    model_id: str
    benchmark: str
    file: str
    path: str
    url: str
    size: int
    sha256: str
    md5: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry. ``benchmark`` is the DUT model id and the reference sub-folder."""

    model_id: str
    benchmark: str
    description: str
    file: str
    path: str
    url: str
    size: int
    sha256: str
    input: TensorSpec
    output: TensorSpec
    input_bin_bytes: int
    max_db_input_size: int
    metric: str
    closed_target: float
    window_bytes: int | None = None
    stride_bytes: int | None = None
    companion_of: str | None = None
    dut_results: DutResultsSpec | None = None
    md5: str | None = None
    data_files: tuple[DataFile, ...] = ()
    #: Class index -> name (ic01, vww01); empty when the registry gives none.
    class_names: tuple[str, ...] = ()
    #: Float companions of image models: float input = byte / divisor (ic01 1, vww01 255).
    float_input_divisor: float | None = None
    #: LiteRT engine closest to TFLite Micro for this model, used where TFLM is missing.
    fallback_engine: str = "litert-ref"

    @property
    def dut_input_bytes(self) -> int:
        """Bytes of one DUT input: the window for windowed models, else one ``.bin`` file."""
        return self.window_bytes or self.input_bin_bytes


# -- loading and validation -------------------------------------------------------------------

_METRICS = ("top1", "auc", "detections")
_DTYPES = ("int8", "uint8", "float32", "int16")
_RESULT_KINDS = ("kws_softmax", "ad_mse", "ic_softmax", "vww_softmax")
_ROUNDINGS = ("truncate", "printf")
_FALLBACK_ENGINES = ("litert-ref", "litert-builtin")


def _need(entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in entry:
        raise ModelError(f"{where}: missing key '{key}'")
    value = entry[key]
    # bool is an int subclass; a YAML 'yes' must not pass as a size
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ModelError(f"{where}: key '{key}' has the wrong type ({type(value).__name__})")
    return value


def _tensor(raw: Any, where: str) -> TensorSpec:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: must be a mapping")
    shape = _need(raw, "shape", list, where)
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ModelError(f"{where}: key 'shape' must be a list of positive ints")
    dtype = _need(raw, "dtype", str, where)
    if dtype not in _DTYPES:
        raise ModelError(f"{where}: key 'dtype' must be one of {_DTYPES}, not {dtype!r}")
    scale = zero_point = None
    if dtype in ("int8", "uint8", "int16"):
        scale = float(_need(raw, "scale", (int, float), where))
        zero_point = _need(raw, "zero_point", int, where)
    return TensorSpec(tuple(shape), dtype, scale, zero_point)


def _dut_results(raw: Any, where: str) -> DutResultsSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: must be a mapping")
    kind = _need(raw, "kind", str, where)
    rounding = _need(raw, "rounding", str, where)
    if kind not in _RESULT_KINDS:
        raise ModelError(f"{where}: key 'kind' must be one of {_RESULT_KINDS}, not {kind!r}")
    if rounding not in _ROUNDINGS:
        raise ModelError(f"{where}: key 'rounding' must be one of {_ROUNDINGS}, not {rounding!r}")
    trailing = raw.get("trailing_comma", False)
    if not isinstance(trailing, bool):
        raise ModelError(f"{where}: key 'trailing_comma' must be true or false")
    return DutResultsSpec(kind, rounding, _need(raw, "results_decimals", int, where), trailing)


def _hex(value: str, digits: int, key: str, where: str) -> str:
    value = value.lower()
    if len(value) != digits or any(c not in "0123456789abcdef" for c in value):
        raise ModelError(f"{where}: key '{key}' is not {digits} hex digits")
    return value


def _data_files(raw: Any, model_id: str, benchmark: str, base_url: str,
                where: str) -> tuple[DataFile, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: must be a mapping of file name to path/size/sha256")
    out = []
    for name, entry in raw.items():
        at = f"{where}.{name}"
        if not isinstance(entry, dict):
            raise ModelError(f"{at}: must be a mapping")
        path = _need(entry, "path", str, at)
        # 'url' pins a file that upstream no longer has at HEAD (ic01's superseded list)
        url = _need(entry, "url", str, at) if "url" in entry else base_url + path
        md5 = _hex(_need(entry, "md5", str, at), 32, "md5", at) if "md5" in entry else None
        out.append(DataFile(model_id, benchmark, str(name), path, url,
                            _need(entry, "size", int, at),
                            _hex(_need(entry, "sha256", str, at), 64, "sha256", at), md5))
    return tuple(out)


def _entry(model_id: str, raw: Any, base_url: str, source: str) -> ModelSpec:
    where = f"{source}: models.{model_id}"
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: must be a mapping")
    sha = _need(raw, "sha256", str, where).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ModelError(f"{where}: key 'sha256' is not 64 hex digits")
    metric = _need(raw, "metric", str, where)
    if metric not in _METRICS:
        raise ModelError(f"{where}: key 'metric' must be one of {_METRICS}, not {metric!r}")
    path = _need(raw, "path", str, where)
    md5 = _hex(_need(raw, "md5", str, where), 32, "md5", where) if "md5" in raw else None
    benchmark = _need(raw, "benchmark", str, where)
    names = raw.get("class_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ModelError(f"{where}: key 'class_names' must be a list of strings")
    divisor = None
    if "float_input_divisor" in raw:
        divisor = float(_need(raw, "float_input_divisor", (int, float), where))
        if divisor <= 0:
            raise ModelError(f"{where}: key 'float_input_divisor' must be > 0")
    fallback = raw.get("fallback_engine", "litert-ref")
    if fallback not in _FALLBACK_ENGINES:
        raise ModelError(f"{where}: key 'fallback_engine' must be one of {_FALLBACK_ENGINES}, "
                         f"not {fallback!r}")
    return ModelSpec(
        model_id=model_id,
        benchmark=benchmark,
        description=str(raw.get("description", "")),
        file=_need(raw, "file", str, where),
        path=path,
        url=base_url + path,
        size=_need(raw, "size", int, where),
        sha256=sha,
        input=_tensor(raw.get("input"), f"{where}.input"),
        output=_tensor(raw.get("output"), f"{where}.output"),
        input_bin_bytes=_need(raw, "input_bin_bytes", int, where),
        max_db_input_size=_need(raw, "max_db_input_size", int, where),
        metric=metric,
        closed_target=float(_need(raw, "closed_target", (int, float), where)),
        window_bytes=raw.get("window_bytes"),
        stride_bytes=raw.get("stride_bytes"),
        companion_of=raw.get("companion_of"),
        dut_results=_dut_results(raw.get("dut_results"), f"{where}.dut_results"),
        md5=md5,
        data_files=_data_files(raw.get("data_files"), model_id, benchmark, base_url,
                               f"{where}.data_files"),
        class_names=tuple(names),
        float_input_divisor=divisor,
        fallback_engine=fallback,
    )


def parse_registry(data: Any, source: str = "registry.yaml") -> dict[str, ModelSpec]:
    """Validate a loaded registry document; raise ``ModelError`` naming the offending key."""
    if not isinstance(data, dict):
        raise ModelError(f"{source}: top level must be a mapping")
    base_url = _need(data, "base_url", str, source)
    models = _need(data, "models", dict, source)
    specs = {mid: _entry(str(mid), raw, base_url, source) for mid, raw in models.items()}
    for spec in specs.values():
        if spec.companion_of is not None and spec.companion_of not in specs:
            raise ModelError(
                f"{source}: models.{spec.model_id}: key 'companion_of' names unknown "
                f"model {spec.companion_of!r}"
            )
    return specs


def load_registry(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """Load and validate a registry YAML file (default: the packaged ``registry.yaml``)."""
    if path is None:
        return dict(_packaged_registry())
    return _load_file(Path(path))


@lru_cache(maxsize=1)
def _packaged_registry() -> dict[str, ModelSpec]:
    # Immutable package data: caching it is not run state.
    return _load_file(REGISTRY_PATH)


def _load_file(path: Path) -> dict[str, ModelSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read model registry {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelError(f"{path}: invalid YAML: {exc}") from exc
    return parse_registry(data, str(path))


def model_ids() -> tuple[str, ...]:
    """Every model id in the packaged registry."""
    return tuple(_packaged_registry())


def reference_artifacts(model_id: str) -> list[str]:
    """``model_id`` followed by the ids of its float companions (``models verify`` accepts a
    model equivalent to any of them; see :func:`tinyperf.reference_models.verify.verify_any`)."""
    get_model(model_id)  # unknown ids fail here with the list of known ones
    return [model_id] + [m for m in model_ids() if get_model(m).companion_of == model_id]


def get_model(model_id: str) -> ModelSpec:
    """The registry entry for ``model_id``; ``ModelError`` listing the known ids otherwise."""
    registry = _packaged_registry()
    try:
        return registry[model_id]
    except KeyError:
        raise ModelError(
            f"unknown model id {model_id!r}; known: {', '.join(sorted(registry))}"
        ) from None


# -- file lookup ------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def md5_file(path: Path) -> str:
    """Hex md5 of a file, read in chunks (the digest upstream publishes in ``.md5`` files)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(spec: ModelSpec | DataFile, path: Path) -> None:
    """Raise ``ModelError`` naming the file and both hashes if ``path`` is not ``spec``'s file.

    The sha256 decides; a pinned md5 (the digest upstream publishes) is checked as well.
    """
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(
            f"{path}: sha256 mismatch for model {spec.model_id}: "
            f"expected {spec.sha256}, got {actual}"
        )
    if spec.md5 is not None and (md5 := md5_file(path)) != spec.md5:
        raise ModelError(
            f"{path}: md5 mismatch for model {spec.model_id}: expected {spec.md5}, got {md5}"
        )


def default_cache_dir() -> Path:
    """``$TINYPERF_CACHE_DIR`` or ``~/.cache/tinyperf/models``."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR.expanduser()


def resolve_model_file(
    model_id: str,
    path: str | Path | None = None,
    *,
    reference_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    base_url: str | None = None,
    verify: bool = True,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Find (or fetch) the verified ``.tflite`` file of ``model_id``.

    Order: ``path`` → ``reference_dir`` (default ``$TINYPERF_REFERENCE_DIR``) as
    ``<dir>/<benchmark>/<file>`` → ``cache_dir`` (default :func:`default_cache_dir`) as
    ``<dir>/<benchmark>/<file>`` → download from ``base_url`` (default: the registry's
    official URL) into the cache. An explicit ``path`` with a different hash is an error when
    ``verify`` is true and only a warning otherwise (a user may run a custom model on
    purpose); every other location must match the registry hash.
    """
    spec = get_model(model_id)
    if path is not None:
        return _explicit(spec, Path(path).expanduser(), verify)
    ref = reference_dir if reference_dir is not None else os.environ.get(ENV_REFERENCE_DIR)
    if ref:
        candidate = Path(ref).expanduser() / spec.benchmark / spec.file
        if candidate.is_file():
            verify_file(spec, candidate)
            return candidate
        log.debug("%s not in reference dir %s", spec.file, ref)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cached = cache / spec.benchmark / spec.file
    if cached.is_file():
        verify_file(spec, cached)
        return cached
    if not download:
        raise ModelError(
            f"model file {spec.file} for {model_id} not found (reference dir: {ref or 'unset'}, "
            f"cache: {cache}) and download is disabled"
        )
    url = spec.url if base_url is None else base_url + spec.path
    return download_model(spec, url, cached, timeout_s=timeout_s)


def data_file(model_id: str, name: str) -> DataFile:
    """The registry record of data file ``name`` of ``model_id`` (``ModelError`` listing the
    known names otherwise)."""
    spec = get_model(model_id)
    for entry in spec.data_files:
        if entry.file == name:
            return entry
    known = ", ".join(e.file for e in spec.data_files) or "none"
    raise ModelError(f"model {model_id} has no data file {name!r}; known: {known}")


def resolve_data_file(
    model_id: str,
    name: str,
    *,
    reference_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Find (or fetch) a verified data file of ``model_id`` (e.g. sww01's
    ``short_wav_easy10s.wav``): same order and checks as :func:`resolve_model_file`."""
    entry = data_file(model_id, name)
    ref = reference_dir if reference_dir is not None else os.environ.get(ENV_REFERENCE_DIR)
    if ref:
        candidate = Path(ref).expanduser() / entry.benchmark / entry.file
        if candidate.is_file():
            verify_file(entry, candidate)
            return candidate
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cached = cache / entry.benchmark / entry.file
    if cached.is_file():
        verify_file(entry, cached)
        return cached
    if not download:
        raise ModelError(
            f"data file {entry.file} of {model_id} not found (reference dir: {ref or 'unset'}, "
            f"cache: {cache}) and download is disabled"
        )
    return download_model(entry, entry.url, cached, timeout_s=timeout_s)


LABELS_FILE = "y_labels.csv"
SUPERSEDED_LABELS_FILE = "y_labels_superseded.csv"


def labels(
    model_id: str,
    superseded: bool = False,
    *,
    reference_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """The verified ``y_labels.csv`` of ``model_id`` (a float companion uses its reference's).

    ``superseded=True`` gives the list upstream replaced (ic01 only: commit 7a738cd, spec
    ic_vww 5); ``ModelError`` for a model whose registry entry has no such list.
    """
    spec = get_model(model_id)
    owner = spec.companion_of or model_id
    name = SUPERSEDED_LABELS_FILE if superseded else LABELS_FILE
    if not any(e.file == name for e in get_model(owner).data_files):
        raise ModelError(f"model {model_id} has no {'superseded ' if superseded else ''}"
                         f"label list ({name}) in the registry")
    return resolve_data_file(owner, name, reference_dir=reference_dir, cache_dir=cache_dir,
                             download=download, timeout_s=timeout_s)


def _explicit(spec: ModelSpec, path: Path, verify: bool) -> Path:
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        verify_file(spec, path)
    except ModelError:
        if verify:
            raise
        warnings.warn(
            f"{path} is not the registry's {spec.model_id} model (sha256 differs); using it anyway",
            stacklevel=3,
        )
    return path


def download_model(spec: ModelSpec | DataFile, url: str, dest: Path, *, timeout_s: float) -> Path:
    """Download ``url`` to ``dest`` atomically: temp file in the same dir, verify, rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.file}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as resp:
            for block in iter(lambda: resp.read(_CHUNK), b""):
                digest.update(block)
                out.write(block)
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelError(
                f"{url}: downloaded {spec.file} has sha256 {actual}, expected {spec.sha256}"
            )
        os.replace(tmp, dest)  # atomic on one filesystem: readers never see a partial file
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ModelError(f"cannot download {spec.file} from {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    log.info("downloaded %s to %s", url, dest)
    return dest
