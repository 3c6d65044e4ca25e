"""Apply a rule set to a loaded tree: recompute figures, run every rule, build a ``Report``.

The report is data (findings + results table); ``tinyperf.rules.render`` prints it. Waivers are
rule ids: a waived finding stays in the report, marked, and no longer invalidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import DatasetError
from tinyperf.harness.run.datasets import label_map
from tinyperf.rules.checks import KINDS
from tinyperf.rules.context import BenchFigures, Context, Key
from tinyperf.rules.ruleset import Rule, RuleSet
from tinyperf.rules.schema import fill
from tinyperf.submissions import equivalence, forkmap, recompute, sww
from tinyperf.submissions.loader import read_benchmark, read_cost
from tinyperf.submissions.model import ModeRun, Tree, shown


@dataclass
class Finding:
    rule_id: str
    severity: str
    path: str
    message: str
    evidence: str = ""
    key: tuple[str | None, ...] = ()
    waived: bool = False


@dataclass
class ResultRow:
    division: str
    submitter: str
    system: str
    benchmark: str
    mode: str
    claimed: float | None
    recomputed: float | None
    unit: str
    target: str
    valid: bool
    reason: str
    extra: dict[str, str] = field(default_factory=dict)  # sww: FalsePositives, ... (CSV)


#: Rule ids whose findings mean part of the tree could not be checked at all (exit 3).
COULD_NOT_CHECK = ("TINY-CHECK-001",)


@dataclass
class Report:
    label: str
    version: str
    findings: list[Finding] = field(default_factory=list)
    rows: list[ResultRow] = field(default_factory=list)
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> systems JSON
    round: str = ""  # the round the tree names (v0.7), when it differs from ``version``
    rules_note: str = ""  # why another round's rule set was used
    error: str | None = None  # the round could not be checked at all (why)

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.valid for r in self.rows) and not any(
            f.severity == "error" and not f.waived for f in self.findings)

    @property
    def incomplete(self) -> bool:
        """Part (or all) of the tree could not be checked: not a verdict on it."""
        return self.error is not None or any(
            f.rule_id in COULD_NOT_CHECK and not f.waived for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "version": self.version, "round": self.round or
                self.version, "rules_note": self.rules_note, "ok": self.ok,
                "incomplete": self.incomplete, "error": self.error,
                "findings": [asdict(f) for f in self.findings],
                "results": [asdict(r) for r in self.rows]}


def reference_labels(ruleset: RuleSet, ref_dir: Path | None,
                     benchmarks: Iterable[str] | None = None
                     ) -> dict[str, dict[str, dict[str, int]]]:
    """model -> label file -> {file: class} for every allowed label file found, then
    every superseded one (recognised and scored, reported on its own: ic_vww.md 5);
    ``benchmarks``: only the models of these benchmark folder names (a tree's)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    if ref_dir is None:
        return out
    settings = ruleset.settings["benchmarks"]
    if benchmarks is not None:
        aliases = ruleset.settings.get("aliases") or {}
        wanted = {aliases.get(name, name) for name in benchmarks}
        settings = {name: s for name, s in settings.items() if name in wanted}
    for setting in settings.values():
        for name in [*setting.get("label_files", []),
                     *setting.get("superseded_label_files", [])]:
            if name in out.get(setting["model"], {}):
                continue  # another benchmark of the same model (kws01 closed and open)
            try:
                labels = label_map(Path(ref_dir) / setting["model"] / name)
            except DatasetError:
                continue
            out.setdefault(setting["model"], {})[name] = labels
    return out


def labels_hint(setting: dict[str, Any], ref_dir: Path | None) -> str:
    """Why a benchmark has no reference labels: no folder given, or which file is absent."""
    if ref_dir is None:
        return "set --reference-dir"
    files = ", ".join(f"{setting.get('model', '?')}/{n}" for n in setting.get("label_files", []))
    return (f"{setting.get('model', 'this benchmark')} has no label file in the reference "
            f"folder (looked for {files or 'none configured'})")


def recompute_tree(tree: Tree, ctx_settings: dict[str, Any],
                   labels: dict[str, dict[str, dict[str, int]]],
                   ref_dir: Path | None = None, jobs: int = 1) -> dict[str, BenchFigures]:
    """Figures of every benchmark folder, keyed by its ``rel``.

    A tree loaded with ``read=False`` is read here, one benchmark folder at a time, and
    each folder's per-input data is dropped once its figures exist (``ModeRun.drop_raw``):
    with ``jobs > 1`` the folders are read and recomputed in that many processes
    (``forkmap``), the largest first. A tree read by the caller is left as it was.
    """
    benches = [bench for _sub, _sys, bench in tree.benchmarks()]
    lazy = [any(run.unread for run in b.modes.values()) for b in benches]
    aliases = ctx_settings.get("aliases") or {}

    def one(i: int) -> tuple[dict[str, ModeRun], BenchFigures, list[tuple[str, str, str]]]:
        bench, problems = benches[i], []
        try:
            read_benchmark(tree.root or Path("."), bench)
            figs = _recompute_bench(bench, ctx_settings, aliases, labels, ref_dir)
        except Exception as exc:  # one damaged folder must not stop the tree
            figs = BenchFigures()
            problems.append(("check_failed", bench.rel, f"recomputing its figures "
                             f"failed ({type(exc).__name__}: {str(exc)[:200]})"))
        if lazy[i]:
            for run in bench.modes.values():
                run.drop_raw()
        return bench.modes, figs, problems

    if not any(lazy):
        jobs = 1  # nothing heavy left to do, and read data is costly to send between processes
    done = forkmap.fork_map(one, range(len(benches)), jobs,
                            [read_cost(b) for b in benches])
    figures: dict[str, BenchFigures] = {}
    for bench, (modes, figs, problems) in zip(benches, done):
        bench.modes = modes  # a worker's (read, data dropped): the same folders
        figures[bench.rel] = figs
        tree.problems += problems
    return figures


def _recompute_bench(bench: Any, ctx_settings: dict[str, Any], aliases: dict[str, str],
                     labels: dict[str, dict[str, dict[str, int]]],
                     ref_dir: Path | None) -> BenchFigures:
    """Recomputed figures of one benchmark folder."""
    setting = ctx_settings["benchmarks"].get(aliases.get(bench.name, bench.name)) or {}
    figs = BenchFigures()
    if setting.get("metric") == "fps_fns":  # sww: one stream, its own figures
        if (run := bench.modes.get("energy")) is not None:
            figs.energy = recompute.energy(run, None)
        figs.sww = sww.recompute(bench, figs.energy)
        return figs
    if (run := bench.modes.get("performance")) is not None:
        figs.throughput = recompute.performance(run)
        figs.json_errors = recompute.json_errors(run)
    if (run := bench.modes.get("accuracy")) is not None and setting.get("metric") in (
            "top1", "auc"):
        refs = labels.get(setting.get("model", ""), {})
        old = tuple(setting.get("superseded_label_files", []))
        # another benchmark of the same model may not accept that model's old list
        refs = {f: v for f, v in refs.items()
                if f in setting.get("label_files", []) or f in old}
        figs.top1, figs.auc, figs.scored = recompute.accuracy(
            run, setting["metric"], refs, bool(setting.get("windowed")),
            labels_hint(setting, ref_dir), superseded=old)
    if (run := bench.modes.get("energy")) is not None:
        tput = figs.throughput.recomputed if figs.throughput else None
        figs.energy = recompute.energy(run, tput)
        if run.runner == "eembc" and run.claims and run.claims.median_throughput:
            figs.energy_throughput = recompute.energy_mode_throughput(run, figs.energy)
    return figs


def check(tree: Tree, ruleset: RuleSet, ref_dir: Path | None = None,
          waive: Iterable[str] = (), jobs: int = 1) -> Report:
    """Run every enabled rule of ``ruleset`` on ``tree`` (``jobs``: see
    :func:`recompute_tree`)."""
    labels = reference_labels(ruleset, ref_dir, (b.name for _s, _y, b in tree.benchmarks()))
    figures = recompute_tree(tree, ruleset.settings, labels, ref_dir, jobs)
    report = Report(tree.label, ruleset.version)
    waived = set(waive)
    models = check_models(tree, ruleset, ref_dir)
    memo: dict[str, Any] = {}
    for division in [None, *ruleset.settings["divisions"]]:
        ctx = Context(tree, ruleset.version, ruleset.settings, figures, division, models, memo)
        rules = ruleset.for_division(division) if division else {r.id: r for r in ruleset.rules}
        for rule in rules.values():
            if rule.enabled:
                report.findings += _run(rule, ctx, waived)
    report.findings.sort(key=lambda f: (f.path, f.rule_id))
    report.rows = _rows(tree, ruleset, figures, report.findings)
    for sub in tree.submitters:
        for system in sub.systems.values():
            if system.json is not None and isinstance(system.json.value, dict):
                report.systems[f"{sub.division}/{sub.name}/{system.name}"] = system.json.value
    return report


def check_models(tree: Tree, ruleset: RuleSet, ref_dir: Path | None
                 ) -> list[equivalence.ModelVerdict]:
    """Model files of the divisions a model rule applies to, verified against the reference."""
    divisions = set()
    for rule in ruleset.rules:
        if rule.kind == "model_equivalent":
            for div in ruleset.settings["divisions"]:
                r = ruleset.for_division(div)[rule.id]
                if r.enabled and div in r.scope.get("divisions", [div]):
                    divisions.add(div)
    files = [f for f in equivalence.find_models(tree, ruleset.settings)
             if f.division in divisions]
    cfg = ruleset.settings.get("model_files") or {}
    return equivalence.verify_models(files, tree.root, ref_dir, cfg.get("max_bytes", 0),
                                     cfg.get("max_files", 0))


#: Findings of one rule on one path beyond this are counted, not listed (a 12 MB
#: timestamps file must not give a million findings and a 174 MB report).
MAX_HITS_PER_PATH = 20


def _run(rule: Rule, ctx: Context, waived: set[str]) -> list[Finding]:
    out = []
    per_path: dict[str, int] = {}
    try:
        for hit in KINDS[rule.kind](ctx, rule):
            n = per_path[hit.path] = per_path.get(hit.path, 0) + 1
            if n > MAX_HITS_PER_PATH:
                continue
            out.append(Finding(rule.id, hit.severity or rule.severity, shown(hit.path),
                               shown(fill(rule.message, hit.values)), shown(hit.evidence),
                               tuple(hit.key), rule.id in waived))
    except Exception as exc:  # a rule that fails leaves the other rules checked
        out.append(Finding("TINY-CHECK-001", "error", "", f"could not check: rule {rule.id} "
                           f"failed ({type(exc).__name__}: {str(exc)[:200]})"))
    for path, n in per_path.items():
        if n > MAX_HITS_PER_PATH:
            first = next(f for f in out if f.path == shown(path))
            out.append(Finding(rule.id, first.severity, shown(path),
                               f"... and {n - MAX_HITS_PER_PATH} more finding(s) of this rule "
                               "here, not listed", "", first.key, first.waived))
    return out


_UNITS = {"performance": "inf./sec.", "energy": "uJ/inf."}


def _rows(tree: Tree, ruleset: RuleSet, figures: dict[str, BenchFigures],
          findings: list[Finding]) -> list[ResultRow]:
    rows = []
    aliases = ruleset.settings.get("aliases") or {}
    # once, not per row: a round has ~300 rows and thousands of warnings
    live_errors = [f for f in findings if f.severity == "error" and not f.waived]
    for sub, system, bench in tree.benchmarks():
        figs = figures.get(bench.rel, BenchFigures())
        setting = ruleset.settings["benchmarks"].get(aliases.get(bench.name, bench.name)) or {}
        key = (sub.division, sub.name, system.name, bench.label)
        if figs.sww is not None or setting.get("metric") == "fps_fns":
            rows += _sww_rows(ruleset, figs, key, findings)
            continue
        for mode in ("accuracy", "performance", "energy"):
            if mode not in bench.modes and mode not in setting.get("required", []):
                continue
            fig = {"performance": figs.throughput, "energy": figs.energy,
                   "accuracy": figs.target_metric(setting.get("metric", "top1"))}[mode]
            target = _target(ruleset, setting, bench.name, sub.division) if mode == "accuracy" \
                else ""
            errors = [f for f in live_errors if _affects(f.key, (*key, mode))]
            unit = _UNITS.get(mode, "AUC" if setting.get("metric") == "auc" else "top-1 %")
            rows.append(ResultRow(*(shown(k) for k in key), mode,
                                  fig.claimed if fig else None, fig.recomputed if fig else None,
                                  unit, target, not errors,
                                  "; ".join(f"{f.rule_id}: {f.message}" for f in errors[:3])
                                  or ("raw data absent: claim not verifiable"
                                      if fig is not None and fig.unverifiable else "ok")))
    return rows


def _sww_rows(ruleset: RuleSet, figs: BenchFigures, key: Key,
              findings: list[Finding]) -> list[ResultRow]:
    """sww: F1 ("accuracy"), estimated throughput and power (mW) of the folder read."""
    s = figs.sww
    # errors on the benchmark or on any of its mode folders (keys that extend the row's)
    errors = [f for f in findings if f.severity == "error" and not f.waived
              and (_affects(f.key, key) or _affects(key, f.key))]
    reason = "; ".join(f"{f.rule_id}: {f.message}" for f in errors[:3])
    if s is None:
        return [ResultRow(*(shown(str(k)) for k in key), "performance", None, None, "inf./sec.",
                          "", False, reason or "no energy/ or performance/ folder")]
    target = "none (open)" if key[0] == "open" else _sww_target(ruleset, key[0] or "")
    rows = []
    for mode, fig, unit in (("accuracy", s.f1, "F1"), ("performance", s.throughput, "inf./sec."),
                            ("energy", s.power, "mW")):
        if mode == "energy" and s.folder != "energy":
            continue
        # every sww row comes from the one stream folder read: an error anywhere in the
        # benchmark (e.g. an unreadable energy/results.json) invalidates all of them, as an
        # error on a mode folder invalidates that folder's row for the other benchmarks
        mode_errors = errors
        why = "; ".join(f"{f.rule_id}: {f.message}" for f in mode_errors[:3])
        unverifiable = fig.unverifiable if fig.claimed is not None else None
        rows.append(ResultRow(*(shown(str(k)) for k in key), mode, fig.claimed, fig.recomputed,
                              unit, target if mode == "accuracy" else "", not mode_errors,
                              why or ("raw data absent: claim not verifiable"
                                      if unverifiable else "ok")))
    claims = s.tp.claimed, s.fn.claimed, s.duty_cycle.claimed
    rows[0].extra = {"FalsePositives": _int_text(s.fp.claimed),
                     "FalseNegatives": _int_text(s.fn.claimed),
                     "DutyCycle": "" if claims[2] is None else repr(claims[2])}
    return rows


def _int_text(value: float | None) -> str:
    return "" if value is None else str(int(value))


def _sww_target(ruleset: RuleSet, division: str) -> str:
    for rule in ruleset.for_division(division).values():
        if rule.kind == "sww_limits" and rule.enabled and rule.severity == "error":
            return f"FP <= {rule.params['max_fp']}, FN <= {rule.params['max_fn']}"
    return ""


def _affects(finding_key: Key, row_key: Key) -> bool:
    return bool(finding_key) and tuple(row_key[:len(finding_key)]) == tuple(finding_key)


def _target(ruleset: RuleSet, setting: dict[str, Any], bench: str, division: str) -> str:
    rules = ruleset.for_division(division)
    for rule in rules.values():
        if rule.kind == "claim_at_least" and rule.enabled and bench in rule.scope.get(
                "benchmarks", []) and division in rule.scope.get("divisions", [division]):
            return f">= {rule.params['minimum']}"
    return "none (open)" if division == "open" else ""
