"""Check kinds of the streaming wakeword benchmark (sww01) and of closed-division models.

sww findings carry the benchmark key (not a mode): the official checker makes one result of
an sww folder, so any error drops all of it. Figures come from ``submissions.sww`` and model
verdicts from ``submissions.equivalence``, both computed by the engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from tinyperf.rules.checks import kind
from tinyperf.rules.checks_results import figure_hits
from tinyperf.rules.context import BenchFigures, Context, Hit
from tinyperf.rules.ruleset import Rule
from tinyperf.submissions.model import Benchmark, ModeRun
from tinyperf.submissions.sww import SwwFigures, detections_vs_log, read_folder

# figure -> (official key, line as printed by the runner, protocol.md 7.5)
_LINES = {
    "accuracy": ("sww_tp", "Accuracy: TP True positives, FN False negatives, "
                           "FP False positives"),
    "duty_cycle": ("sww_duty", "Average duty cycle: ..."),
    "throughput": ("sww_throughput", "Estimated throughput: ... inf./sec."),
}


def _sww(ctx: Context, rule: Rule) -> Iterable[tuple[ModeRun | None, SwwFigures | None,
                                                      Benchmark, tuple[str | None, ...]]]:
    """(folder read, its figures, benchmark, benchmark key) of every in-scope sww."""
    for _s, _y, bench, key in ctx.benchmarks(rule):
        if ctx.canonical(bench.name) == "sww":
            yield (read_folder(bench), ctx.figures.get(bench.rel, BenchFigures()).sww,
                   bench, key)


@kind("sww_lines")
def sww_lines(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for run, _figs, bench, key in _sww(ctx, rule):
        if run is None:
            yield Hit(bench.rel, {"detail": "neither energy/ nor performance/ (the official "
                                            "checker crashes with FileNotFoundError)"}, key=key)
            continue
        if run.claims is None:
            yield Hit(f"{run.rel}/results.txt", {"detail": "results.txt missing"}, key=key)
            continue
        c, official = run.claims.sww, run.claims.official
        for name, (okey, line) in _LINES.items():
            own = c.text.get(name)
            seen = official.get(okey)
            where = f"{run.rel}/results.txt"
            if seen is None and own is None:
                yield Hit(where, {"detail": f"no '{line}' line"}, key=key)
            elif seen is None:
                yield Hit(where, {"detail": f"'{own}' is not a plain decimal: the official "
                                            f"pattern for '{line}' matches nothing"}, key=key)
            elif name != "accuracy" and own is not None and ("e" in own.lower()
                                                              or own != seen):
                yield Hit(where, {"detail": f"{name.replace('_', ' ')} written as '{own}' "
                                            f"(exponent notation): the official checker reads "
                                            f"'{seen}'"}, key=key)


@kind("sww_folder_choice")
def sww_folder_choice(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for run, _figs, bench, key in _sww(ctx, rule):
        if run is not None and run.name == "energy" and "performance" in bench.modes:
            yield Hit(bench.rel, {"detail": "figures are read from energy/; performance/ is "
                                            "ignored (as by the official checker)"}, key=key)


@kind("sww_limits")
def sww_limits(ctx: Context, rule: Rule) -> Iterable[Hit]:
    max_fp, max_fn = rule.params["max_fp"], rule.params["max_fn"]
    for run, _figs, _bench, key in _sww(ctx, rule):
        c = run.claims.sww if run is not None and run.claims else None
        if c is None or c.fp is None or c.fn is None:
            continue
        if c.fp > max_fp or c.fn > max_fn:
            yield Hit(f"{run.rel}/results.txt", {"fp": c.fp, "fn": c.fn, "max_fp": max_fp,
                                                 "max_fn": max_fn}, key=key)


@kind("sww_count")
def sww_count(ctx: Context, rule: Rule) -> Iterable[Hit]:
    expected = rule.params["occurrences"]
    for run, _figs, _bench, key in _sww(ctx, rule):
        c = run.claims.sww if run is not None and run.claims else None
        if c is not None and c.tp is not None and c.fn is not None and \
                c.tp + c.fn != expected:
            yield Hit(f"{run.rel}/results.txt", {"tp": c.tp, "fn": c.fn, "sum": c.tp + c.fn,
                                                 "expected": expected}, key=key)


@kind("sww_recomputed")
def sww_recomputed(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for run, figs, _bench, key in _sww(ctx, rule):
        if figs is None or run is None:
            continue
        selected = figs.figures(rule.params["figures"])
        # one "not verifiable" finding for all figures lacking the same raw data
        lacking = [f for f in selected if f.unverifiable and f.claimed is not None]
        if lacking:
            claims = ", ".join(f"{f.name} {f.claimed:g}" for f in lacking)
            yield Hit(run.rel, {"detail": f"claim not verifiable: {claims} "
                                          f"({lacking[0].unverifiable})"}, key=key,
                      severity=rule.params.get("unverifiable_severity", "warning"))
        for fig in selected:
            if not fig.unverifiable:
                yield from figure_hits(fig, run.rel, key, rule)


@kind("sww_duty_consistency")
def sww_duty_consistency(ctx: Context, rule: Rule) -> Iterable[Hit]:
    limit = rule.params["max_variation"]
    for run, figs, _bench, key in _sww(ctx, rule):
        duty = figs.duty if figs is not None else None
        if duty is None or run is None:
            continue
        if duty.truncated:
            yield Hit(f"{run.rel}/results.json", {"detail": duty.truncated}, key=key)
        if duty.variation > limit:
            yield Hit(f"{run.rel}/results.json", {"detail": (
                f"frame period variation {duty.variation:.2%} over {duty.frames} frames "
                f"exceeds {limit:.0%} (the runner warns: frames were dropped or the DUT "
                "fell behind)")}, key=key)


# -- models ---------------------------------------------------------------------------------


@kind("model_equivalent")
def model_equivalent(ctx: Context, rule: Rule) -> Iterable[Hit]:
    divisions = rule.scope.get("divisions")
    if divisions is not None and ctx.division not in divisions:
        return
    for v in ctx.models:
        mf = v.file
        if mf.division != ctx.division:
            continue
        model = f"{mf.model_id} ({'/'.join(mf.benchmarks)})" if mf.model_id else ""
        if v.status == "unassociated":
            yield Hit(mf.rel, {"detail": f"not associated with one benchmark ({v.detail}): "
                                         "not checked"}, severity="info")
        elif v.status == "unverifiable":
            yield Hit(mf.rel, {"detail": f"claim not verifiable: model {model}: {v.detail}"},
                      severity=rule.params.get("unverifiable_severity", "warning"))
        elif v.status in ("different", "unreadable"):
            detail = (f"not equivalent to the reference {model}: {v.detail}"
                      if v.status == "different" else
                      f"not a readable .tflite model for {model}: {v.detail}")
            keys = [(mf.division, mf.submitter, system, folder) for system, folder in mf.results]
            for key in keys or [()]:
                yield Hit(mf.rel, {"detail": detail}, evidence=v.evidence, key=key)


@kind("sww_log_detections")
def sww_log_detections(ctx: Context, rule: Rule) -> Iterable[Hit]:
    """results.json's detections are the ones the run logged (TINY-LOG-001 for sww)."""
    for run, _figs, _bench, key in _sww(ctx, rule):
        if run is None:
            continue
        why = detections_vs_log(run)
        if why is not None:
            yield Hit(f"{run.rel}/results.json", {"detail": why}, key=key)
