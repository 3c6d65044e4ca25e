"""The fault-injection campaign: accuracy runs against a faulty virtual DUT, each outcome
classified (#19 "reliability campaign as a test suite").

Per fault kind of the virtual DUT, a seeded random plan puts faults on ``db``/``infer``/
``name`` commands at a given rate; the run's outcome is compared with a fault-free run of the
same set:

- ``identical``: the session's results equal the fault-free run's;
- ``clear error``: a typed error whose kind matches the injected faults, or a run that
  finished NOT VALID with its reasons;
- ``unclear error``: a typed error of a kind the injected faults do not explain;
- ``HANG``: the run did not end within the hang bound;
- ``SILENT WRONG``: the run finished, called itself valid, and its results differ;
- ``CRASH``: anything that is not a typed ``ConformanceError`` (a traceback).

Independently, ``lost`` counts sessions whose journal cannot be read or whose journaled
windows differ from the fault-free run's: nothing written may be lost or wrong.
"""

from __future__ import annotations

import json
import random
import shutil
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.firmware_interface.sim.faults import Fault
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import (
    ConformanceError,
    DutErrorReply,
    DutProtocolError,
    DutTimeout,
)
from tinyperf.harness.link.dut import DutFrozen, DutResetError, Timeouts
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.session import Journal
from tinyperf.reference_models.demo import demo_data_dir

KINDS = ("garbage", "drop_chars", "stall", "reset", "error_line", "freeze", "mixed")
OUTCOMES = ("identical", "clear error", "unclear error", "HANG", "SILENT WRONG", "CRASH")
#: the campaign's deadlines: short, so stalls and freezes cost seconds, not minutes
TIMEOUTS = Timeouts(command=1.0, floor=2.0, first_contact=5.0, stall=6.0)
HANG_S = 90.0
#: which typed errors explain which injected fault
EXPLAINS: dict[str, tuple[type[BaseException], ...]] = {
    "garbage": (DutProtocolError, DutTimeout, DutErrorReply),
    "drop_chars": (DutProtocolError, DutTimeout),
    "stall": (DutTimeout,),
    "reset": (DutResetError, DutProtocolError, DutTimeout),
    "error_line": (DutErrorReply,),
    "freeze": (DutFrozen, DutTimeout),
}


def subset(dest: Path, files: int = 8) -> Path:
    """The first ``files`` kws01 demo inputs of every other class, as a dataset folder."""
    src = demo_data_dir() / "kws01"
    rows = (src / "y_labels.csv").read_text().splitlines()[::15][:files]
    out = dest / "kws01"
    out.mkdir(parents=True, exist_ok=True)
    for row in rows:
        shutil.copy(src / row.split(",")[0], out / row.split(",")[0])
    (out / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return dest


def _fault(kind: str, verb: str, occurrence: int, rng: random.Random) -> Fault:
    if kind == "garbage":
        return Fault(kind, verb, occurrence, count=rng.randint(1, 16),
                     pattern=rng.choice(("ff", "00", "random")), seed=rng.randint(0, 9999))
    if kind == "drop_chars":
        return Fault(kind, verb, occurrence, line=rng.randint(0, 7),
                     position=rng.randint(0, 30), count=rng.randint(1, 2))
    if kind == "stall":
        return Fault(kind, verb, occurrence, seconds=rng.uniform(1.5, 4.0))
    if kind == "freeze":
        return Fault(kind, verb, occurrence, line=rng.randint(0, 3))
    return Fault(kind, verb, occurrence)


def plan(kind: str, rate: float, seed: int, horizon: int = 150) -> list[Fault]:
    """Faults on each occurrence of ``db``, ``fl``, ``infer`` and ``name`` with probability
    ``rate`` (``fl``: fast load, the default path on the virtual DUT; ``db`` after a fallback)."""
    rng = random.Random(f"{kind}/{rate}/{seed}")
    faults = []
    for verb in ("db", "fl", "infer", "name"):
        for occurrence in range(1, horizon + 1):
            if rng.random() < rate:
                chosen = kind
                if kind == "mixed":
                    chosen = rng.choice([k for k in KINDS if k not in ("mixed", "freeze")]
                                        + ["freeze"] * (rng.random() < 0.1))
                faults.append(_fault(chosen, verb, occurrence, rng))
    return faults


@dataclass
class Outcome:
    kind: str
    rate: float
    seed: int
    outcome: str
    detail: str = ""
    lost: bool = False
    faults: list[str] = field(default_factory=list)


def _records(session: Path) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("file", "class")} | {"results": r["infer"]["results"]}
            for r in json.loads((session / "results.json").read_text())]


def _journaled(session: Path) -> list[dict[str, Any]]:
    entries = Journal(session / "journal.jsonl").read()
    return [{k: e["record"][k] for k in ("file", "class")} |
            {"results": e["record"]["infer"]["results"]}
            for e in entries if e.get("type") == "window"]


def run_accuracy(dataset: Path, out: Path, faults: list[Fault], reference_dir: Path,
                 verify_results: bool = True) -> tuple[Any, BaseException | None, bool]:
    """(result or None, exception or None, hung) of one accuracy run in a worker thread."""
    box: dict[str, Any] = {}
    dut = make_virtual_dut("kws01", throughput=200.0, reference_dir=reference_dir,
                           follow_wall=False)
    with SimServer(dut, pty=True, baud=None, faults=faults) as server:
        config = RunConfig(mode="accuracy", dataset_path=dataset, output_dir=out,
                           port=server.url, progress=False, verify_results=verify_results)

        def work() -> None:
            try:
                box["result"] = run_session(config, timeouts=TIMEOUTS)
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        worker.join(HANG_S)
        hung = worker.is_alive()
    return box.get("result"), box.get("error"), hung


def classify(kind: str, rate: float, seed: int, dataset: Path, out: Path,
             clean: list[dict[str, Any]], reference_dir: Path) -> Outcome:
    faults = plan(kind, rate, seed)
    result, error, hung = run_accuracy(dataset, out, faults, reference_dir)
    injected = {f.kind for f in faults}
    o = Outcome(kind, rate, seed, "", faults=[f"{f.kind}@{f.verb}#{f.occurrence}"
                                              for f in faults])
    if hung:
        o.outcome, o.detail = "HANG", f"no end within {HANG_S:g} s"
    elif error is not None and not isinstance(error, ConformanceError):
        o.outcome, o.detail = "CRASH", f"{type(error).__name__}: {error}"
    elif error is not None:
        explained = any(isinstance(error, EXPLAINS[k]) for k in injected)
        o.outcome = "clear error" if explained else "unclear error"
        o.detail = f"{type(error).__name__}: {error}"
    elif _records(result.session) == clean:
        o.outcome = "identical"
    elif not result.valid:
        o.outcome, o.detail = "clear error", "; ".join(result.reasons)
    else:
        o.outcome = "SILENT WRONG"
    sessions = [p for p in out.iterdir() if p.is_dir()] if out.exists() else []
    for session in sessions:
        if not (session / "journal.jsonl").exists():
            continue  # stopped before its plan was journaled: no window ran, nothing to lose
        try:
            journaled = _journaled(session)
        except ConformanceError as exc:
            o.lost, o.detail = True, f"journal unreadable: {exc}"
            continue
        if journaled != clean[:len(journaled)]:
            o.lost, o.detail = True, "journaled windows differ from the fault-free run"
    return o


def table(outcomes: list[Outcome]) -> str:
    counts = {k: Counter(o.outcome for o in outcomes if o.kind == k) for k in KINDS}
    width = max(len(k) for k in OUTCOMES) + 1
    lines = ["kind".ljust(12) + "".join(c.rjust(width) for c in OUTCOMES) + "lost".rjust(6)]
    for k in KINDS:
        if not any(o.kind == k for o in outcomes):
            continue
        lost = sum(o.lost for o in outcomes if o.kind == k)
        lines.append(k.ljust(12) + "".join(str(counts[k][c]).rjust(width) for c in OUTCOMES)
                     + str(lost).rjust(6))
    total = Counter(o.outcome for o in outcomes)
    lines.append("total".ljust(12) + "".join(str(total[c]).rjust(width) for c in OUTCOMES)
                 + str(sum(o.lost for o in outcomes)).rjust(6))
    return "\n".join(lines)
