"""``make demo``: the whole harness flow end to end on the virtual DUT, no hardware.

sww01: energy mode on the virtual streaming bench (board + DUT + LPM01A) with a generated
stream of the official wakeword count (``_sww_run``).

For kws01, ad01, ic01 and vww01: start a virtual DUT running the reference model (under
TFLite Micro when installed, as reference devices) on a real pty, then a performance run
(``--iterations auto``: windows sized to ~11 s of DUT time) and an accuracy run on the
committed demo inputs, each into an MLCommons session folder; kws01 and ad01 also get an
energy run on the virtual bench. The ic01 / vww01 demo images are procedural: their accuracy
checks the pipeline, it says nothing about the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tinyperf.cli.run import print_result
from tinyperf.firmware_interface.sim.model import default_throughput, infer_engine, make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import ConformanceError
from tinyperf.harness.run.runner import AUTO_TARGET_S, RunConfig, RunResult, run_session
from tinyperf.reference_models.demo import demo_data_dir

if TYPE_CHECKING:
    from tinyperf.rules.engine import Report

#: Reference-board throughputs (inf/s) the virtual DUT's clock is set to.
DEMO_THROUGHPUT = {"kws01": 23.0, "ad01": 99.5, "ic01": default_throughput("ic01"),
                   "vww01": default_throughput("vww01")}
#: Models that also get an energy run on the virtual bench (ic01/vww01: performance and
#: accuracy only, to keep ``make demo`` short).
ENERGY_MODELS = ("kws01", "ad01")
#: The classic benchmarks ``make demo`` runs, then sww01 (energy mode only).
DEFAULT_MODELS = ("kws01", "ad01", "ic01", "vww01", "sww01")
VENDOR = "tinyperf-virtual"
#: The sww01 demo stream: the official wakeword count (the checker needs TP + FN = 50).
SWW_DEMO_WAKEWORDS = 50
SWW_DEMO_LENGTH_S = 300.0
#: Latency mode (beyond MLPerf) runs on kws01: this many single inferences.
LATENCY_ITERATIONS = 300


def run_demo(output_dir: Path, models: Sequence[str] = ("kws01", "ad01"),
             dataset_path: Path | None = None, baud: int | None = None,
             energy: bool = True, engines: dict[str, str] | None = None) -> list[RunResult]:
    """Performance, accuracy and energy for each model against its own virtual DUT.

    ``engines`` (if given) receives model id -> the engine its virtual DUT ran on."""
    data = dataset_path or demo_data_dir()
    results = []
    for model in models:
        if model == "sww01":  # a streaming bench, energy mode only (spec 7.3)
            if energy:
                results.append(_sww_run(output_dir))
            continue
        latency_us = 1e6 / DEMO_THROUGHPUT[model]
        dut = make_virtual_dut(model, throughput=DEMO_THROUGHPUT[model],
                               jitter_us=0.02 * latency_us, seed=1, vendor=VENDOR)
        if engines is not None:
            engines[model] = infer_engine(dut.infer_fn) or "custom"
        with SimServer(dut, pty=True, baud=baud) as server:
            modes: list[tuple[str, int | str | None]] = [("performance", "auto"),
                                                         ("accuracy", None)]
            if model == "kws01":
                modes.append(("latency", LATENCY_ITERATIONS))
            for mode, iterations in modes:
                config = RunConfig(mode=mode, dataset_path=data, output_dir=output_dir,
                                   iterations=iterations, port=server.url,
                                   baud=baud or 115200, progress=None)
                results.append(run_session(config))
        if energy and model in ENERGY_MODELS:
            results.append(_energy_run(model, data, output_dir))
    return results


def _energy_run(model: str, data: Path, output_dir: Path) -> RunResult:
    """Energy mode through the fake interface board and fake LPM01A (virtual bench)."""
    from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
    from tinyperf.harness.energy.run import EnergyOptions, run_energy_session

    throughput = DEMO_THROUGHPUT[model]
    with virtual_energy_rig(model, throughput=throughput, vendor=VENDOR) as rig:
        config = RunConfig(mode="energy", dataset_path=data, output_dir=output_dir,
                           iterations=int(AUTO_TARGET_S * throughput), progress=None)
        result = run_energy_session(config, EnergyOptions(interface=rig.interface_url,
                                                          monitor=rig.monitor, voltage=1.8))
        # the virtual bench knows the true energy: shown next to the measured figure
        result.figures["virtual_truth_uj_per_inference"] = rig.truth_uj_per_inference
        return result


def _sww_run(output_dir: Path) -> RunResult:
    """sww01 in energy mode on the virtual streaming bench, with a generated demo stream.

    The checker requires TP + FN = 50 (the official 20-minute file), so the demo stream is
    the demo generator's (synthetic speech over noise) at the official count: 50 wakewords
    over 300 s, written once into ``output_dir/sww01_data/sww01`` (needs espeak-ng); that
    folder is the virtual board's SD card.
    """
    from tinyperf.firmware_interface.sim.energy_rig import virtual_sww_bench
    from tinyperf.harness.energy.run import EnergyOptions, run_energy_session
    from tinyperf.harness.run.scenarios import TestEntry
    from tinyperf.reference_models import demo as demo_data
    from tinyperf.reference_models.synth import speech

    data = output_dir / "sww01_data"
    wav, truth = data / "sww01" / demo_data.SWW_WAV, data / "sww01" / demo_data.SWW_TRUTH
    if not (wav.is_file() and truth.is_file()):
        speech.espeak_path()
        demo_data.synthesize_sww01(wav.parent, np.random.default_rng(demo_data.sww01_seed(
            demo_data.DEFAULT_SEED)), length_s=SWW_DEMO_LENGTH_S, wakewords=SWW_DEMO_WAKEWORDS)
    entry = TestEntry("sww01", "streaming_wakeword", "sww01", truth.name, ["stream"])
    with virtual_sww_bench(wav.parent, energy=True, vendor=VENDOR) as bench:
        config = RunConfig(mode="energy", dataset_path=data, output_dir=output_dir,
                           entries={"sww01": entry}, progress=None)
        result = run_energy_session(config, EnergyOptions(interface=bench.interface_url,
                                                          monitor=bench.monitor, voltage=1.8))
        energy_j = bench.truth_energy_j()
        seconds = result.figures.get("energy_window_s")
        if energy_j is not None and seconds:
            result.figures["virtual_truth_mw"] = energy_j / seconds * 1e3
        return result


def write_report(results: Sequence[RunResult], output_dir: Path) -> Path:
    """The demo's HTML report (plots embedded) and its Markdown twin, next to the sessions."""
    from tinyperf.harness.analysis.report import (
        build_report,
        draw_plots,
        render_html,
        render_markdown,
    )
    from tinyperf.harness.analysis.session_reader import read_session

    report = build_report([read_session(r.session) for r in results])
    draw_plots(report)
    html = output_dir / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    (output_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return html


def package(results: Sequence[RunResult], output_dir: Path) -> tuple[Path, str, bool]:
    """Package the MLPerf-mode sessions into a submission tree and check it."""
    from tinyperf.rules.render import text

    root = output_dir / "submission"
    sessions = [r.session for r in results if r.mode in ("performance", "accuracy", "energy")]
    report = package_demo(sessions, root)
    rendered = text(report)
    return root, rendered, "Verdict: VALID" in rendered


def package_demo(sessions: Sequence[Path], root: Path, *, submitter: str = "tinyperf-demo",
                 system: str = "virtual-dut", version: str = "v1.3",
                 reference_dir: Path | None = None, waive: Iterable[str] = ()) -> Report:
    """Package the demo sessions and check the tree; returns the check ``Report``.

    The demo accuracy sets are synthetic (kws01 top-1 77.5 % misses the closed 90 %
    target), so everything goes into the **open** division, which has no accuracy targets;
    the demo label files are the reference the scored set is compared with (the official
    label files name other inputs). The systems JSON describes the virtual DUT. Sessions
    are added one at a time; a refused one is not placed and appears in the report as a
    ``TINYPERF-PKG-005`` error with the reasons.
    """
    from tinyperf.rules.engine import Finding
    from tinyperf.rules.packaged import RuleChecker, check_packaged
    from tinyperf.submissions.package import (
        META,
        Refused,
        add,
        demo_system_values,
        find_system,
        init,
        write_json,
    )

    root = Path(root)
    ref_dir = reference_dir or demo_data_dir()
    if not (root / META).exists() or not (root / "open" / submitter / "systems" /
                                          f"{system}.json").exists():
        init(root, submitter, system, "open", version, replace=True)
    ref = find_system(root, system, "open", submitter)
    doc = json.loads(ref.json_path.read_text(encoding="utf-8"))
    doc.update(demo_system_values())
    write_json(ref.json_path, doc)
    refused: list[tuple[str, list[str]]] = []
    for session in sessions:
        try:
            add(root, [Path(session)], system, replace=True, division="open",
                submitter=submitter, reference_dir=ref_dir, waive=waive, checker=RuleChecker())
        except Refused as exc:
            refused += exc.refusals
    report = check_packaged(root, reference_dir=ref_dir, waive=waive)
    for what, reasons in refused:
        report.findings.append(Finding("TINYPERF-PKG-005", "error", what,
                                       "session refused: " + "; ".join(reasons)))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from tinyperf.cli.demo import add_arguments

    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def run_from_args(args: argparse.Namespace) -> int:
    """Run the demo with parsed options and print what it did; returns the exit code."""
    engines: dict[str, str] = {}
    try:
        results = run_demo(args.output_dir, args.models.split(","), args.dataset_path, args.baud,
                           energy=not args.no_energy, engines=engines)
    except ConformanceError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 2
    print(f"tinyperf demo: virtual DUT, inputs from {args.dataset_path or demo_data_dir()}")
    if engines:
        print("virtual DUT engine: " + ", ".join(f"{m} {e}" for m, e in engines.items()))
    for result in results:
        print_result(result)
        truth = result.figures.get("virtual_truth_uj_per_inference")
        if truth is not None:
            print(f"  (virtual bench ground truth: {truth:.4f} uJ/inf)")
        truth_mw = result.figures.get("virtual_truth_mw")
        if truth_mw is not None:
            print(f"  (virtual bench ground truth: {truth_mw:.4f} mW while streaming)")
    print(f"report: {write_report(results, args.output_dir)}")
    root, checked, tree_ok = package(results, args.output_dir)
    print(f"\nsubmission tree (open division): {root}")
    print(checked.rstrip())
    print("The demo inputs are synthetic (espeak-ng speech, synthetic machine sounds, "
          "procedural ic01/vww01 images): the accuracy figures check the pipeline end to "
          "end; they are not MLPerf results.")
    return 0 if tree_ok and all(r.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
