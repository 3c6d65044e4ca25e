"""tinyperf's public Python API: the four things a notebook or a script needs.

- :func:`run` — run a mode against a DUT port; a typed :class:`RunResult`;
- :func:`check` — check a submission tree; the :class:`Report` (:func:`check_rounds`
  for a folder of rounds);
- :func:`evaluate` — evaluate a ``.tflite`` model on a dataset on the host;
- :func:`read_session` — read a finished session folder back into a :class:`SessionRecord`;
- :func:`virtual_dut` and :func:`demo_data` — a DUT and inputs to try all of it with no board.

Each function imports what it needs when called, so ``import tinyperf`` stays light.
Errors are :class:`tinyperf.ConformanceError` subclasses that name the file, line or
field at fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tinyperf.harness.analysis.session_reader import SessionRecord
    from tinyperf.harness.link.dut import Timeouts
    from tinyperf.harness.run.runner import RunResult
    from tinyperf.reference_models.evaluate import AdEvaluation, KwsEvaluation
    from tinyperf.rules.engine import Report

Mode = Literal["performance", "accuracy", "energy", "latency"]
#: Where the label files of the reference sets are looked up when no folder is given.
REFERENCE_ENV = "TINYPERF_REFERENCE_DIR"


def run(mode: Mode, port: str, dataset_path: str | Path, *,
        output_dir: str | Path = "sessions", baud: int = 115200,
        test_script: str | Path | None = None, iterations: int | Literal["auto"] | None = None,
        warmups: int | None = None, resume: str | Path | None = None,
        timeouts: Timeouts | None = None, interface: str | None = None,
        monitor: str | None = None, voltage: float = 1.8,
        energy_options: Mapping[str, object] | None = None,
        fast_load: Literal["auto", "off"] = "auto") -> RunResult:
    """Run ``mode`` against the DUT at ``port``; write an MLCommons session folder.

    ``port`` is a device path (``/dev/ttyACM0``), a pyserial URL (``socket://host:port``,
    ``rfc2217://host:port``), or a firmware port (``qemu://kws01``, ``host://ad01``) that
    tinyperf builds and starts for the run. ``dataset_path`` holds ``kws01/``, ``ad01/``, …
    with their ``y_labels.csv`` and ``.bin`` inputs. ``test_script`` is an MLCommons
    ``tests_*.yaml`` (default: the reference script of the mode); ``iterations`` overrides
    N of every ``infer`` step (``"auto"``: sized from the DUT's speed). ``fast_load``:
    ``"auto"`` loads inputs with the binary ``fl`` commands where the DUT offers them
    (docs/fast_load.md), ``"off"`` uses the standard protocol only.

    Energy mode reaches the DUT through the interface board at ``interface`` and measures
    with ``monitor`` (e.g. ``lpm01a:/dev/ttyACM1``); ``energy_options`` sets the other
    fields of ``tinyperf.harness.energy.run.EnergyOptions``.

    Returns the :class:`RunResult` that ``run.json`` holds: ``valid``, ``reasons`` and the
    mode's ``figures`` (e.g. ``figures["median_throughput"]``, ``figures["top1"]``).
    """
    from tinyperf.firmware_interface.links import start_firmware
    from tinyperf.harness.run import scenarios
    from tinyperf.harness.run.runner import RunConfig, run_session

    entries = scenarios.load_test_script(Path(test_script)) if test_script else None
    config = RunConfig(mode=mode, dataset_path=Path(dataset_path),
                       output_dir=Path(output_dir), entries=entries, iterations=iterations,
                       warmups=warmups, port=(interface or "") if mode == "energy" else port,
                       baud=baud, progress=False, fast_load=fast_load)
    if mode == "energy":
        from tinyperf.harness.energy.run import EnergyOptions, run_energy_session

        if not interface or not monitor:
            from tinyperf.formats.errors import ConfigError
            raise ConfigError("energy mode needs interface= (the interface board's port) and "
                              "monitor= (e.g. 'lpm01a:/dev/ttyACM1')", key="interface")
        options = EnergyOptions(interface=interface, monitor=monitor, voltage=voltage,
                                **dict(energy_options or {}))  # type: ignore[arg-type]
        return run_energy_session(config, options, resume=Path(resume) if resume else None,
                                  timeouts=timeouts)
    return run_session(config, resume=Path(resume) if resume else None, timeouts=timeouts,
                       start_dut=start_firmware)


def check(path: str | Path, *, reference_dir: str | Path | None = None,
          waive: Iterable[str] = (), version: str | None = None,
          submitter: str | None = None) -> Report:
    """Check one round's submission tree with the versioned rule set; returns the
    :class:`Report`.

    ``path`` is a tree (``closed/``, ``open/`` inside) or a ``.tar.gz``/``.zip`` of one;
    for a folder of rounds (``v1.1/``, ``v1.3/``, …) use :func:`check_rounds`.
    ``reference_dir`` holds the official label files the scored sets are compared with
    (default: ``$TINYPERF_REFERENCE_DIR``). ``report.ok`` is the verdict,
    ``report.findings`` the typed findings, ``report.rows`` the results table;
    ``tinyperf.rules.render`` prints it as text, JSON or the official summary CSV.
    """
    from tinyperf.formats.errors import ConfigError
    from tinyperf.submissions.loader import rounds_in

    if rounds_in(Path(path)):
        raise ConfigError("a folder of rounds: use tinyperf.check_rounds()", path=path)
    return check_rounds(path, reference_dir=reference_dir, waive=waive, version=version,
                        submitter=submitter)[0]


def check_rounds(path: str | Path, *, reference_dir: str | Path | None = None,
                 waive: Iterable[str] = (), version: str | None = None,
                 submitter: str | None = None,
                 on_round: Callable[[Report | None, int, int], None] | None = None,
                 jobs: int = 1) -> list[Report]:
    """:func:`check` for every round below ``path`` (one report per round, in order); a
    single tree gives a list of one.

    A round without a rule file of its own (v0.5, v0.7) is checked with the nearest later
    rule set (``report.rules_note`` says so). A round that cannot be checked at all (an
    unreadable archive, a failure inside the checker) gets a report with ``error`` set and
    the other rounds are still checked. ``on_round(report, done, total)`` is called once
    before the first round (``None, 0, total``) and after each (progress of a whole record).
    ``jobs > 1`` reads and recomputes a round's result folders in that many processes
    (forked, Linux only; the caller must be single-threaded): same reports, less wall time.
    """
    from tinyperf.formats.errors import ConfigError
    from tinyperf.rules.ruleset import DEFAULT_VERSION, load_ruleset
    from tinyperf.submissions.loader import rounds_in

    path = Path(path)
    if not path.exists():
        raise ConfigError("no such file or folder", path=path)
    ref = Path(reference_dir) if reference_dir is not None else (
        Path(os.environ[REFERENCE_ENV]) if os.environ.get(REFERENCE_ENV) else None)
    if ref is not None and not ref.is_dir():
        raise ConfigError("reference folder not found", path=ref, key="reference_dir")
    waive = list(waive)
    unknown = sorted(set(waive) - {r.id for r in load_ruleset(version or DEFAULT_VERSION).rules}
                     ) if waive else []
    if unknown:
        raise ConfigError(f"unknown rule id(s) {unknown}", key="waive")
    rounds = rounds_in(path) or [path]
    reports: list[Report] = []
    if on_round is not None:
        on_round(None, 0, len(rounds))
    for one in rounds:
        reports.append(_check_round(one, ref, waive, version, submitter, jobs))
        if on_round is not None:
            on_round(reports[-1], len(reports), len(rounds))
    return reports


def _check_round(path: Path, ref: Path | None, waive: list[str], version: str | None,
                 submitter: str | None, jobs: int) -> Report:
    from tinyperf.rules.engine import Report
    from tinyperf.rules.engine import check as engine_check
    from tinyperf.rules.ruleset import DEFAULT_VERSION, load_ruleset, resolve_version
    from tinyperf.submissions.loader import detect_version, open_tree

    named = version or detect_version(path) or DEFAULT_VERSION
    try:
        rules_version, note = resolve_version(named)
        ruleset = load_ruleset(rules_version)
        with open_tree(path, read=False) as tree:  # folders are read while checked
            if not version and tree.version_hint and tree.version_hint != named:
                named = tree.version_hint  # an archive names its round inside
                rules_version, note = resolve_version(named)
                ruleset = load_ruleset(rules_version)
            if submitter:
                tree.submitters = [s for s in tree.submitters if s.name == submitter]
            report = engine_check(tree, ruleset, ref, waive, jobs)
    except Exception as exc:  # one round's failure must not hide the other rounds
        return Report(path.name, named, round=named,
                      error=f"could not check {path.name}: {type(exc).__name__}: {exc}")
    report.round, report.rules_note = named, note
    return report


def evaluate(model: str | Path, dataset_path: str | Path, *,
             labels: str | Path = "y_labels.csv",
             workers: int | None = None) -> KwsEvaluation | AdEvaluation:
    """Evaluate a kws01 or ad01 ``.tflite`` (detected from its input) on a ``.bin`` set.

    ``model`` is a file path or a registry id (``kws01``, ``ad01``: the reference model,
    found through ``$TINYPERF_REFERENCE_DIR``, the cache or the official download).
    Returns the evaluation: top-1 and AUC (kws01) or AUC per machine (ad01), with the
    per-input outputs.
    """
    from tinyperf.reference_models.evaluate import evaluate as host_evaluate
    from tinyperf.reference_models.registry import resolve_model_file

    path = Path(model)
    if not path.exists() and "/" not in str(model) and not str(model).endswith(".tflite"):
        path = resolve_model_file(str(model))
    return host_evaluate(path, dataset_path, labels=labels, workers=workers)


def read_session(folder: str | Path) -> SessionRecord:
    """Read a session folder (ours or the MLCommons runner's) into a :class:`SessionRecord`:
    mode, model, identity, figures, per-file scores, energy and latency data."""
    from tinyperf.harness.analysis.session_reader import read_session as read

    return read(folder)


@contextmanager
def virtual_dut(model_id: str = "kws01", *, throughput: float | None = None,
                tflite: str | Path | None = None, socket: bool = False,
                baud: int | None = None) -> Iterator[str]:
    """Serve tinyperf's virtual DUT for the ``with`` block; yields its port.

    The virtual DUT speaks the exact DUT serial protocol over a real pty (or a TCP
    socket: ``socket=True`` yields ``socket://127.0.0.1:PORT``) and runs the real
    ``.tflite`` (``tflite``, else the registry's reference model of ``model_id``) with the
    TFLite interpreter; its clock is simulated at ``throughput`` inferences per second.
    ``baud`` paces the link like a UART of that rate (default: as fast as the host).
    """
    from tinyperf.firmware_interface.sim.model import make_virtual_dut
    from tinyperf.firmware_interface.sim.server import SimServer

    dut = make_virtual_dut(model_id, tflite=tflite, throughput=throughput)
    with SimServer(dut, pty=not socket, socket_port=0 if socket else None, baud=baud) as server:
        yield server.url


def demo_data() -> Path:
    """The demo input sets shipped with tinyperf (``kws01/``, ``ad01/``: ``.bin`` inputs and
    ``y_labels.csv``): synthetic data that checks the pipeline end to end, not MLPerf data."""
    from tinyperf.reference_models.demo import demo_data_dir

    return demo_data_dir()
