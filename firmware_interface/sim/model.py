"""Build the virtual DUT's firmware configuration and model from the registry.

Owns the mapping model id → (``DutConfig``, ``infer_fn``): the registry gives the buffer
capacity, tensor input size and results formatting; ``tinyperf.reference_models.dut_outputs`` gives
the reference port's result computation; ``tinyperf.reference_models.runtime`` runs the ``.tflite``.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.formats import protocol as p
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models.dut_outputs import results_function
from tinyperf.reference_models.registry import get_model, resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel

from .clock import LatencyModel, SimClock
from .core import DutConfig, InferFn, TimestampCallback, VirtualDut

#: Inferences per second when neither a latency nor a throughput is given.
DEFAULT_THROUGHPUT = 23.0


def dut_config_for(
    model_id: str, *, vendor: str = p.DEFAULT_VENDOR, energy: bool = False
) -> DutConfig:
    """The reference port's build settings for ``model_id`` (kws01 490 B, ad01 5120 B buffer)."""
    spec = get_model(model_id)
    if spec.dut_results is None:
        raise ModelError(f"model {model_id!r} has no reference DUT port (float companion?)")
    return DutConfig(
        model_id=spec.benchmark,
        vendor=vendor,
        max_db_input_size=spec.max_db_input_size,
        input_bytes=spec.dut_input_bytes,
        results_decimals=spec.dut_results.results_decimals,
        energy=energy,
    )


def build_infer_fn(
    model_id: str,
    tflite: str | Path | None = None,
    *,
    reference_dir: str | Path | None = None,
    download: bool = True,
    reference_kernels: bool = True,
) -> InferFn:
    """``raw bytes -> printed values`` for ``model_id``, running its (verified) ``.tflite``.

    ``tflite`` overrides the registry file; it need not match the registry hash (a vendor
    may run its own model), so it is verified with a warning only.
    """
    spec = get_model(model_id)
    if spec.dut_results is None:
        raise ModelError(f"model {model_id!r} has no reference DUT port (float companion?)")
    path = resolve_model_file(
        model_id, tflite, reference_dir=reference_dir, download=download, verify=False
    )
    model = TfliteModel(path, reference_kernels=reference_kernels)
    return results_function(spec.dut_results.kind, model)


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
) -> VirtualDut:
    """A reference-port ``VirtualDut`` for ``model_id`` running the real model.

    Latency: ``latency_us`` if given, else ``1e6 / throughput``, else the reference board's
    ``DEFAULT_THROUGHPUT`` (23 inf/s, a kws01-class board). ``infer_fn`` replaces the
    model (protocol tests that need no interpreter).
    """
    config = dut_config_for(model_id, vendor=vendor, energy=energy)
    if infer_fn is None:
        infer_fn = build_infer_fn(model_id, tflite, reference_dir=reference_dir)
    extra = {"jitter_us": jitter_us, "slow_probability": slow_probability,
             "slow_factor": slow_factor, "seed": seed}
    if latency_us is not None:
        latency = LatencyModel(latency_us=latency_us, **extra)  # type: ignore[arg-type]
    else:
        latency = LatencyModel.from_throughput(throughput or DEFAULT_THROUGHPUT, **extra)
    clock = SimClock(clock_offset_us, follow_wall=follow_wall)
    return VirtualDut(config, infer_fn, latency=latency, clock=clock, on_timestamp=on_timestamp)
