"""Recompute every claimed figure from raw data (pure: loaded records in, figures out).

Owns the arithmetic of verification: throughput per window and its median (MLC
results.json, MLC log.txt, EEMBC ``m-lap-us`` pairs), accuracy from per-input outputs
scored against reference labels, energy per inference from MLC ``power`` samples or
EEMBC ``trace1-*`` files. Metric formulas come from ``tinyperf.formats.metrics``. Tolerances are
the printing precision of the claim (half a unit in its last printed decimal) unless a
figure states a wider, reasoned one.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tinyperf.formats import eembc_log, metrics
from tinyperf.submissions.model import ModeRun

EPS = 1e-9


@dataclass
class Figure:
    """One figure: what the results.txt claims, what raw data gives, and how sure we are."""

    name: str
    claimed: float | None = None
    recomputed: float | None = None
    tolerance: float = 0.0
    source: str = ""
    windows: list[dict[str, Any]] = field(default_factory=list)
    unverifiable: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool | None:
        if self.claimed is None or self.recomputed is None:
            return None
        return bool(abs(self.claimed - self.recomputed) <= self.tolerance
                    + EPS * abs(self.claimed))  # bool: numpy scalars break ``is False``


def printed_tolerance(decimals: int) -> float:
    return 0.5 * 10.0 ** -decimals


# -- performance ------------------------------------------------------------------------------


def performance(run: ModeRun) -> Figure:
    """Median throughput from results.json, else EEMBC laps, else the MLC log blocks."""
    fig = Figure("throughput", claimed=run.claims.median_throughput if run.claims else None,
                 tolerance=printed_tolerance(3))
    records = _records(run, "p")
    if records:
        fig.source = "results.json"
        for r in records:
            inf = r.get("infer") or {}
            it, us = inf.get("iterations"), inf.get("elapsed_time")
            fig.windows.append(_window(it, us, None))
    elif run.eembc_log is not None and run.eembc_log.infers:
        fig.source = "log.txt (DUT m-lap-us)"
        for inf in run.eembc_log.infers:
            fig.windows.append(_lap_window(inf.iterations, inf.laps))
    elif run.mlc_log_windows:
        fig.source = "log.txt (runtime printed to 1 ms)"
        fig.tolerance += 0.002  # 1 ms of ~10 s windows: well under 0.01 %, kept explicit
        for w in run.mlc_log_windows:
            sec = w.get("runtime_s")
            fig.windows.append(_window(w.get("iterations"), None if sec is None else sec * 1e6,
                                       None))
    else:
        fig.unverifiable = "no results.json and no log.txt with timed windows"
        return fig
    tps = [w["throughput"] for w in fig.windows]
    fig.recomputed = metrics.median_throughput(tps) if tps else None
    return fig


def _number(value: Any) -> float | None:
    """A finite JSON number, else None (``1e309`` reads as inf, ``NaN`` as nan: no time)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _window(iterations: Any, elapsed_us: Any, host_s: float | None) -> dict[str, Any]:
    n = _number(iterations)
    it = int(n) if n is not None else 0
    us = _number(elapsed_us)
    return {"iterations": it, "seconds": None if us is None else us / 1e6,
            "throughput": metrics.throughput(it, int(us) if us else None), "host_s": host_s}


def _lap_window(iterations: int, laps: list[tuple[float, int]]) -> dict[str, Any]:
    if len(laps) < 2:
        return _window(iterations, None, None)
    (h0, d0), (h1, d1) = laps[0], laps[-1]
    return _window(iterations, eembc_log.lap_us(d0, d1), h1 - h0)


def _records(run: ModeRun, mode: str) -> list[dict[str, Any]]:
    doc = run.results_json
    if doc is None or not isinstance(doc.value, list):
        return []
    return [r for r in doc.value if isinstance(r, dict) and r.get("mode") == mode
            and "error" not in r and isinstance(r.get("infer"), dict)]


def json_errors(run: ModeRun) -> list[str]:
    """Runner error records appended to a performance results.json."""
    doc = run.results_json
    if doc is None or not isinstance(doc.value, list):
        return []
    return [str(r["error"]) for r in doc.value if isinstance(r, dict) and "error" in r]


# -- accuracy ---------------------------------------------------------------------------------


@dataclass
class Scored:
    """The scored input set vs the reference label files (current and superseded lists)."""

    label_file: str | None = None
    files: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    label_mismatch: list[str] = field(default_factory=list)
    labels_hint: str = "set --reference-dir"  # why no label file may have been found
    unlisted: list[str] = field(default_factory=list)  # scored files in no reference list
    superseded: bool = False  # the closest list is one MLCommons replaced (ic01, ic_vww.md 5)
    list_evidence: str = ""  # how the list was recognised (header, first file, set)


@dataclass
class InputRecords:
    """The per-input results of an accuracy run, one entry per scored window, by column
    (a round holds ~10^5 of them: columns are counted and matched at C speed)."""

    files: list[str] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)  # window of its file (0: whole file)
    classes: list[str] | None = None  # the label written beside each result (results.json)
    results: list[Sequence[float]] = field(default_factory=list)
    source: str = ""


def accuracy_records(run: ModeRun) -> InputRecords:
    """Every scored window of ``run`` (results.json, else the log's ``m-results``)."""
    recs = _records(run, "a")
    if recs:
        files = [str(r.get("file")) for r in recs]
        seen: Counter[str] = Counter()
        segments = []
        for name in files:
            segments.append(seen[name])
            seen[name] += 1
        return InputRecords(files, segments, [str(r.get("class")) for r in recs],
                            [list(r["infer"].get("results") or []) for r in recs],
                            "results.json")
    if run.eembc_log is not None:
        infers = [i for i in run.eembc_log.infers if i.results]
        if infers:
            return InputRecords([i.file or "?" for i in infers],
                                [i.offset or 0 for i in infers], None,
                                [i.results[-1] for i in infers], "log.txt (m-results)")
    if run.mlc_log_results:
        rows = run.mlc_log_results
        return InputRecords([r[0] for r in rows], [r[1] for r in rows], None,
                            [list(r[2]) for r in rows], "log.txt (m-results)")
    return InputRecords()


def header_input(run: ModeRun) -> str | None:
    """The EEMBC header's ``singleInputFn`` (the first input of the run, ic_vww.md 5.2 a)."""
    if run.eembc_log is None:
        return None
    return run.eembc_log.config.get("singleInputFn") or None


def score_set(records: InputRecords, references: dict[str, dict[str, int]], windowed: bool,
              superseded: tuple[str, ...] = (), header: str | None = None) -> Scored:
    """Compare the scored set with the closest reference label file.

    ``references`` holds the allowed lists first, then the ``superseded`` ones (ic01's
    pre-2022 list): on a tie the allowed list wins. The list a run used is recognised as
    ic_vww.md 5.2 says: the EEMBC header's first input, the first file loaded, the set.
    """
    names = records.files
    scored = set(names)
    keys = Counter(zip(names, records.segments)) if windowed else Counter(names)
    best = Scored(files=len(scored))
    if len(keys) < len(names):
        best.duplicates = sorted(str(k) for k, n in keys.items() if n > 1)
    chosen = None
    for label_file, labels in references.items():
        listed = set(labels)
        missing = sorted(listed - scored)
        extra = sorted(scored - listed)
        if chosen is None or len(missing) + len(extra) < len(best.missing) + len(best.extra):
            chosen = label_file
            best.missing, best.extra = missing, extra
    best.label_file = chosen
    if chosen is None:
        return best
    known = set().union(*references.values())
    best.unlisted = sorted(scored - known)
    best.superseded = chosen in superseded
    best.list_evidence = _list_evidence(names, references, chosen, header)
    labels = references[chosen]
    if records.classes is not None:
        best.label_mismatch = sorted({name for name, cls in zip(names, records.classes)
                                      if cls is not None and name in labels
                                      and int(cls) != labels[name]})
    return best


def _list_evidence(names: list[str], references: dict[str, dict[str, int]], chosen: str,
                   header: str | None) -> str:
    """Which list the header input and the first file loaded are row 0 of (or 'none')."""
    firsts = {next(iter(labels), None): f for f, labels in references.items() if labels}
    parts = []
    for what, name in (("EEMBC header singleInputFn", header),
                       ("first file loaded", names[0] if names else None)):
        if name:
            parts.append(f"{what} {name} (row 0 of {firsts.get(name, 'no reference list')})")
    parts.append(f"scored set closest to {chosen}")
    return "; ".join(parts)


def _label_map(references: dict[str, dict[str, int]], chosen: str | None) -> dict[str, int]:
    """Labels of the chosen list, then of the others (the lists agree where they overlap:
    a CIFAR-10 name has one class in every ic01 list, ic_vww.md 5.2)."""
    merged: dict[str, int] = {}
    for name in [n for n in references if n != chosen] + ([chosen] if chosen else []):
        merged.update(references.get(name, {}))
    return merged


def accuracy(run: ModeRun, _metric: str, references: dict[str, dict[str, int]],
             windowed: bool, labels_hint: str = "set --reference-dir",
             superseded: tuple[str, ...] = ()) -> tuple[Figure, Figure, Scored | None]:
    """(top-1 %, AUC, scored set); both are recomputed whatever the target metric, with the
    formula of the runner that printed the claim (ic_vww.md 4.1 MLCommons, 4.2 EEMBC);
    ``labels_hint`` says why there may be no reference labels (shown when there are none);
    ``superseded`` names label files that are recognised but no longer the benchmark's."""
    c = run.claims
    eembc = run.runner == "eembc"
    top = Figure("top1", claimed=c.top1 if c else None, tolerance=printed_tolerance(1))
    auc = Figure("auc", claimed=c.auc if c else None,
                 tolerance=printed_tolerance(2 if eembc else 3))
    records = accuracy_records(run)
    if not records.files:
        for f in (top, auc):
            f.unverifiable = "no per-input results (log.txt / results.json absent)"
        return top, auc, None
    scored = score_set(records, references, windowed, superseded, header_input(run))
    scored.labels_hint = labels_hint
    labels = _label_map(references, scored.label_file)
    # a file's label: the reference list's, else the one written beside its result
    found = list(map(labels.get, records.files))
    if records.classes is not None and None in found:
        found = [int(cls) if label is None and cls is not None else label
                 for label, cls in zip(found, records.classes)]
    unlabelled = ({name for name, label in zip(records.files, found) if label is None}
                  if None in found else set())
    files, results = records.files, records.results
    if unlabelled or not all(results):  # an unlabelled or empty result scores nothing
        keep = [k for k, (label, values) in enumerate(zip(found, results))
                if label is not None and values]
        files, found, results = ([files[k] for k in keep], [found[k] for k in keep],
                                 [results[k] for k in keep])
    if not files or (unlabelled and references):
        why = (f"{len(unlabelled)} of {scored.files} scored files are in no reference "
               f"label list ({', '.join(references)})" if files else
               f"no reference labels for the scored files ({labels_hint})")
        for f in (top, auc):
            f.unverifiable = why
        return top, auc, scored
    try:
        fs = metrics.scores_by_file(files, found, results, normalised=not eembc)
        if eembc:
            top.recomputed, auc.recomputed = metrics.eembc_accuracy(fs.y_true, fs.y_pred)
        else:
            top.recomputed = metrics.accuracy_top1(fs.y_true, fs.y_pred)
            auc.recomputed = metrics.accuracy_auc(fs.y_true, fs.y_pred)
    except ValueError as exc:
        for f in (top, auc):
            f.problems.append(f"cannot score: {exc}")
    formula = "EEMBC runner formulas" if eembc else "MLCommons runner formulas"
    for f in (top, auc):
        f.source = records.source + (f" vs {scored.label_file}" if scored.label_file else
                                     " vs the labels written in results.json") + f" ({formula})"
    return top, auc, scored


# -- energy -----------------------------------------------------------------------------------

MLC_RATE_HZ = 1000.0
#: A trace has 5 windows; far more timestamps are damage, not data worth a finding each.
MAX_ENERGY_WINDOWS = 100


def energy(run: ModeRun, infers_per_s: float | None) -> Figure:
    """Median uJ/inference from results.json ``power`` or EEMBC ``trace1-*`` files.

    ``infers_per_s`` (the performance result) lets each window's bracketing events be
    checked against the expected inference time (the runner only takes the last two).
    """
    fig = Figure("energy", claimed=run.claims.median_energy if run.claims else None)
    recs = _records(run, "e")
    if recs:
        fig.source, fig.tolerance = "results.json power samples", printed_tolerance(4)
        fig.windows = [_mlc_energy_window(r) for r in recs]
    elif run.energy_trace is not None and run.timestamps is not None:
        fig.source, fig.tolerance = "trace1-energy.bin + trace1-timestamps.json", 0.0
        _eembc_energy(run, fig)
    else:
        fig.unverifiable = "no results.json power data and no trace1-* files"
        return fig
    for w in fig.windows:
        if infers_per_s and w.get("seconds") and w.get("iterations"):
            w["expected_s"] = w["iterations"] / infers_per_s
    per_inf = [w["uj_per_inf"] for w in fig.windows if w.get("uj_per_inf") is not None]
    if per_inf:
        fig.recomputed = metrics.median(per_inf)
    elif fig.windows:  # raw data present but unusable: the claim is not supported
        fig.problems.append(f"no window's energy can be computed from the {fig.source}")
    if per_inf and all("uj_per_inf_lo" in w for w in fig.windows if w.get("uj_per_inf")):
        lo = metrics.median([w["uj_per_inf_lo"] for w in fig.windows])
        hi = metrics.median([w["uj_per_inf_hi"] for w in fig.windows])
        fig.tolerance = max(abs(hi - fig.recomputed), abs(fig.recomputed - lo)) + \
            printed_tolerance(3 if fig.source.startswith("trace1") else 4)
    return fig


def _mlc_energy_window(rec: dict[str, Any]) -> dict[str, Any]:
    power = rec.get("power") or {}
    samples = power.get("samples")  # a float64 array (safeio.load_json), else as in the JSON
    if not isinstance(samples, np.ndarray):
        samples = samples or []
    events = power.get("timestamps") or []
    it = (rec.get("infer") or {}).get("iterations") or 0
    w: dict[str, Any] = {"iterations": it, "events": len(events), "problems": []}
    try:
        ids = [int(e[0]) for e in events]
        idx = [int(e[1]) for e in events]
    except (TypeError, ValueError, IndexError):
        w["problems"].append("malformed timestamp events")
        return w
    if len(idx) < 2:
        w["problems"].append(f"{len(idx)} timestamp event(s), 2 needed")
        return w
    if any(b - a != 1 for a, b in itertools.pairwise(ids)):
        w["problems"].append(f"event ids not consecutive: {ids}")
    i0, i1 = idx[-2], idx[-1]
    if not 0 <= i0 < i1 <= len(samples):
        w["problems"].append(f"events {i0}..{i1} outside the {len(samples)} samples")
        return w
    try:
        arr = np.asarray(samples, dtype=float)
    except (TypeError, ValueError):
        w["problems"].append("power samples are not all numbers")
        return w
    if arr.ndim != 1 or not np.isfinite(arr[i0:i1]).all():
        w["problems"].append("power samples in the window are not finite numbers")
        return w
    joules = float(np.sum(arr[i0:i1]))
    w.update(seconds=(i1 - i0) / MLC_RATE_HZ, energy_uj=joules * 1e6,
             uj_per_inf=joules * 1e6 / it if it else None, ignored_events=len(idx) - 2)
    if it:
        # An edge is only known to the sample it fell in: a window may legitimately
        # start or end one sample either way (tinyperf interpolates inside the sample).
        grow = (arr[i0 - 1] if i0 > 0 else 0.0) + (arr[i1] if i1 < arr.size else 0.0)
        shrink = arr[i0] + arr[i1 - 1] if i1 - i0 >= 2 else 0.0
        w["uj_per_inf_hi"] = (joules + grow) * 1e6 / it
        w["uj_per_inf_lo"] = (joules - shrink) * 1e6 / it
    return w


def _eembc_energy(run: ModeRun, fig: Figure) -> None:
    rate, samples = run.energy_trace  # type: ignore[misc]
    ts = run.timestamps or []
    infers = run.eembc_log.infers if run.eembc_log else []
    if len(ts) % 2 != 1:
        fig.problems.append(f"{len(ts)} timestamps: expected 1 + 2 per window")
    if len(ts) > 1 + 2 * MAX_ENERGY_WINDOWS:
        fig.problems.append(f"{len(ts)} timestamps: {(len(ts) - 1) // 2} windows, only the "
                            f"first {MAX_ENERGY_WINDOWS} are read")
        ts = ts[:1 + 2 * MAX_ENERGY_WINDOWS]
    for n, (start, end) in enumerate(eembc_log.window_times(ts)):
        it = infers[n].iterations if n < len(infers) else 0
        i0, i1 = eembc_log.sample_span(rate, start, end)
        sums = [eembc_log.span_energy(samples, a, b)
                for a in (i0 - 1, i0, i0 + 1) for b in (i1 - 1, i1, i1 + 1)]
        e = eembc_log.span_energy(samples, i0, i1)
        fig.windows.append({"window": 2 * n + 2, "iterations": it, "seconds": end - start,
                            "energy_uj": e, "uj_per_inf": e / it if it else None,
                            "uj_per_inf_lo": min(sums) / it if it else 0.0,
                            "uj_per_inf_hi": max(sums) / it if it else 0.0,
                            "throughput": it / (end - start) if end > start else 0.0,
                            "problems": [] if i1 <= len(samples) else
                            [f"window ends after the {len(samples)} samples"]})


def energy_mode_throughput(run: ModeRun, fig: Figure) -> Figure:
    """The EEMBC energy results.txt performance block, recomputed from the GPIO timestamps."""
    out = Figure("throughput", claimed=run.claims.median_throughput if run.claims else None,
                 tolerance=printed_tolerance(3), source="trace1-timestamps.json")
    tps = [w["throughput"] for w in fig.windows if "throughput" in w]
    if out.claimed is None or not tps:
        out.unverifiable = "no energy-mode throughput claimed or no timestamps"
        return out
    out.windows = [{"iterations": w["iterations"], "seconds": w["seconds"],
                    "throughput": w["throughput"]} for w in fig.windows]
    out.recomputed = metrics.median_throughput(tps)
    return out
