"""``tinyperf.reference_models.tflite_info``: the flatbuffer reader and the footprint figures.

The reference models' figures are spec reference_models §3.1 (sizes and memory), §1.5 / §2.5
(MACs) and the op tables of §1.7 / §2.7, checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models import tflite_info as ti

KWS = "kws01/kws_ref_model.tflite"
KWS_F32 = "kws01/kws_ref_model_float32.tflite"
AD = "ad01/ad01_int8.tflite"
AD_F32 = "ad01/ad01_fp32.tflite"

# file, bytes, ops, const elems, const bytes, activation sum, peak, MACs, pool adds
SPEC_3_1 = [
    (KWS, 53_936, 13, 22_606, 24_376, 72_642, 16_000, 2_656_768, 8_000),
    (KWS_F32, 43_392, 13, 22_606, 33_592, 290_568, 64_000, 2_656_768, 8_000),
    (AD, 276_976, 10, 265_864, 270_880, 2_312, 768, 264_192, 0),
    (AD_F32, 1_067_648, 10, 265_864, 1_063_456, 9_248, 3_072, 264_192, 0),
]


@pytest.mark.parametrize("name,size,ops,elems,cbytes,act_sum,peak,macs,pool", SPEC_3_1)
def test_reference_figures_equal_spec(reference_dir: Path, name: str, size: int, ops: int,
                                      elems: int, cbytes: int, act_sum: int, peak: int,
                                      macs: int, pool: int) -> None:
    info = ti.read_model(reference_dir / name)
    assert info.file_bytes == size
    assert len(info.operators) == ops
    assert info.parameter_count == elems
    assert info.constant_bytes == cbytes
    assert info.activation_sum() == act_sum
    assert info.activation_peak() == peak
    assert info.macs().total == macs
    assert info.macs().pool_adds == pool
    s = ti.summary(info)
    # issue 17 added the live-set lower bound (ic_vww spec 1.6) to the activation figures
    bound = info.activation_lower_bound()
    assert s["activation_bytes"] == {"sum": act_sum, "peak_planned": peak, "alignment": 16,
                                     "live_set_lower_bound": bound}
    assert bound <= peak
    assert s["macs"]["total"] == macs and s["parameter_count"] == elems


def test_kws01_macs_by_family(reference_dir: Path) -> None:
    m = ti.read_model(reference_dir / KWS).macs()
    assert (m.conv, m.depthwise, m.fully_connected) == (320_000 + 4 * 512_000, 4 * 72_000, 768)


def test_kws01_op_table(reference_dir: Path) -> None:
    info = ti.read_model(reference_dir / KWS)
    names = [op.op for op in info.operators]
    assert names == ["CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 4 + [
        "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    versions = {op.op: op.version for op in info.operators}
    assert versions == {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "AVERAGE_POOL_2D": 2,
                        "RESHAPE": 1, "FULLY_CONNECTED": 4, "SOFTMAX": 2}
    conv0 = info.operators[0]
    assert info.tensors[conv0.inputs[1]].shape == (64, 10, 4, 1)
    assert conv0.options == {"padding": "SAME", "stride_w": 2, "stride_h": 2,
                             "fused_activation_function": "RELU", "dilation_w_factor": 1,
                             "dilation_h_factor": 1}
    pool = info.operators[9].options
    assert (pool["filter_height"], pool["filter_width"]) == (25, 5)  # spec §1.5: not (24, 5)
    assert (pool["stride_h"], pool["stride_w"], pool["padding"]) == (25, 5, "VALID")
    assert info.operators[1].options["depth_multiplier"] == 1
    assert info.operators[11].options["fused_activation_function"] == "NONE"
    assert info.operators[12].options == {"beta": 1.0}
    out_q = [info.tensors[op.outputs[0]].quantization for op in info.operators]
    assert out_q[0] is not None and out_q[0].scale[0] == pytest.approx(0.0787253976)
    assert all(q is not None and q.zero_point == (-128,) for q in out_q[:11] if q != out_q[11])
    assert out_q[11] is not None and out_q[11].zero_point == (14,)
    assert out_q[12] is not None and out_q[12].scale == (0.00390625,)
    inp = info.tensors[info.inputs[0]]
    assert inp.shape == (1, 49, 10, 1) and inp.dtype == "int8"
    assert inp.quantization is not None
    assert inp.quantization.scale[0] == pytest.approx(0.5847029089927673)
    assert inp.quantization.zero_point == (83,)


def test_kws01_weight_quantization(reference_dir: Path) -> None:
    info = ti.read_model(reference_dir / KWS)
    conv_w = info.tensors[info.operators[0].inputs[1]].quantization
    dw_w = info.tensors[info.operators[1].inputs[1]].quantization
    fc_w = info.tensors[info.operators[11].inputs[1]].quantization
    assert conv_w is not None and conv_w.per_channel and len(conv_w.scale) == 64
    assert conv_w.quantized_dimension == 0 and set(conv_w.zero_point) == {0}
    assert dw_w is not None and dw_w.per_channel and dw_w.quantized_dimension == 3
    # FC: per-tensor. Spec §1.7 says "one scale repeated across 12 entries"; the file (and
    # the interpreter) hold a single scale.
    assert fc_w is not None and not fc_w.per_channel
    assert fc_w.scale[0] == pytest.approx(0.008385755)


def test_ad01_op_table(reference_dir: Path) -> None:
    info = ti.read_model(reference_dir / AD)
    assert [op.op for op in info.operators] == ["FULLY_CONNECTED"] * 10
    assert {op.version for op in info.operators} == {4}
    acts = [op.options["fused_activation_function"] for op in info.operators]
    assert acts == ["RELU"] * 9 + ["NONE"]
    consts = [sum(info.tensors[k].elements for k in op.inputs if info.tensors[k].constant)
              for op in info.operators]
    assert consts == [82_048, 16_512, 16_512, 16_512, 1_032, 1_152, 16_512, 16_512, 16_512,
                      82_560]
    out = info.tensors[info.outputs[0]].quantization
    assert out is not None and out.zero_point == (96,)
    assert out.scale[0] == pytest.approx(0.364498466)


def test_graph_agrees_with_interpreter(reference_dir: Path) -> None:
    pytest.importorskip("ai_edge_litert.interpreter")
    from tinyperf.reference_models.runtime import load_interpreter

    for name in (KWS, AD):
        info = ti.read_model(reference_dir / name)
        it = load_interpreter(reference_dir / name)
        ops = it._get_ops_details()
        assert [o["op_name"] for o in ops] == [op.op for op in info.operators]
        for o, op in zip(ops, info.operators):
            assert tuple(o["inputs"]) == op.inputs and tuple(o["outputs"]) == op.outputs
        details = [d for d in it.get_tensor_details() if d["index"] < len(info.tensors)]
        assert len(details) == len(info.tensors)  # the runtime appends scratch tensors
        for d in details:
            t = info.tensors[d["index"]]
            assert t.name == d["name"] and t.shape == tuple(d["shape"])
            assert np.dtype(d["dtype"]).name == t.dtype
            if t.constant:
                assert np.array_equal(info.weight_values(t.index), it.get_tensor(d["index"]))


def test_dequantized_values_per_channel(reference_dir: Path) -> None:
    info = ti.read_model(reference_dir / KWS)
    k = info.operators[1].inputs[1]  # depthwise kernel 1x3x3x64, quantized along axis 3
    raw = info.weight_values(k).astype(np.float64)
    q = info.tensors[k].quantization
    assert q is not None
    real = ti.dequantized_values(info, k)
    assert np.allclose(real[..., 5], raw[..., 5] * q.scale[5])
    assert np.allclose(real[..., 63], raw[..., 63] * q.scale[63])


# -- the planner on hand-made graphs ----------------------------------------------------------


def _tensor(i: int, nbytes: int, constant: bool = False) -> ti.Tensor:
    return ti.Tensor(i, f"t{i}", (nbytes,), "int8", 1 if constant else 0, None, constant)


def _graph(sizes: list[int], ops: list[tuple[tuple[int, ...], tuple[int, ...]]],
           inputs: tuple[int, ...], outputs: tuple[int, ...]) -> ti.ModelInfo:
    tensors = tuple(_tensor(i, n) for i, n in enumerate(sizes))
    operators = tuple(ti.Operator(i, "ADD", 1, a, b) for i, (a, b) in enumerate(ops))
    return ti.ModelInfo("graph", 0, 3, "", tensors, operators, (ti.Buffer(0, -1, 0),), inputs,
                        outputs, 1)


def test_planner_chain_reuses_memory() -> None:
    # t0 -> op0 -> t1 -> op1 -> t2 -> op2 -> t3 ; only neighbours are alive together
    g = _graph([490, 8000, 8000, 12], [((0,), (1,)), ((1,), (2,)), ((2,), (3,))], (0,), (3,))
    assert g.activation_sum() == 490 + 8000 + 8000 + 12
    assert g.activation_peak() == 16000
    assert g.activation_peak(alignment=1) == 16000
    assert ti.tensor_lifetimes(g) == {0: (0, 0), 1: (0, 1), 2: (1, 2), 3: (2, 2)}


def test_planner_alignment_and_long_lived_input() -> None:
    # t0 is read again by op2 (a skip connection): alive for ops 0..2
    g = _graph([100, 40, 40, 40], [((0,), (1,)), ((1,), (2,)), ((0, 2), (3,))], (0,), (3,))
    assert g.activation_peak(alignment=1) == 100 + 40 + 40
    assert g.activation_peak(alignment=16) == 112 + 48 + 48
    plan = {lt.tensor: lt for lt in ti.plan_memory(g)}
    assert plan[0].offset == 0 and plan[0].size == 112
    assert plan[3].offset == plan[1].offset  # t1 is dead when t3 is written


def test_constants_are_not_planned() -> None:
    g = _graph([64, 64], [((0,), (1,))], (0,), (1,))
    tensors = (*g.tensors, _tensor(2, 1000, constant=True))
    g2 = ti.ModelInfo("graph", 0, 3, "", tensors,
                      (ti.Operator(0, "ADD", 1, (0, 2), (1,)),),
                      (ti.Buffer(0, -1, 0), ti.Buffer(1, 0, 1000)), (0,), (1,), 1)
    assert g2.activation_sum() == 128 and g2.activation_peak() == 128
    assert g2.parameter_count == 1000 and g2.constant_bytes == 1000


# -- errors -----------------------------------------------------------------------------------


def test_not_a_tflite_file(tmp_path: Path) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match=r"model\.tflite.*not a \.tflite file"):
        ti.read_model(bad)


def test_truncated_file(reference_dir: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tflite"
    cut.write_bytes((reference_dir / KWS).read_bytes()[:2000])
    with pytest.raises(ModelError, match=r"cut\.tflite: not a valid \.tflite flatbuffer"):
        ti.read_model(cut)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nothere\.tflite: cannot read"):
        ti.read_model(tmp_path / "nothere.tflite")


def _opcode_fields(data: bytes, opcode: int) -> tuple[int, int]:
    """Absolute offsets of (deprecated_builtin_code, builtin_code) of operator code ``opcode``.

    Located with the generated schema the parser uses: field n sits at vtable slot 4 + 2n
    (deprecated_builtin_code is field 0, builtin_code field 3); 0 means the field is absent.
    """
    code = ti._schema().root(data).OperatorCodes(opcode)
    tab = code._tab
    return tab.Pos + tab.Offset(4), (tab.Pos + tab.Offset(10)) if tab.Offset(10) else 0


@pytest.mark.parametrize("code,name", [(150, "GELU"), (160, "BITWISE_XOR"),
                                       (9_999, "BUILTIN_9999")])
def test_op_outside_the_small_models_set(reference_dir: Path, code: int, name: str) -> None:
    # pretrainedResnet_quant writes the int32 builtin_code field (kws01 only the int8 one);
    # codes above 126 live there, with the deprecated byte set to 127 (the schema's rule)
    data = bytearray((reference_dir / "ic01/pretrainedResnet_quant.tflite").read_bytes())
    info = ti.parse_model(bytes(data))
    softmax = next(op for op in info.operators if op.op == "SOFTMAX")
    codes = ti._schema().root(bytes(data))
    index = next(j for j in range(codes.OperatorCodesLength())
                 if codes.OperatorCodes(j).BuiltinCode() == 25)
    deprecated, builtin = _opcode_fields(bytes(data), index)
    assert builtin, "the fixture model should carry the builtin_code field"
    data[deprecated] = 127
    data[builtin:builtin + 4] = code.to_bytes(4, "little", signed=True)
    patched = ti.parse_model(bytes(data), "patched.tflite")
    assert patched.operators[softmax.index].op == name
    assert patched.operators[softmax.index].options == {}  # no decoded options for it
    assert ti.summary(patched)["op_counts"][name] == 1
    assert ti.BUILTIN_OPS.get(code, f"BUILTIN_{code}") == name
    # the figures of the other ops do not move
    assert patched.macs() == info.macs() and patched.parameter_count == info.parameter_count


def test_schema_tables_are_the_full_schema() -> None:
    ops = ti.BUILTIN_OPS
    assert len(ops) > 200 and ops[3] == "CONV_2D" and ops[126] == "BATCH_MATMUL"
    assert ti.TENSOR_TYPES[9] == ("int8", "i1", 1) and ti.TENSOR_TYPES[17][0] == "int4"
    assert ti.ACTIVATIONS[3] == "RELU6" and ti.PADDINGS == {0: "SAME", 1: "VALID"}


def test_option_offsets_point_at_the_fields(reference_dir: Path) -> None:
    info = ti.read_model(reference_dir / KWS)
    widths = {"padding": 1, "fused_activation_function": 1, "weights_format": 1,
              "keep_num_dims": 1, "asymmetric_quantize_inputs": 1, "beta": 4}
    checked = 0
    for op in info.operators:
        for key, at in op.option_offsets.items():
            raw = info.data[at:at + widths.get(key, 4)]
            value = op.options[key]
            if key == "beta":
                assert np.frombuffer(raw, "<f4")[0] == value
            elif key in ("padding", "fused_activation_function"):
                enum = ti.PADDINGS if key == "padding" else ti.ACTIVATIONS
                assert enum[raw[0]] == value
            else:
                assert int.from_bytes(raw, "little", signed=True) == value
            checked += 1
    assert checked == 37  # fields left at their schema default are not in the file
    # buffer offsets: the constant bytes are where the parser says
    k = info.operators[0].inputs[1]
    buf = info.buffers[info.tensors[k].buffer]
    assert info.buffer_bytes(k) == info.data[buf.offset:buf.offset + buf.size]
    assert buf.size == 64 * 10 * 4 * 1


def test_tensor_index_out_of_range(reference_dir: Path) -> None:
    data = bytearray((reference_dir / KWS).read_bytes())
    op = ti._schema().root(bytes(data)).Subgraphs(0).Operators(0)
    at = op._tab.Vector(op._tab.Offset(6))  # inputs vector: field 1 -> vtable slot 6
    data[at:at + 4] = (999).to_bytes(4, "little")
    with pytest.raises(ModelError, match=r"bad\.tflite: .*op 0 \(CONV_2D\) refers to "
                                         r"tensor 999 of 35"):
        ti.parse_model(bytes(data), "bad.tflite")


def test_garbage_after_identifier() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        junk = b"\x00\x00\x00\x00TFL3" + rng.integers(0, 256, 500, dtype=np.uint8).tobytes()
        junk = rng.integers(0, 256, 4, dtype=np.uint8).tobytes() + junk[4:]
        with pytest.raises(ModelError, match=r"junk\.tflite: not a valid"):
            ti.parse_model(junk, "junk.tflite")


def test_damaged_files_raise_model_error_only(reference_dir: Path) -> None:
    """Cuts and overwritten words anywhere: either a model or a ModelError naming the file."""
    rng = np.random.default_rng(7)
    good = (reference_dir / KWS).read_bytes()
    cases = [good[:n] for n in rng.integers(8, len(good), 40)]
    for _ in range(150):
        d = bytearray(good)
        at = int(rng.integers(8, len(d) - 4))
        d[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f",
                                   rng.integers(0, 256, 4, dtype=np.uint8).tobytes()])
        cases.append(bytes(d))
    errors = 0
    for case in cases:
        try:
            ti.summary(ti.parse_model(case, "damaged.tflite"))
        except ModelError as exc:
            assert "damaged.tflite" in str(exc)
            errors += 1
    assert errors >= 40  # every cut at least


def test_without_a_schema_package(monkeypatch: pytest.MonkeyPatch, reference_dir: Path) -> None:
    monkeypatch.setattr(ti, "_SCHEMA_MODULES", ("tinyperf_no_such_schema",))
    ti._schema.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"install ai-edge-litert.*'tflite' package"):
            ti.read_model(reference_dir / KWS)
    finally:
        monkeypatch.undo()
        ti._schema.cache_clear()


def test_one_module_per_class_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     reference_dir: Path) -> None:
    """The ``tflite`` PyPI package's layout (package ``tflite``, module ``tflite.Model`` ...)."""
    generated = pytest.importorskip("ai_edge_litert.schema_py_generated")
    pkg = tmp_path / "fake_tflite_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in dir(generated):
        if isinstance(getattr(generated, name), type):
            (pkg / f"{name}.py").write_text(
                f"from ai_edge_litert.schema_py_generated import {name}  # noqa: F401\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ti, "_SCHEMA_MODULES", ("tinyperf_no_such_schema", "fake_tflite_pkg"))
    ti._schema.cache_clear()
    try:
        assert ti._schema().module.__name__ == "fake_tflite_pkg"
        info = ti.read_model(reference_dir / KWS)
        assert ti.summary(info)["macs"]["total"] == 2_656_768
        assert info.operators[9].options["filter_height"] == 25
    finally:
        monkeypatch.undo()
        ti._schema.cache_clear()
