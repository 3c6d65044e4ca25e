"""Build the virtual DUT's firmware configuration and model from the registry.

Owns the mapping model id → (``DutConfig``, ``infer_fn``): the registry gives the buffer
capacity, tensor input size and results formatting; ``tinyperf.reference_models.dut_outputs`` gives
the reference port's result computation; ``tinyperf.reference_models.runtime`` runs the ``.tflite``
under TFLite Micro (what reference devices run) when installed, else under the model's LiteRT
fallback (registry ``fallback_engine``: the resolver closest to TFLM for that model).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tinyperf.formats import protocol as p
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models.dut_outputs import results_function
from tinyperf.reference_models.registry import get_model, resolve_model_file
from tinyperf.reference_models.runtime import XNNPACK, load_model

from .clock import LatencyModel, SimClock
from .core import DutConfig, InferFn, TimestampCallback, VirtualDut

#: Inferences per second when neither a latency nor a throughput is given. kws01: the
#: reference NUCLEO-L4R5ZI-P's published v1.3 figure (23.0 inf/s, protocol spec 4.4); other
#: models without an entry (ad01) keep that value as before. ic01 / vww01: the ic_vww spec
#: gives no reference-board figure, so they are kws01's 23.0 scaled by MACs per inference
#: (kws01 2,656,768; ic01 12,501,632; vww01 7,489,664): the same board and runtime, estimated.
DEFAULT_THROUGHPUTS = {"kws01": 23.0, "ic01": 4.89, "vww01": 8.16}
DEFAULT_THROUGHPUT = DEFAULT_THROUGHPUTS["kws01"]


def default_throughput(model_id: str) -> float:
    """The virtual DUT's default inferences per second for ``model_id`` (its benchmark)."""
    return DEFAULT_THROUGHPUTS.get(get_model(model_id).benchmark, DEFAULT_THROUGHPUT)


def dut_config_for(
    model_id: str, *, vendor: str = p.DEFAULT_VENDOR, energy: bool = False
) -> DutConfig:
    """The reference port's build settings for ``model_id`` (buffer: kws01 490 B, ad01 5120 B,
    ic01 3072 B, vww01 27648 B; vww01 prints a trailing comma)."""
    spec = get_model(model_id)
    if spec.dut_results is None:
        raise ModelError(f"model {model_id!r} has no reference DUT port (float companion?)")
    return DutConfig(
        model_id=spec.benchmark,
        vendor=vendor,
        max_db_input_size=spec.max_db_input_size,
        input_bytes=spec.dut_input_bytes,
        results_decimals=spec.dut_results.results_decimals,
        results_trailing_comma=spec.dut_results.trailing_comma,
        energy=energy,
    )


def build_infer_fn(
    model_id: str,
    tflite: str | Path | None = None,
    *,
    reference_dir: str | Path | None = None,
    download: bool = True,
    reference_kernels: bool = True,
    engine: str | None = None,
) -> InferFn:
    """``raw bytes -> printed values`` for ``model_id``, running its (verified) ``.tflite``.

    ``tflite`` overrides the registry file; it need not match the registry hash (a vendor
    may run its own model), so it is verified with a warning only. ``engine`` (see
    ``runtime.ENGINES``; default: TFLM when installed) runs it; ``reference_kernels=False``
    is the older spelling of ``engine="xnnpack"``. The returned function carries the engine
    actually used as its ``engine`` attribute (the sim banner prints it).
    """
    spec = get_model(model_id)
    if spec.dut_results is None:
        raise ModelError(f"model {model_id!r} has no reference DUT port (float companion?)")
    path = resolve_model_file(
        model_id, tflite, reference_dir=reference_dir, download=download, verify=False
    )
    if engine is None and not reference_kernels:
        engine = XNNPACK
    model = load_model(path, engine, fallback=spec.fallback_engine)
    infer = results_function(spec.dut_results.kind, model)
    infer.engine = model.engine  # type: ignore[attr-defined]
    return infer


def infer_engine(infer_fn: InferFn) -> str | None:
    """The engine name a :func:`build_infer_fn` function runs on (None for other functions)."""
    return getattr(infer_fn, "engine", None)


def make_virtual_dut(
    model_id: str,
    *,
    tflite: str | Path | None = None,
    reference_dir: str | Path | None = None,
    vendor: str = p.DEFAULT_VENDOR,
    energy: bool = False,
    throughput: float | None = None,
    latency_us: float | None = None,
    jitter_us: float = 0.0,
    slow_probability: float = 0.0,
    slow_factor: float = 10.0,
    seed: int = 0,
    clock_offset_us: int = 0,
    follow_wall: bool = True,
    on_timestamp: TimestampCallback | None = None,
    infer_fn: InferFn | None = None,
    engine: str | None = None,
    fast_load: bool = True,
) -> VirtualDut:
    """A reference-port ``VirtualDut`` for ``model_id`` running the real model.

    Latency: ``latency_us`` if given, else ``1e6 / throughput``, else the reference board's
    :func:`default_throughput` of the model. ``infer_fn`` replaces the model (protocol tests
    that need no interpreter); ``engine`` picks the runtime (default TFLM when installed).
    """
    # fast_load False: ``fl`` is an unknown command, as on the standard firmware
    config = replace(dut_config_for(model_id, vendor=vendor, energy=energy), fast_load=fast_load)
    if infer_fn is None:
        infer_fn = build_infer_fn(model_id, tflite, reference_dir=reference_dir, engine=engine)
    extra = {"jitter_us": jitter_us, "slow_probability": slow_probability,
             "slow_factor": slow_factor, "seed": seed}
    if latency_us is not None:
        latency = LatencyModel(latency_us=latency_us, **extra)  # type: ignore[arg-type]
    else:
        latency = LatencyModel.from_throughput(throughput or default_throughput(model_id),
                                               **extra)
    clock = SimClock(clock_offset_us, follow_wall=follow_wall)
    return VirtualDut(config, infer_fn, latency=latency, clock=clock, on_timestamp=on_timestamp)
