"""Synthetic ic/vww accuracy folders in the printed formats of published logs (ic_vww.md 3.2).

``eembc_accuracy`` writes an EEMBC EnergyRunner accuracy folder (log.txt with the
``singleInputFn`` header, ``bload``/``infer`` commands and ``m-results`` lines;
results.txt with ``Top-1``/``AUC``); ``mlc_accuracy`` writes an MLCommons-runner one whose
per-input results are only in log.txt (the runner's ``m-results    : [...]`` echo). The
claim lines are given by the test: these writers never compute a metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from tinyperf.formats import mlc

TEMPLATE_KEYS = ["Submitter", "Division", "Status", "Board Name", "Processor(s) Name",
                 "Processor(s) Frequencies", "Processor memory type and capacity",
                 "Accelerator", "Accelerator(s) Frequencies",
                 "Accelerator memory type and capacity", "Hardware Notes",
                 "Inference Framework", "Software Libraries", "Software Notes"]

Printer = Callable[[Sequence[float]], str]


def three_decimals(values: Sequence[float]) -> str:
    """Most EEMBC-era logs: ``%0.3f``, no trailing comma."""
    return ",".join(f"{v:.3f}" for v in values)


def six_decimals_trailing_comma(values: Sequence[float]) -> str:
    """The v0.5 reference (Mbed) vww line: 6 decimals and a comma after every value."""
    return "".join(f"{v:.6f}," for v in values)


def integers(values: Sequence[float]) -> str:
    """Skymizer/Nuvoton: the int8 output + 128 printed as integers (0..255 scale)."""
    return ",".join(str(min(255, round(v * 256))) for v in values)


def signed_logits(values: Sequence[float]) -> str:
    """Raw signed logits (their sum may be negative): a monotone map of the probabilities."""
    return ",".join(f"{12.0 * v - 6.0:.3f}" for v in values)


def read_labels(path: Path) -> list[tuple[str, int]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            name, _k, label = line.split(",")[:3]
            rows.append((name, int(label)))
    return rows


def one_hot(label: int, k: int, wrong: bool = False) -> list[float]:
    """A confident softmax row: 0.996 on ``label`` (or on the next class when ``wrong``)."""
    out = [0.0] * k
    out[(label + 1) % k if wrong else label] = 0.996
    return out


def system(root: Path, version: str, division: str, submitter: str, name: str) -> Path:
    sub = root / version / division / submitter
    (sub / "systems").mkdir(parents=True, exist_ok=True)
    data = dict.fromkeys(TEMPLATE_KEYS, "")
    data.update({"Submitter": submitter, "Division": division.capitalize(),
                 "Status": "Available", "Board Name": name})
    (sub / "systems" / f"{name}.json").write_text(json.dumps(data, indent=1))
    return sub / "results" / name


def eembc_accuracy(folder: Path, model: str, rows: Sequence[tuple[str, Sequence[float]]],
                   claim_lines: Sequence[str], printer: Printer = three_decimals,
                   header: str | None = None) -> None:
    """An EEMBC accuracy folder: one ``bload`` + ``dut infer 1 0`` per ``(file, values)``."""
    folder.mkdir(parents=True, exist_ok=True)
    first = header if header is not None else (rows[0][0] if rows else "")
    log = ["07498.222 session: m-session-start-id[20240308105213]",
           "07498.222 parser: m-bmark-run-name[ML Performance 1.0.1]-code[ulp-mlperf]",
           f"07498.735 parser: m-bm-cfg-name[ulp-mlperf]-key[model]-val[{model}]",
           f"07498.735 parser: m-bm-cfg-name[ulp-mlperf]-key[singleInputFn]-val[{first}]",
           "07498.736 dut: m-profile-[ULPMark for tinyML Firmware V0.0.1]",
           f"07498.737 dut: m-model-[{model}]"]
    t = 7499.0
    for name, values in rows:
        log += [f'{t:09.3f} parser: Command "bload dut "/d/datasets/{model}/{name}""',
                f"{t:09.3f} parser: m-bload-done",
                f'{t:09.3f} parser: Command "dut infer 1 0"',
                f"{t + 0.1:09.3f} dut: m-warmup-start-0",
                f"{t + 0.1:09.3f} dut: m-lap-us-1000",
                f"{t + 0.2:09.3f} dut: m-lap-us-2000",
                f"{t + 0.2:09.3f} dut: m-results-[{printer(values)}]",
                f"{t + 0.2:09.3f} dut: m-ready"]
        t += 0.3
    (folder / "log.txt").write_text("\n".join(log) + "\n")
    (folder / "results.txt").write_text(
        "".join(f"{t:09.3f} ulp-mlperf: {line}\n" for line in claim_lines))
    (folder / "script.async").write_text("[\n    {\n        cmd: 'umount'\n    }\n]")


def mlc_accuracy(folder: Path, rows: Sequence[tuple[str, Sequence[float]]],
                 claim_lines: Sequence[str]) -> None:
    """An MLCommons accuracy folder whose per-input results are the log's echo lines."""
    folder.mkdir(parents=True, exist_ok=True)
    ts = "0726.103048"
    log = ["Device profile retrieved: ULPMark for tinyML Firmware V0.0.1"]
    for n, (name, values) in enumerate(rows):
        log.append(mlc.log_loading(ts, name, 0))
        log += mlc.log_window(ts, n, 1, 0.01, 100.0, [round(v, 3) for v in values])
    body = "".join(f"{ts} {mlc.CODE}: {line}\n" for line in claim_lines)
    (folder / "log.txt").write_text("\n".join(log) + "\n" + body)
    (folder / "results.txt").write_text(body)


def mlc_results_json(folder: Path, rows: Sequence[tuple[str, int, Sequence[float]]],
                     claim_lines: Sequence[str]) -> None:
    """An MLCommons accuracy folder with per-input results in results.json (v1.3 runner)."""
    folder.mkdir(parents=True, exist_ok=True)
    recs = []
    for name, label, values in rows:
        inf = mlc.infer_record(start_time=1, end_time=2, results=list(values), elapsed_time=1,
                               total_inferences=1, iterations=1, warmups=0, throughput=None,
                               mode="a")
        recs.append(mlc.window_record(file=name, classes=str(len(values)), label=str(label),
                                      bytes_to_send=None, stride=None, total_length=None,
                                      infer=inf, mode="a"))
    ts = "0726.103048"
    body = "".join(f"{ts} {mlc.CODE}: {line}\n" for line in claim_lines)
    (folder / "results.json").write_text(mlc.results_json(recs))
    (folder / "results.txt").write_text(body)
    (folder / "log.txt").write_text("Device profile retrieved: Fw\n" + body)
