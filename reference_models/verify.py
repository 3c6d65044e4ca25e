"""Closed-division model equivalence: is a submitted ``.tflite`` the reference model?

Owns ``tinyperf models verify``. Two models are *equivalent* when

1. they run the same op sequence (builtin op names in execution order);
2. every matched op has the same input/output tensor shapes and the same builtin options
   (strides, padding, pool filter, fused activation, …; options that only select a hybrid
   kernel variant, such as ``asymmetric_quantize_inputs``, are ignored);
3. every constant input of every matched op (weights, biases) holds the same real values
   after dequantization, within a tolerance; integer constants without quantization (a
   RESHAPE shape) must be equal.

Weight error of one constant tensor = ``max |w_submitted - w_reference| / max |w_reference|``
(after dequantizing each side with its own per-tensor or per-channel scale): the largest
deviation as a fraction of the layer's weight range.

Default tolerance **1/127 ≈ 0.00787** — one step of a symmetric int8 grid spanning the
layer's range. Reason: a correct int8 quantization of given float weights is within half a
step of them (per-channel grids are finer, never coarser, than the per-tensor one), so two
correct quantizations of the *same* float weights (the reference int8 model and the float
companion, or a model a submitter re-quantizes from the reference float weights with another
calibration) differ by at most one step. Measured: kws01 int8 vs the hybrid float companion
0.0075 worst (per-channel int8 conv kernels vs per-tensor hybrid ones), ad01 int8 vs fp32
0.0039. Retrained, pruned or rescaled weights are off by far more.

int32 biases are also accepted within one of their own quantization steps (the larger
scale of the two sides, ``input scale x weight scale``): two correct quantizations of the same
float bias differ by at most that, and for a small bias it can exceed 1/127 of its range
(ic01's FULLY_CONNECTED bias: half a step is 1.02 % of the range).

A model can be checked against several published artifacts of the same reference
(:func:`verify_any`; ``models verify --model-id`` uses the int8 model and its float
companions): it is equivalent when it matches any of them. This matters for kws01, whose only
published float weights are the *hybrid* companion — already int8 per-tensor. A submitter who
re-quantizes those weights per-channel is one int8 step from the companion but up to ~1.5
steps of the per-tensor grid from the int8 reference (measured 0.0091 on ``conv2d_3``), so a
single-reference check would reject a legitimate closed-division model.

The result is a :class:`VerifyReport` (data); the CLI renders it.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.reference_models.tflite_info import ModelInfo, dequantized_values, read_model

#: Default weight tolerance: one int8 step of the layer's range (see module docstring).
DEFAULT_TOLERANCE = 1.0 / 127.0
#: Relative slack, so exactly one step passes despite float32 scales (~1e-6 relative).
_SLACK = 1e-4
#: Options that choose a kernel variant, not the function computed.
IGNORED_OPTIONS = frozenset({"asymmetric_quantize_inputs"})
_FLOAT_TYPES = ("float32", "float16", "float64")


@dataclass(frozen=True)
class OpChange:
    """An op present in only one model, or an op whose type changed."""

    kind: str  # "added" | "removed" | "replaced"
    reference_index: int | None
    submitted_index: int | None
    reference_op: str | None
    submitted_op: str | None

    def describe(self) -> str:
        if self.kind == "added":
            return f"op {self.submitted_index} {self.submitted_op} added"
        if self.kind == "removed":
            return f"op {self.reference_index} {self.reference_op} removed"
        return (f"op {self.reference_index} {self.reference_op} replaced by "
                f"{self.submitted_op} (submitted op {self.submitted_index})")


@dataclass(frozen=True)
class Mismatch:
    """A shape, option or constness difference on a matched op."""

    op_index: int  # reference op index
    op: str
    what: str  # "input 0 shape", "option filter_height", "input 1 constant", ...
    reference: Any
    submitted: Any

    def describe(self) -> str:
        return f"op {self.op_index} {self.op}: {self.what} {self.submitted} != reference " \
               f"{self.reference}"


@dataclass(frozen=True)
class WeightCheck:
    """Comparison of one constant input of a matched op."""

    op_index: int
    op: str
    input: int  # position among the op's inputs (1 = weights, 2 = bias for conv/FC)
    role: str
    reference_tensor: str
    submitted_tensor: str
    reference_dtype: str
    submitted_dtype: str
    max_abs_diff: float
    reference_range: float  # max |w_reference|
    error: float  # max_abs_diff / reference_range
    worst_index: tuple[int, ...]  # position of the largest difference
    tolerance: float
    exact: bool  # integer constant compared for equality
    #: int32 biases: one quantization step (the larger side's scale), always allowed
    step: float = 0.0

    @property
    def ok(self) -> bool:
        if self.exact:
            return self.max_abs_diff == 0
        return (self.error <= self.tolerance * (1 + _SLACK)
                or self.max_abs_diff <= self.step * (1 + _SLACK))

    def describe(self) -> str:
        layer = f"op {self.op_index} {self.op} {self.role} ({self.reference_tensor})"
        if self.exact:
            return f"{layer}: values differ (max |diff| {self.max_abs_diff:g})"
        return (f"{layer}: max |diff| {self.max_abs_diff:.4g} = {self.error:.4f} of the "
                f"range {self.reference_range:.4g} at {list(self.worst_index)} "
                f"(tolerance {self.tolerance:.4f})")


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`; ``equivalent`` iff no op change, mismatch or weight failure."""

    submitted: str
    reference: str
    tolerance: float
    op_changes: tuple[OpChange, ...]
    mismatches: tuple[Mismatch, ...]
    weights: tuple[WeightCheck, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def weight_failures(self) -> list[WeightCheck]:
        return [w for w in self.weights if not w.ok]

    @property
    def equivalent(self) -> bool:
        return not (self.op_changes or self.mismatches or self.weight_failures)

    def failures(self) -> list[str]:
        """One sentence per difference, ops first, then shapes/options, then weights."""
        return ([c.describe() for c in self.op_changes]
                + [m.describe() for m in self.mismatches]
                + [w.describe() for w in self.weight_failures])

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted, "reference": self.reference,
            "tolerance": self.tolerance, "equivalent": self.equivalent,
            "failures": self.failures(), "notes": list(self.notes),
            "op_changes": [vars(c) for c in self.op_changes],
            "mismatches": [{**vars(m), "reference": _jsonable(m.reference),
                            "submitted": _jsonable(m.submitted)} for m in self.mismatches],
            "weights": [{**vars(w), "worst_index": list(w.worst_index), "ok": w.ok}
                        for w in self.weights],
        }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _role(op: str, position: int) -> str:
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
        return {1: "weights", 2: "bias"}.get(position, f"input {position}")
    return f"const {position}"


def _compare_constant(ref: ModelInfo, sub: ModelInfo, op_index: int, op: str, position: int,
                      kr: int, ks: int, tolerance: float) -> WeightCheck:
    tr, ts = ref.tensors[kr], sub.tensors[ks]
    exact = (tr.quantization is None and tr.dtype not in _FLOAT_TYPES
             and ts.quantization is None and ts.dtype not in _FLOAT_TYPES)
    wr, ws = dequantized_values(ref, kr), dequantized_values(sub, ks)
    diff = np.abs(ws - wr)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape)) \
        if diff.size else ()
    max_diff = float(diff.max()) if diff.size else 0.0
    rng = float(np.abs(wr).max()) if wr.size else 0.0
    if rng > 0:
        error = max_diff / rng
    else:
        error = 0.0 if max_diff == 0 else float("inf")
    return WeightCheck(op_index, op, position, _role(op, position), tr.name, ts.name, tr.dtype,
                       ts.dtype, max_diff, rng, error, worst, tolerance, exact,
                       max(_bias_step(tr), _bias_step(ts)))


def _bias_step(tensor: Any) -> float:
    """The largest quantization step of an int32 bias (0 for anything else)."""
    q = tensor.quantization
    if tensor.dtype != "int32" or q is None:
        return 0.0
    return max((abs(float(v)) for v in q.scale), default=0.0)


def _compare_op(ref: ModelInfo, sub: ModelInfo, i: int, j: int, tolerance: float
                ) -> tuple[list[Mismatch], list[WeightCheck]]:
    ro, so = ref.operators[i], sub.operators[j]
    mismatches: list[Mismatch] = []
    checks: list[WeightCheck] = []
    for kind, rl, sl in (("input", ro.inputs, so.inputs), ("output", ro.outputs, so.outputs)):
        if len(rl) != len(sl):
            mismatches.append(Mismatch(i, ro.op, f"{kind} count", len(rl), len(sl)))
        for pos, (kr, ks) in enumerate(zip(rl, sl)):
            if (kr < 0) != (ks < 0):
                mismatches.append(Mismatch(i, ro.op, f"{kind} {pos} present", kr >= 0, ks >= 0))
                continue
            if kr < 0:
                continue
            tr, ts = ref.tensors[kr], sub.tensors[ks]
            if tr.shape != ts.shape:
                mismatches.append(Mismatch(i, ro.op, f"{kind} {pos} shape", tr.shape, ts.shape))
                continue
            if kind == "input" and tr.constant != ts.constant:
                mismatches.append(Mismatch(i, ro.op, f"input {pos} constant", tr.constant,
                                           ts.constant))
                continue
            if kind == "input" and tr.constant:
                checks.append(_compare_constant(ref, sub, i, ro.op, pos, kr, ks, tolerance))
    for key in sorted(set(ro.options) | set(so.options)):
        if key in IGNORED_OPTIONS:
            continue
        a, b = ro.options.get(key), so.options.get(key)
        if a != b:
            mismatches.append(Mismatch(i, ro.op, f"option {key}", a, b))
    return mismatches, checks


def verify_info(submitted: ModelInfo, reference: ModelInfo,
                tolerance: float = DEFAULT_TOLERANCE) -> VerifyReport:
    """Compare two parsed models (pure; see module docstring for the criteria)."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    ref_ops = [op.op for op in reference.operators]
    sub_ops = [op.op for op in submitted.operators]
    changes: list[OpChange] = []
    mismatches: list[Mismatch] = []
    checks: list[WeightCheck] = []
    matcher = difflib.SequenceMatcher(None, ref_ops, sub_ops, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                m, c = _compare_op(reference, submitted, i, j, tolerance)
                mismatches += m
                checks += c
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            changes.append(OpChange("replaced", i1 + k, j1 + k, ref_ops[i1 + k], sub_ops[j1 + k]))
        for i in range(i1 + paired, i2):
            changes.append(OpChange("removed", i, None, ref_ops[i], None))
        for j in range(j1 + paired, j2):
            changes.append(OpChange("added", None, j, None, sub_ops[j]))
    notes = []
    for label, ks_ref, ks_sub in (("input", reference.inputs, submitted.inputs),
                                  ("output", reference.outputs, submitted.outputs)):
        dr = [reference.tensors[k].dtype for k in ks_ref]
        ds = [submitted.tensors[k].dtype for k in ks_sub]
        if dr != ds:
            notes.append(f"model {label} dtype {ds} differs from the reference {dr} "
                         "(allowed: quantization is the submitter's choice)")
    return VerifyReport(submitted.path, reference.path, tolerance, tuple(changes),
                        tuple(mismatches), tuple(checks), tuple(notes))


#: Ops a submitter may put around the reference network: a float interface (QUANTIZE at
#: the input, DEQUANTIZE at the output) over identical int8 weights is the same model (the
#: shipped ad01 ``model_ToyCar_quant_fullint.tflite``; converters' float-I/O ic/vww files).
IO_WRAPPERS = {"QUANTIZE": "input", "DEQUANTIZE": "output"}


def io_wrappers_only(changes: tuple[OpChange, ...], submitted_ops: int) -> bool:
    """True when every op change is a QUANTIZE added at the model's start or a DEQUANTIZE
    added at its end (and there is at least one)."""
    if not changes:
        return False
    head = sorted(c.submitted_index for c in changes if c.submitted_op == "QUANTIZE")
    tail = sorted(c.submitted_index for c in changes if c.submitted_op == "DEQUANTIZE")
    return all(c.kind == "added" and c.submitted_op in IO_WRAPPERS for c in changes) \
        and head == list(range(len(head))) \
        and tail == list(range(submitted_ops - len(tail), submitted_ops))


def set_aside_io_wrappers(report: VerifyReport, submitted_ops: int) -> VerifyReport:
    """``report`` with float-interface wrappers (see :data:`IO_WRAPPERS`) set aside, noted;
    unchanged when its op changes are anything else. Weights and options still decide."""
    if not io_wrappers_only(report.op_changes, submitted_ops):
        return report
    wrappers = ", ".join(c.describe() for c in report.op_changes)
    return dataclasses.replace(report, op_changes=(), notes=(
        *report.notes, f"a float interface around the network ({wrappers}) is allowed"))


def _verify_info(submitted: ModelInfo, reference: ModelInfo, tolerance: float,
                 io_wrappers: bool) -> VerifyReport:
    report = verify_info(submitted, reference, tolerance)
    return set_aside_io_wrappers(report, len(submitted.operators)) if io_wrappers else report


def verify(submitted: str | Path, reference: str | Path,
           tolerance: float = DEFAULT_TOLERANCE, *, io_wrappers: bool = True) -> VerifyReport:
    """Compare the ``.tflite`` files ``submitted`` and ``reference`` (see module docstring);
    ``io_wrappers``: accept a QUANTIZE/DEQUANTIZE float interface around the network."""
    return _verify_info(read_model(submitted), read_model(reference), tolerance, io_wrappers)


def _badness(report: VerifyReport) -> tuple[int, float]:
    worst = max((w.error / w.tolerance if w.tolerance else np.inf
                 for w in report.weight_failures), default=0.0)
    return len(report.op_changes) + len(report.mismatches) + len(report.weight_failures), worst


def verify_any(submitted: str | Path, references: list[str | Path],
               tolerance: float = DEFAULT_TOLERANCE, *, io_wrappers: bool = True
               ) -> VerifyReport:
    """Compare ``submitted`` with each reference artifact in order; equivalent if any matches.

    Returns the first equivalent report, with a note naming the artifacts it did not match;
    otherwise the report of the closest reference (fewest differences, then the smallest
    worst weight error), so the user sees the most relevant list of what differs.
    """
    if not references:
        raise ValueError("no reference model given")
    info = read_model(submitted)
    reports = [_verify_info(info, read_model(ref), tolerance, io_wrappers)
               for ref in references]
    for k, report in enumerate(reports):
        if report.equivalent:
            if k:
                skipped = ", ".join(r.reference for r in reports[:k])
                note = (f"equivalent to {report.reference}; not within tolerance of {skipped} "
                        f"(quantizing already-quantized companion weights adds a rounding step)")
                report = dataclasses.replace(report, notes=(*report.notes, note))
            return report
    best = min(reports, key=_badness)
    if len(reports) > 1:
        others = ", ".join(r.reference for r in reports if r is not best)
        note = f"also not equivalent to {others}; the closest reference is shown"
        best = dataclasses.replace(best, notes=(*best.notes, note))
    return best
