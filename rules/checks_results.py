"""Check kinds over results: claims parsed, windows, runner errors, claims vs raw data.

Each reads the loaded mode folders and the recomputed figures in the context; none
touches the filesystem or computes a metric itself (``tinyperf.submissions.recompute`` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinyperf.rules.checks import kind
from tinyperf.rules.context import BenchFigures, Context, Hit
from tinyperf.rules.ruleset import Rule
from tinyperf.submissions.recompute import Figure

_OFFICIAL = {"median": "median", "energy": "energy", "top1": "top1", "auc": "auc",
             "sww_power": "sww_power"}
_SHOWN = {"energy": "median energy", "sww_power": "'Power : ... mW'"}


def _metric(ctx: Context, bench_name: str) -> str:
    return (ctx.bench_setting(bench_name) or {}).get("metric", "top1")


def _figure(ctx: Context, bench: Any, name: str) -> Figure | None:
    figs = ctx.figures.get(bench.rel, BenchFigures())
    if name == "target_metric":
        return figs.target_metric(_metric(ctx, bench.name))
    if name == "other_metric":  # the printed figure without a target (e.g. kws AUC)
        metric = _metric(ctx, bench.name)
        return figs.top1 if metric == "auc" else figs.auc if metric == "top1" else None
    return getattr(figs, name)


@kind("file_present")
def file_present(ctx: Context, rule: Rule) -> Iterable[Hit]:
    mode, name = rule.params["mode"], rule.params["file"]
    for _s, _y, bench, key in ctx.benchmarks(rule):
        run = bench.modes.get(mode)
        if (run is None or name not in run.files) and (
                mode in (ctx.bench_setting(bench.name) or {}).get("required", [])):
            yield Hit(f"{bench.rel}/{mode}/{name}", {"mode": mode, "file": name},
                      key=(*key, mode))


@kind("claim_parsed")
def claim_parsed(ctx: Context, rule: Rule) -> Iterable[Hit]:
    mode = rule.params["mode"]
    for bench, run, key in ctx.modes(rule, mode):
        if "results.txt" not in run.files or run.claims is None:
            if mode != "accuracy":  # a missing accuracy file is TINY-ACC-001
                yield Hit(f"{run.rel}/results.txt", {"figure": rule.params["figure"]}, key=key,
                          evidence="results.txt absent")
            continue
        figure = rule.params["figure"]
        if figure == "target_metric":
            figure = _metric(ctx, bench.name)
        if ctx.canonical(bench.name) == "sww":  # sww: its own line (e.g. "Power : x mW")
            figure = rule.params.get("sww_figure", figure)
        if figure not in _OFFICIAL:
            continue
        text = run.claims.official.get(_OFFICIAL[figure])
        try:
            float(text) if text is not None else None
        except ValueError:
            text = None
        if text is None:
            yield Hit(f"{run.rel}/results.txt", {"figure": _SHOWN.get(figure, figure)}, key=key,
                      evidence=f"official pattern for {figure} matched nothing parsable")


@kind("claim_at_least")
def claim_at_least(ctx: Context, rule: Rule) -> Iterable[Hit]:
    figure, minimum = rule.params["figure"], rule.params["minimum"]
    for _bench, run, key in ctx.modes(rule, "accuracy"):
        value = getattr(run.claims, figure, None) if run.claims else None
        if value is not None and value < minimum:
            yield Hit(f"{run.rel}/results.txt", {"value": value, "minimum": minimum,
                                                 "figure": figure}, key=key)


@kind("claim_positive")
def claim_positive(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for _bench, run, key in ctx.modes(rule, rule.params["mode"]):
        value = run.claims.median_throughput if run.claims else None
        if value is not None and value <= 0:
            yield Hit(f"{run.rel}/results.txt", {"value": value}, key=key)


@kind("figure_recomputed")
def figure_recomputed(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        fig = _figure(ctx, bench, rule.params["figure"])
        if fig is not None:
            yield from figure_hits(fig, run.rel, key, rule)


def figure_hits(fig: Figure, rel: str, key: Any, rule: Rule) -> Iterable[Hit]:
    """Claim vs recomputation of one figure: problems, disagreement, not verifiable."""
    if fig.claimed is None and fig.recomputed is None:
        return
    ev = f"source: {fig.source or 'none'}; tolerance ±{fig.tolerance:.6g}"
    if fig.unverifiable:
        if fig.claimed is not None and rule.params.get("report_unverifiable", True):
            yield Hit(rel, {"detail": f"claim not verifiable: {fig.name} "
                                      f"{fig.claimed} ({fig.unverifiable})"},
                      key=key, severity=rule.params.get("unverifiable_severity", "warning"))
        return
    for problem in fig.problems:
        yield Hit(rel, {"detail": f"{fig.name}: {problem}"}, key=key, evidence=ev)
    if fig.agrees is False:
        yield Hit(rel, {"detail": f"claimed {fig.name} {fig.claimed} but raw data "
                                  f"gives {fig.recomputed:.6g}"}, key=key, evidence=ev)
    elif fig.claimed is None and fig.recomputed is not None:
        yield Hit(rel, {"detail": f"no {fig.name} claimed; raw data gives "
                                  f"{fig.recomputed:.6g}"}, key=key, evidence=ev)


@kind("label_set_equal")
def label_set_equal(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for bench, run, key in ctx.modes(rule, "accuracy"):
        figs = ctx.figures.get(bench.rel, BenchFigures())
        scored = figs.scored
        if scored is None:
            continue
        if scored.label_file is None:
            yield Hit(run.rel, {"detail": "scored file set not verifiable: no reference "
                                          f"labels ({scored.labels_hint})"}, key=key,
                      severity=rule.params.get("unverifiable_severity"))
            continue
        parts = []
        unlisted = set(scored.unlisted)
        other = [n for n in scored.extra if n not in unlisted]  # in another (e.g. old) list
        for what, items in (("missing", scored.missing),
                            (f"not in {scored.label_file} but in another reference list",
                             other),
                            ("in no reference list", scored.unlisted),
                            ("duplicated", scored.duplicates),
                            ("labelled differently", scored.label_mismatch)):
            if items:
                parts.append(f"{len(items)} {what} (e.g. {items[0]})")
        if parts:
            yield Hit(run.rel, {"detail": f"scored set vs {scored.label_file}: "
                                          + "; ".join(parts)}, key=key,
                      evidence=f"{scored.files} files scored")


@kind("no_runner_errors")
def no_runner_errors(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        errors = list(run.claims.runner_errors if run.claims else [])
        errors += [f"results.json: {e}" for e in ctx.figures.get(
            bench.rel, BenchFigures()).json_errors]
        if errors:
            yield Hit(f"{run.rel}/results.txt", {"detail": "; ".join(sorted(set(errors)))},
                      key=key)


def _windows(ctx: Context, bench: Any, mode: str) -> tuple[list[dict[str, Any]], str]:
    fig = _figure(ctx, bench, "throughput" if mode == "performance" else "energy")
    if fig is not None and fig.windows:
        return fig.windows, fig.source
    run = bench.modes[mode]
    claimed = (run.claims.perf_windows if mode == "performance" else
               run.claims.energy_windows) if run.claims else []
    return [{"seconds": w.get("runtime_s", w.get("duration_s")),
             "iterations": w.get("iterations")} for w in claimed], "results.txt (claimed)"


@kind("windows_listed")
def windows_listed(ctx: Context, rule: Rule) -> Iterable[Hit]:
    """A results.txt that states a median but none of the windows it is the median of."""
    mode = rule.params["mode"]
    for bench, run, key in ctx.modes(rule, mode):
        c = run.claims
        if c is None or ctx.canonical(bench.name) == "sww":
            continue
        median, windows = (c.median_throughput, c.perf_windows) if mode == "performance" \
            else (c.median_energy, c.energy_windows)
        if median is not None and not windows:
            _w, where = _windows(ctx, bench, mode)
            yield Hit(f"{run.rel}/results.txt", {"mode": mode, "where": where if _w else
                                                 "nowhere: no raw data"}, key=key)


@kind("window_count")
def window_count(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        windows, where = _windows(ctx, bench, run.name)
        # sww: one stream, so one energy window (and no performance windows at all)
        expected = ctx.settings["sww_windows" if ctx.canonical(bench.name) == "sww"
                                else "windows"]
        if windows and len(windows) != expected:
            yield Hit(run.rel, {"count": len(windows), "expected": expected, "where": where},
                      key=key)


@kind("window_min_seconds")
def window_min_seconds(ctx: Context, rule: Rule) -> Iterable[Hit]:
    minimum = ctx.settings["min_window_s"]
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        windows, where = _windows(ctx, bench, run.name)
        for n, w in enumerate(windows, start=1):
            sec = w.get("seconds")
            if sec is not None and sec < minimum:
                yield Hit(run.rel, {"window": w.get("window", n), "seconds": f"{sec:.3f}",
                                    "minimum": minimum}, key=key, evidence=where)


@kind("window_min_iterations")
def window_min_iterations(ctx: Context, rule: Rule) -> Iterable[Hit]:
    minimum = ctx.settings["min_iterations"]
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        windows, where = _windows(ctx, bench, run.name)
        for n, w in enumerate(windows, start=1):
            it = w.get("iterations")
            if it is not None and it < minimum:
                yield Hit(run.rel, {"window": w.get("window", n), "iterations": it,
                                    "minimum": minimum}, key=key, evidence=where)


@kind("clock_drift")
def clock_drift(ctx: Context, rule: Rule) -> Iterable[Hit]:
    limit = ctx.settings["clock_drift"]
    for bench, run, key in ctx.modes(rule, rule.params["mode"]):
        fig = _figure(ctx, bench, "throughput")
        pairs = [(w["seconds"], w["host_s"]) for w in (fig.windows if fig else [])
                 if w.get("host_s") and w.get("seconds")]
        if not pairs:
            continue
        ratio = sum(p[0] for p in pairs) / sum(p[1] for p in pairs)
        if abs(ratio - 1.0) > limit:
            yield Hit(run.rel, {"ratio": f"{ratio:.4f}", "windows": len(pairs),
                                "limit": f"{limit:.0%}"}, key=key,
                      evidence="DUT m-lap-us difference vs log timestamps of the same lines")


@kind("energy_events_bracket")
def energy_events_bracket(ctx: Context, rule: Rule) -> Iterable[Hit]:
    tol = ctx.settings["bracket_tolerance"]
    for bench, run, key in ctx.modes(rule, "energy"):
        fig = _figure(ctx, bench, "energy")
        for n, w in enumerate(fig.windows if fig else [], start=1):
            label = w.get("window", n)
            for problem in w.get("problems", []):
                yield Hit(run.rel, {"window": label, "detail": problem}, key=key)
            exp, sec = w.get("expected_s"), w.get("seconds")
            if exp and sec and abs(sec / exp - 1.0) > tol:
                yield Hit(run.rel, {"window": label, "detail": (
                    f"events span {sec:.3f} s but {w['iterations']} inferences at the "
                    f"performance throughput take {exp:.3f} s: the last two events do not "
                    "bracket the timed inferences")}, key=key,
                    evidence=f"{w.get('events', '?')} events in the window")


@kind("results_match_log")
def results_match_log(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for mode in ("performance", "energy", "accuracy"):
        for _bench, run, key in ctx.modes(rule, mode):
            if run.claims is None or (run.log_text is None and run.eembc_log is None):
                continue
            detail = _log_mismatch(run)
            if detail:
                yield Hit(run.rel, {"detail": detail}, key=key)


def _log_mismatch(run: Any) -> str | None:
    if run.eembc_log is not None:
        timed = [i for i in run.eembc_log.infers if i.iterations > 1]
        claimed = run.claims.perf_windows or run.claims.energy_windows
        if run.name != "accuracy" and claimed and len(claimed) != len(timed):
            return (f"results.txt shows {len(claimed)} windows but log.txt holds "
                    f"{len(timed)} timed infer commands (a different run?)")
        return None
    for line in expected_lines(run.claims):
        if "\n" in line or line not in run.log_text:  # one line: a substring of the log
            return f"results.txt line not in log.txt (a different run?): {line!r}"
    return None


def expected_lines(c: Any) -> list[str]:
    """results.txt figures as the MLC runner also writes them into log.txt's summary."""
    lines = []
    if c.median_throughput is not None:
        lines.append(f"Median throughput is {c.median_throughput:>10.3f} inf./sec.")
    if c.median_energy is not None:
        lines.append(f"Median energy cost is {c.median_energy:5.4f} uJ/inf.")
    lines += [f"Runtime: {w['runtime_text']} sec." for w in c.perf_windows if "runtime_text" in w]
    return lines


@kind("same_firmware")
def same_firmware(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for _s, _y, bench, key in ctx.benchmarks(rule):
        seen = {m: (r.identity.get("profile"), r.identity.get("model"))
                for m, r in bench.modes.items() if r.identity.get("profile")}
        if len(set(seen.values())) > 1:
            yield Hit(bench.rel, {"detail": f"firmware identity differs between modes: {seen}"},
                      key=key)


@kind("duplicated_lines")
def duplicated_lines(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for mode in ("performance", "energy", "accuracy"):
        for _bench, run, key in ctx.modes(rule, mode):
            dups = run.claims.duplicated_lines if run.claims else []
            if dups:
                yield Hit(f"{run.rel}/results.txt", {"count": len(dups), "example": dups[0]},
                          key=key)


@kind("raw_readable")
def raw_readable(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for mode in ("performance", "energy", "accuracy"):
        for _bench, run, key in ctx.modes(rule, mode):
            for name, problem in sorted(run.unreadable.items()):
                yield Hit(f"{run.rel}/{name}", {"file": name, "detail": problem}, key=key)
            for name, why in sorted(run.skipped.items()):
                yield Hit(f"{run.rel}/{name}", {"file": name, "detail": f"not parsed: {why}"},
                          key=key, severity="warning")
            doc = run.results_json
            if doc is not None and doc.duplicates:
                yield Hit(f"{run.rel}/results.json", {"file": "results.json", "detail":
                          f"duplicate keys {sorted(set(doc.duplicates))[:5]}"}, key=key,
                          severity=rule.params.get("duplicate_severity"))


@kind("superseded_list")
def superseded_list(ctx: Context, rule: Rule) -> Iterable[Hit]:
    """An accuracy run scored on a label list the benchmark no longer uses (ic01's
    pre-2022 list): its claim is recomputed against that list, and this says which."""
    for bench, run, key in ctx.modes(rule, "accuracy"):
        scored = ctx.figures.get(bench.rel, BenchFigures()).scored
        if scored is None or not scored.superseded:
            continue
        current = (ctx.bench_setting(bench.name) or {}).get("label_files", [])
        yield Hit(run.rel, {"list": scored.label_file, "current": ", ".join(current),
                            "files": scored.files}, key=key, evidence=scored.list_evidence)
