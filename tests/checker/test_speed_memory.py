"""#18 speed and memory: logs are streamed, number arrays kept compact, the benchmark tree
is the one both checkers fully check. No wall-clock asserts: memory is compared with
tracemalloc, loosely, and the benchmark itself is ``benchmarks/check_speed.py``.
"""

from __future__ import annotations

import importlib.util
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats import eembc_log
from tinyperf.submissions import safeio
from tinyperf.submissions.loader import load

ROOT = Path(__file__).resolve().parents[2]


def _parse_peak(path: Path, chunk: int) -> tuple[int, eembc_log.EembcLog]:
    """tracemalloc peak of reading ``path`` the way the loader does (streamed)."""
    tracemalloc.start()
    try:
        log = eembc_log.parse_log_chunks(safeio.text_chunks(path, safeio.DecodeCounts(),
                                                            chunk=chunk), laps=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, log


def test_eembc_log_memory_does_not_grow_with_the_text(v11: Path, tmp_path: Path) -> None:
    """A 10x longer accuracy log (the real Skymizer kws log, 1,000 inputs, repeated ten
    times: 10,000 inputs, 220k lines) costs only the per-input results it must keep, never
    its text: holding the lines would cost more than the text itself."""
    real = (v11 / "kws" / "accuracy" / "log.txt").read_bytes()
    real += b"" if real.endswith(b"\n") else b"\n"  # copies must not merge two lines
    one, ten = tmp_path / "one.txt", tmp_path / "ten.txt"
    one.write_bytes(real)
    ten.write_bytes(real * 10)
    chunk = 256 * 1024
    peak1, log1 = _parse_peak(one, chunk)
    peak10, log10 = _parse_peak(ten, chunk)
    assert len(log1.infers) == 1000 and len(log10.infers) == 10_000
    assert log10.lines == 10 * real.count(b"\n")
    assert log10.infers[-1].results == log1.infers[-1].results
    grown = len(real) * 9
    # kept per input: its file name and one results tuple (~0.4 of its ~1.2 kB of log)
    assert peak10 - peak1 < 0.6 * grown, (peak1, peak10, grown)
    assert peak10 < 0.7 * len(real) * 10


def test_eembc_log_chunking_does_not_change_the_parse(v11: Path) -> None:
    """Chunks split anywhere (mid-line, mid-token) give the same events as one text."""
    path = v11 / "kws" / "performance" / "log.txt"
    whole = eembc_log.parse_log(path.read_text(encoding="utf-8"))
    for chunk in (37, 1000, 1 << 20):
        log = eembc_log.parse_log_chunks(safeio.text_chunks(path, safeio.DecodeCounts(),
                                                            chunk=chunk))
        assert [(i.iterations, i.laps, i.results) for i in log.infers] == \
            [(i.iterations, i.laps, i.results) for i in whole.infers]
        assert (log.config, log.profile, log.model, log.lines) == \
            (whole.config, whole.profile, whole.model, whole.lines)


def test_the_checker_parse_skips_only_line_count_and_error_lines(v11: Path) -> None:
    """``extras=False`` (the checker's reading) leaves out two whole-text scans whose
    results no rule reads; every event is the same."""
    for mode in ("performance", "accuracy", "energy"):
        path = v11 / "kws" / mode / "log.txt"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8") + "00099.000 dut: e-[broken]\n"
        full = eembc_log.parse_log(text, laps=mode != "accuracy")
        lean = eembc_log.parse_log(text, laps=mode != "accuracy", extras=False)
        assert full.lines > 0 and full.errors
        assert (lean.lines, lean.errors) == (0, [])
        lean.lines, lean.errors = full.lines, full.errors
        assert lean == full


def test_profile_and_model_are_the_last_ones_printed() -> None:
    text = ("00001.000 dut: m-profile-[first]\n00001.001 dut: m-model-[kws01]\n"
            "00002.000 dut: m-profile-[second]\n00002.001 dut: m-model-[broken\n")
    log = eembc_log.parse_log(text)
    assert (log.profile, log.model) == ("second", "kws01")  # an unclosed one is no match


def test_tokens_inside_tokens_read_as_one_scan_per_token_would() -> None:
    """One scan finds every kind of ``m-`` token, but each kind is read as its own scan
    reads it: the leftmost match, then the next one after its end."""
    text = ('00001.000 parser: Command "dut infer 1 0"\n'
            "00001.100 dut: m-profile-[a m-profile-[b] m-lap-us-10\n"
            "00001.200 dut: m-results-[m-lap-us-20]\rm-lap-us-30\n")
    log = eembc_log.parse_log(text)
    assert log.profile == "a m-profile-[b"  # not "b": that one is inside the first
    (inf,) = log.infers
    assert [lap for _host, lap in inf.laps] == [10, 20, 30]  # a lap inside a results token
    assert inf.results == []  # "m-lap-us-20" is not a number: the line is damaged
    assert eembc_log.parse_log(text, laps=False).infers[0].laps == []


def test_results_values_parse_as_before() -> None:
    text = ('00001.000 parser: Command "dut infer 1 0"\n'
            "00001.100 dut: m-results-[0,127, -3.5,1e-3,]\n"
            "00001.200 dut: m-results-[0,x]\n")
    (inf,) = eembc_log.parse_log(text).infers
    assert inf.results == [(0.0, 127.0, -3.5, 0.001)]  # empty item skipped, damaged dropped


def test_mlc_power_samples_are_float_arrays(v13: Path) -> None:
    """The loader keeps each window's ~20,000 samples as one float64 array (identical
    values to ``json.loads``), not 20,000 Python floats."""
    tree = load(v13.parents[3])
    runs = [b.modes["energy"] for _s, _y, b in tree.benchmarks() if "energy" in b.modes]
    path = v13 / "ad" / "energy" / "results.json"
    plain = json.loads(path.read_text(encoding="utf-8"))
    (run,) = [r for r in runs if r.rel.endswith("ad/energy")]
    for rec, ref in zip(run.results_json.value, plain, strict=True):
        if "power" in ref:
            arr = rec["power"]["samples"]
            assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
            assert arr.tolist() == [float(x) for x in ref["power"]["samples"]]


def test_benchmark_tree_is_a_round_both_checkers_complete(tmp_path: Path) -> None:
    """The benchmark builds a v1.3 round (the official checker stops with a KeyError on
    v1.0-v1.2, see its docstring); one copy gives one submitter folder per real one."""
    spec = importlib.util.spec_from_file_location("check_speed",
                                                  ROOT / "benchmarks" / "check_speed.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if not all(f.is_dir() for f in bench.FIXTURES):
        pytest.skip("real submission fixtures not present")
    assert bench.ROUND == "v1.3"
    tree, folders, lines = bench.build(tmp_path, 1)
    assert tree.name == "v1.3" and folders == 7 and lines > 50_000
    assert sorted(p.name for p in tree.glob("*/*")) == [
        "Alibaba_c00", "Andes_c00", "STMicroelectronics_c00", "Skymizer_c00", "bosch_c00"]


def _power_doc(samples: str, extra: str = "") -> str:
    return ('[{"file": "a.bin", "mode": "e", "infer": {"iterations": 10},'
            f' "power": {{"samples": [{samples}], "timestamps": [[1, 2], [2, 900]]{extra}}}}},'
            ' {"power": {"samples": [' + ", ".join(["1.5e-05"] * 1200) + ']}}]')


def _dump(value: object) -> str:
    """Every value spelled out: NaN equals NaN, int differs from float, arrays in full."""
    return json.dumps(value, default=lambda a: ["ndarray", str(a.dtype), a.tolist()])


SAMPLES = ", ".join(f"{1.234e-5 * (1 + (i % 97) / 1000):.4g}" for i in range(1500))
HOSTILE = {
    "plain numbers": _power_doc(SAMPLES),
    "NaN and Infinity (the runner writes them)": _power_doc(SAMPLES + ", NaN, -Infinity"),
    "a number out of double range": _power_doc(SAMPLES + ", 1e400"),
    "a huge integer": _power_doc(SAMPLES + ", " + "9" * 30),
    "samples key twice": _power_doc(SAMPLES, ', "samples": [1, 2]'),
    "samples key twice, both long": _power_doc(SAMPLES, f', "samples": [{SAMPLES}]'),
    "the marker text in the file": _power_doc(SAMPLES, ', "samples": "\\u0000tinyperf-samples-0"'),
    "an object inside the array": _power_doc(SAMPLES + ', {"a": 1, "a": 2}'),
    "a nested array": _power_doc(SAMPLES + ", [1, 2]"),
    "a bracket in a string": _power_doc(SAMPLES + ', "x]y"'),
    "unclosed": _power_doc(SAMPLES)[:-40],
    "broken after the array": _power_doc(SAMPLES).replace('"timestamps"', "timestamps", 1),
    "control character elsewhere": _power_doc(SAMPLES).replace('"a.bin"', '"a\x01.bin"'),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_fast_power_samples_read_exactly_as_json(case: str) -> None:
    """With orjson installed, power.samples arrays take the C parser; whatever the file
    holds, the document, its duplicate keys and its error are the plain reading's."""
    pytest.importorskip("orjson")
    text = HOSTILE[case]
    fast = safeio.load_json(text, power_samples=True)
    plain = safeio._load_plain(text)  # the plain reading, then the same array conversion
    if isinstance(plain.value, list):
        safeio._samples_as_arrays(plain.value)
    assert _dump(fast.value) == _dump(plain.value)
    assert (fast.duplicates, fast.error) == (plain.duplicates, plain.error)


def test_fast_power_samples_take_the_fast_path_on_runner_files(v13: Path) -> None:
    pytest.importorskip("orjson")
    text = (v13 / "kws" / "energy" / "results.json").read_text(encoding="utf-8")
    assert safeio._load_power_samples(text) is not None  # the fast path is the one taken
    fast = safeio.load_json(text, power_samples=True)
    plain = json.loads(text)
    samples = [r["power"]["samples"] for r in fast.value if "power" in r]
    assert len(samples) == 5 and all(isinstance(a, np.ndarray) for a in samples)
    assert [a.tolist() for a in samples] == [r["power"]["samples"] for r in plain]
    for rec in plain:
        rec["power"]["samples"] = np.asarray(rec["power"]["samples"], dtype=float)
    assert _dump(fast.value) == _dump(plain) and fast.duplicates == []


DOCS = {
    "runner records": '[{"file": "a.bin", "class": "3", "infer": {"results": [0.1, 0.9]}}]',
    "duplicate key": '{"a": 1, "a": 2}',
    "duplicate key, compact": '{"a":1,"a":2}',
    "duplicate key hidden by a space before a colon": '{"a" :1,"a":2}',
    "duplicate key, tab before a colon": '{"a"\t:1,"a":2}',
    "duplicate key in a dropped value": '{"a": {"b": 1, "b": 2}, "a": 3}',
    "duplicate key and a value opening with a colon": '{"a": ":x", "a": 1}',
    "a value opening with a colon": '{"a": ":x", "b": "\\":y"}',
    "escaped quotes and a duplicate": '{"a\\"": 1, "a\\"": 2}',
    "escaped quote before a colon in a value": '{"k": "x\\":", "k2": 1}',
    "duplicate key inside a list": '[{"x": 1}, {"y": 1, "y": 2}]',
    "empty key twice": '{"": 1, "": 2}',
    "NaN": '{"a": NaN}',
    "Infinity": '[Infinity, -Infinity]',
    "huge integer": '[123456789012345678901234567890]',
    "64-bit limits": '[18446744073709551615, -9223372036854775808, 18446744073709551616]',
    "minus zero": '[-0, -0.0, 0e0, 1E400]',
    "float digits": '[0.1, 1e-320, 2.2250738585072014e-308, 1.7976931348623157e308]',
    "lone surrogate": '["\\ud800"]',
    "unicode": '{"caf\u00e9": "\u2603"}',
    "byte order mark": '\ufeff{"a": 1}',
    "control character in a string": '{"a": "x\x01y"}',
    "DEL in a string": '{"a": "x\x7fy"}',
    "trailing comma": '{"a": 1,}',
    "trailing text": '{"a": 1} x',
    "two documents": '{"a": 1}{"b": 2}',
    "empty": '',
    "whitespace only": ' \n ',
    "deep nesting": '[' * 3000 + ']' * 3000,
    "nesting at orjson's limit": '[' * 1030 + ']' * 1030,
    "bare scalar": '3',
    "single quotes": "{'a': 1}",
    "leading zero": '[01]',
    "non-JSON whitespace": '{"a":\u00a01}',
}


@pytest.mark.parametrize("case", sorted(DOCS))
def test_fast_json_reads_exactly_as_json(case: str) -> None:
    """With orjson installed, a document without duplicate keys takes the C parser: its
    value, duplicate keys and error are the plain ``json`` reading's, whatever it holds."""
    pytest.importorskip("orjson")
    text = DOCS[case]
    fast, plain = safeio.load_json(text), safeio._load_plain(text)
    assert (fast.duplicates, fast.error) == (plain.duplicates, plain.error)
    assert _dump(fast.value) == _dump(plain.value)
    assert [type(x) for x in _leaves(fast.value)] == [type(x) for x in _leaves(plain.value)]


def test_fast_json_is_taken_on_runner_files(v13: Path) -> None:
    pytest.importorskip("orjson")
    text = (v13 / "kws" / "accuracy" / "results.json").read_text(encoding="utf-8")
    assert safeio._load_fast(text) is not None
    assert safeio.load_json(text).value == json.loads(text)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def test_duplicate_keys_are_recorded_in_order() -> None:
    doc = safeio.load_json('{"a": 1, "b": {"a": 2, "a": 3, "c": 1, "a": 4}, "a": 5}')
    assert doc.value == {"a": 5, "b": {"a": 4, "c": 1}}
    assert doc.duplicates == ["a", "a", "a"]  # inner object first (it closes first)


def test_nul_bytes_are_counted_and_dropped(tmp_path: Path) -> None:
    data = b"00001.000 dut: m-ready\n\x00\x00x\n"
    assert safeio.decode(data).nul_bytes == 2 and "\x00" not in safeio.decode(data).text
    assert safeio.decode(b"clean\n").nul_bytes == 0
    path = tmp_path / "log.txt"
    path.write_bytes(data * 3)
    counts = safeio.DecodeCounts()
    text = "".join(safeio.text_chunks(path, counts, chunk=7))
    assert counts.nul_bytes == 6 and "\x00" not in text and text.count("x") == 3
