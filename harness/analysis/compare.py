"""Regression gate: compare a candidate session with a baseline, metric by metric.

Each check gives the change, an interval for the change, the test used and its p-value,
and a verdict against a small SLO:

- throughput (performance windows): change of the median in %; interval from a bootstrap
  of the ratio of medians (windows resampled within each session, fixed seed); two-sided
  **Mann-Whitney U** on the per-window throughputs.
- accuracy, top-1 models (kws01): change in points on the files both sessions ran; interval
  from a paired file bootstrap; **exact McNemar** (binomial test on the discordant files).
- accuracy, score models (ad01): change of AUC in points; interval from a paired bootstrap
  stratified by label; **paired permutation test** (per file, swap the two sessions'
  rank-normalised scores; AUC only depends on ranks).
- energy_uj: change of the median µJ/inference in %, Mann-Whitney U on per-window µJ.
- latency: candidate percentiles against absolute limits (``p99_ms``…); Mann-Whitney U on
  the per-inference latencies when both sessions have them.

A regression breaches the SLO when it is beyond the limit **and** significant at ``alpha``
(default 0.05); latency limits are absolute and need no test. With 5 windows per side the
smallest two-sided Mann-Whitney p-value is 2/252 = 0.0079.

Before the metrics, the gate checks the pair itself: a NOT VALID session (``run.json``
``valid: false``, e.g. 3 s windows), baseline or candidate, fails the ``validity`` check
unless ``allow_invalid`` (``--allow-invalid``: then it is compared with a WARN line); a
``model`` (id or sha256), ``board`` (DUT vendor) or ``firmware`` that differs between the
two fails that check unless ``allow_mismatch`` (``--allow-mismatch``: a WARN line).

slo.yaml format::

    alpha: 0.05          # significance level of the tests, 0 < alpha < 1 (default 0.05)
    throughput:
      regress_pct: 3     # fail: median inf/s lower by more than 3 % (and significant)
    accuracy:
      drop_pt: 0.5       # fail: top-1 or AUC x100 lower by more than 0.5 points
    energy_uj:
      regress_pct: 5     # fail: median uJ/inference higher by more than 5 %
    latency:             # absolute limits on the candidate, in ms
      p99_ms: 50         # also p50_ms, p90_ms, max_ms, mean_ms

Every key is optional; a section left out is reported but not gated (without ``--slo`` the
defaults are throughput 3 %, accuracy 0.5 pt, energy 5 %, no latency limit). Unknown
sections or keys and negative limits are errors naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import stats
from tinyperf.formats import metrics
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.analysis.intervals import DEFAULT_SEED, stratified_indices
from tinyperf.harness.analysis.session_reader import SessionRecord

RESAMPLES = 2000

#: SLO keys: section -> allowed keys. ``alpha`` is a top-level number.
SLO_SCHEMA: dict[str, tuple[str, ...]] = {
    "throughput": ("regress_pct",),
    "accuracy": ("drop_pt",),
    "energy_uj": ("regress_pct",),
    "latency": ("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"),
}


@dataclass(frozen=True)
class Slo:
    """Limits of a regression gate. ``None`` means "report, do not gate"."""

    throughput_regress_pct: float | None = 3.0
    accuracy_drop_pt: float | None = 0.5
    energy_regress_pct: float | None = 5.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    alpha: float = 0.05


#: Without ``--slo``: the limits of the issue's example SLO.
DEFAULT_SLO = Slo()


def parse_slo(data: Any, source: str = "<slo>") -> Slo:
    """Validate a loaded SLO document; errors name the file and the key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("an SLO file is a mapping of sections", path=source)
    values: dict[str, Any] = {"throughput_regress_pct": None, "accuracy_drop_pt": None,
                              "energy_regress_pct": None, "latency_ms": {}}
    for section, body in data.items():
        if section == "alpha":
            if not _number(body) or not 0 < body < 1:
                raise ConfigError("must be a number in (0, 1)", path=source, key="alpha")
            values["alpha"] = float(body)
            continue
        if section not in SLO_SCHEMA:
            raise ConfigError(f"unknown section (known: alpha, {', '.join(SLO_SCHEMA)})",
                              path=source, key=str(section))
        if not isinstance(body, dict) or not body:
            raise ConfigError("must be a mapping of limits", path=source, key=section)
        for key, value in body.items():
            dotted = f"{section}.{key}"
            if key not in SLO_SCHEMA[section]:
                raise ConfigError(f"unknown limit (known: {', '.join(SLO_SCHEMA[section])})",
                                  path=source, key=dotted)
            if not _number(value) or value < 0:
                raise ConfigError("must be a non-negative number", path=source, key=dotted)
            if section == "latency":
                values["latency_ms"][key.removesuffix("_ms")] = float(value)
            else:
                name = {"throughput": "throughput_regress_pct", "accuracy": "accuracy_drop_pt",
                        "energy_uj": "energy_regress_pct"}[section]
                values[name] = float(value)
    return Slo(**values)


def load_slo(path: str | Path) -> Slo:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from None
    return parse_slo(data, str(path))


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One metric check. ``change`` is candidate minus baseline in ``change_unit``."""

    metric: str
    unit: str
    baseline: float | None
    candidate: float | None
    change: float | None
    change_unit: str
    interval: tuple[float, float] | None
    test: str
    p_value: float | None
    significant: bool
    limit: str | None
    status: str  # "pass", "fail", "skip" or "warn" (an allowed gate problem)
    message: str = ""
    gate: bool = False  # a check of the pair (validity, identity), not of a metric

    @property
    def failed(self) -> bool:
        return self.status == "fail"


@dataclass(frozen=True)
class Comparison:
    """All checks of one baseline/candidate pair."""

    baseline: SessionRecord
    candidate: SessionRecord
    checks: list[Check]
    slo: Slo

    @property
    def breached(self) -> bool:
        """The gate fails: a metric breaches the SLO or a pair check failed."""
        return any(c.failed for c in self.checks)

    @property
    def slo_breached(self) -> bool:
        return any(c.failed and not c.gate for c in self.checks)

    @property
    def gate_failures(self) -> list[str]:
        return [c.metric for c in self.checks if c.failed and c.gate]


# -- statistics (pure) -----------------------------------------------------------------------


def mann_whitney(base: Sequence[float], cand: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (1.0 when both samples are identical)."""
    b, c = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    if np.array_equal(np.sort(b), np.sort(c)):
        return 1.0
    return float(stats.mannwhitneyu(c, b, alternative="two-sided").pvalue)


def median_change_interval(base: Sequence[float], cand: Sequence[float],
                           confidence: float = 0.95, seed: int = DEFAULT_SEED
                           ) -> tuple[float, tuple[float, float]]:
    """% change of the median and its bootstrap interval (independent resampling)."""
    b, c = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    rng = np.random.default_rng(seed)
    mb = np.median(b[rng.integers(0, b.size, (RESAMPLES, b.size))], axis=1)
    mc = np.median(c[rng.integers(0, c.size, (RESAMPLES, c.size))], axis=1)
    ratios = 100.0 * (mc / mb - 1.0)
    a = (1 - confidence) / 2
    low, high = np.quantile(ratios, [a, 1 - a])
    return 100.0 * (np.median(c) / np.median(b) - 1.0), (float(low), float(high))


def mcnemar_exact(base_correct: np.ndarray, cand_correct: np.ndarray) -> float:
    """Exact McNemar p-value: binomial test of the discordant pairs at 1/2."""
    b = int((base_correct & ~cand_correct).sum())
    c = int((~base_correct & cand_correct).sum())
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5).pvalue)


def paired_bootstrap(labels: np.ndarray, fn: Callable[[np.ndarray], float],
                     confidence: float = 0.95, seed: int = DEFAULT_SEED) -> tuple[float, float]:
    """Interval of ``fn(indices)`` over file resamples stratified by label (paired: the
    same files for both sessions in each resample)."""
    rows = stratified_indices(labels, RESAMPLES, seed)
    vals = np.array([fn(r) for r in rows])
    a = (1 - confidence) / 2
    low, high = np.quantile(vals, [a, 1 - a])
    return float(low), float(high)


def _ranks01(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x) / x.size


def auc_permutation(y: np.ndarray, base: np.ndarray, cand: np.ndarray,
                    seed: int = DEFAULT_SEED) -> float:
    """Paired permutation p-value for AUC(cand) - AUC(base) (scores rank-normalised)."""
    rb, rc = _ranks01(base), _ranks01(cand)
    observed = metrics.auc_binary(y, rc) - metrics.auc_binary(y, rb)
    if observed == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(RESAMPLES):
        swap = rng.random(y.size) < 0.5
        pb, pc = np.where(swap, rc, rb), np.where(swap, rb, rc)
        if abs(metrics.auc_binary(y, pc) - metrics.auc_binary(y, pb)) >= abs(observed) - 1e-12:
            hits += 1
    return (hits + 1) / (RESAMPLES + 1)


# -- checks ---------------------------------------------------------------------------------


def _verdict(change: float | None, limit: float | None, worse_sign: int, significant: bool,
             unit: str, word: str) -> tuple[str | None, str]:
    if limit is None:
        return None, "pass"
    text = f"{word} <= {limit:g} {unit}"
    if change is None:
        return text, "skip"
    return text, "fail" if (worse_sign * change > limit and significant) else "pass"


def check_windows(metric: str, unit: str, base: Sequence[float], cand: Sequence[float],
                  limit_pct: float | None, worse_sign: int, alpha: float) -> Check:
    """Throughput (worse = lower, ``worse_sign=-1``) or energy (worse = higher, +1)."""
    if len(base) < 2 or len(cand) < 2:
        return Check(metric, unit, None, None, None, "%", None, "Mann-Whitney U", None, False,
                     None, "skip", "fewer than 2 windows in a session")
    change, interval = median_change_interval(base, cand)
    p = mann_whitney(base, cand)
    limit, status = _verdict(change, limit_pct, worse_sign, p < alpha, "%",
                             "regress")
    return Check(metric, unit, float(np.median(base)), float(np.median(cand)), change, "%",
                 interval, "Mann-Whitney U (two-sided) on per-window values", p, p < alpha,
                 limit, status)


def _paired(base: metrics.FileScores, cand: metrics.FileScores
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and both prediction matrices on the files both sessions scored."""
    where = {f: i for i, f in enumerate(cand.files)}
    common = [(i, where[f]) for i, f in enumerate(base.files) if f in where]
    if not common:
        raise ValueError("the two sessions share no files")
    bi, ci = (np.array(x) for x in zip(*common))
    if not np.array_equal(base.y_true[bi], cand.y_true[ci]):
        raise ValueError("the same files carry different labels")
    return base.y_true[bi], base.y_pred[bi], cand.y_pred[ci]


def check_accuracy(base: SessionRecord, cand: SessionRecord, slo: Slo) -> Check:
    """Paired accuracy check on the common files (top-1 or AUC in points)."""
    if base.scores is None or cand.scores is None:
        return Check("accuracy", "%", base.top1, cand.top1, None, "pt", None, "paired", None,
                     False, None, "skip", "per-file scores not available")
    try:
        y, pb, pc = _paired(base.scores, cand.scores)
    except ValueError as exc:
        return Check("accuracy", "%", None, None, None, "pt", None, "paired", None, False,
                     None, "skip", str(exc))
    if pb.shape[1] == 1:
        return _check_auc(y, pb[:, 0], pc[:, 0], slo)
    ok_b, ok_c = np.argmax(pb, axis=1) == y, np.argmax(pc, axis=1) == y
    b, c = 100 * ok_b.mean(), 100 * ok_c.mean()
    interval = paired_bootstrap(y, lambda r: 100 * (ok_c[r].mean() - ok_b[r].mean()))
    p = mcnemar_exact(ok_b, ok_c)
    limit, status = _verdict(c - b, slo.accuracy_drop_pt, -1, p < slo.alpha, "pt", "drop")
    return Check("accuracy (top-1)", "%", b, c, c - b, "pt", interval,
                 f"exact McNemar on {y.size} paired files", p, p < slo.alpha, limit, status)


def _check_auc(y: np.ndarray, sb: np.ndarray, sc: np.ndarray, slo: Slo) -> Check:
    b, c = 100 * metrics.auc_binary(y, sb), 100 * metrics.auc_binary(y, sc)
    interval = paired_bootstrap(
        y, lambda r: 100 * (metrics.auc_binary(y[r], sc[r]) - metrics.auc_binary(y[r], sb[r])))
    p = auc_permutation(y, sb, sc)
    limit, status = _verdict(c - b, slo.accuracy_drop_pt, -1, p < slo.alpha, "pt", "drop")
    return Check("accuracy (AUC x100)", "pt", b, c, c - b, "pt", interval,
                 f"paired permutation test on {y.size} files", p, p < slo.alpha, limit,
                 status)


def check_latency(base: SessionRecord, cand: SessionRecord, stat: str,
                  limit_ms: float | None, alpha: float) -> Check:
    metric = f"latency {stat}"
    b, c = base.latency_ms(stat), cand.latency_ms(stat)
    limit = f"{stat} <= {limit_ms:g} ms" if limit_ms is not None else None
    if c is None:
        return Check(metric, "ms", b, None, None, "ms", None, "limit", None, False, limit,
                     "skip", "no latency figures in the candidate session")
    p = None
    if base.latency is not None and cand.latency is not None:
        p = mann_whitney(base.latency.ms, cand.latency.ms)
    status = "fail" if limit_ms is not None and c > limit_ms else "pass"
    return Check(metric, "ms", b, c, None if b is None else c - b, "ms", None,
                 "absolute limit" + (" (Mann-Whitney U on inferences)" if p is not None else ""),
                 p, p is not None and p < alpha, limit, status)


def _gate(metric: str, problem: str, allowed: bool, flag: str) -> Check:
    status, how = ("warn", f"allowed by {flag}") if allowed else \
        ("fail", f"fails the gate; {flag} to compare anyway")
    return Check(metric, "", None, None, None, "", None, "", None, False, None, status,
                 f"{problem} ({how})", gate=True)


def validity_check(base: SessionRecord, cand: SessionRecord,
                   allow_invalid: bool = False) -> Check | None:
    """One ``validity`` check naming every NOT VALID session of the pair (None: both valid)."""
    bad = [f"{role} {rec.name} is NOT VALID"
           + (f" ({'; '.join(rec.reasons)})" if rec.reasons else "")
           for role, rec in (("baseline", base), ("candidate", cand)) if not rec.valid]
    if not bad:
        return None
    return _gate("validity", ", ".join(bad), allow_invalid, "--allow-invalid")


def identity_checks(base: SessionRecord, cand: SessionRecord,
                    allow_mismatch: bool = False) -> list[Check]:
    """A ``model``, ``board`` or ``firmware`` check for each that differs (unknown on one
    side is not a mismatch)."""
    pairs = [("model", "model", base.model, cand.model),
             ("model", "model sha256", base.model_sha256, cand.model_sha256),
             ("board", "board", base.vendor, cand.vendor),
             ("firmware", "firmware", base.firmware, cand.firmware)]
    out: list[Check] = []
    for metric, label, b, c in pairs:
        if b is None or c is None or b == c or any(x.metric == metric for x in out):
            continue
        out.append(_gate(metric, f"{label} mismatch: baseline {b!r}, candidate {c!r}",
                         allow_mismatch, "--allow-mismatch"))
    return out


def compare(base: SessionRecord, cand: SessionRecord, slo: Slo = DEFAULT_SLO, *,
            allow_invalid: bool = False, allow_mismatch: bool = False) -> Comparison:
    """The pair checks (validity, identity), then every metric check of the pair's mode."""
    if base.mode != cand.mode:
        raise ConfigError(f"cannot compare a {base.mode} session with a {cand.mode} session "
                          f"({base.path.name} vs {cand.path.name})")
    checks: list[Check] = []
    validity = validity_check(base, cand, allow_invalid)
    if validity is not None:
        checks.append(validity)
    checks.extend(identity_checks(base, cand, allow_mismatch))
    if base.mode == "accuracy":
        checks.append(check_accuracy(base, cand, slo))
    if base.window_throughput or cand.window_throughput:
        checks.append(check_windows("throughput", "inf/s", base.window_throughput,
                                    cand.window_throughput, slo.throughput_regress_pct, -1,
                                    slo.alpha))
    if base.energy is not None or cand.energy is not None or base.mode == "energy":
        checks.append(check_windows("energy_uj", "uJ/inf",
                                    base.energy.uj_per_inference if base.energy else [],
                                    cand.energy.uj_per_inference if cand.energy else [],
                                    slo.energy_regress_pct, +1, slo.alpha))
    if base.mode != "accuracy":
        stats_wanted = dict(slo.latency_ms)
        if cand.latency is not None or isinstance(cand.figures.get("latency"), dict):
            stats_wanted.setdefault("p99", None)  # type: ignore[arg-type]
        for stat, limit in stats_wanted.items():
            checks.append(check_latency(base, cand, stat, limit, slo.alpha))
    return Comparison(base, cand, checks, slo)


# -- rendering -----------------------------------------------------------------------------------


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def check_line(c: Check) -> str:
    """One human-readable line for a check."""
    if c.gate:
        return f"{c.status.upper():4} {c.metric}: {c.message}"
    change = "-" if c.change is None else f"{c.change:+.2f} {c.change_unit}"
    iv = "" if c.interval is None else \
        f" [95% {c.interval[0]:+.2f}, {c.interval[1]:+.2f}]"
    p = "" if c.p_value is None else f"; {c.test}: p = {c.p_value:.4g}" + \
        (" (significant)" if c.significant else "")
    lim = f"; limit {c.limit}" if c.limit else ""
    msg = f"; {c.message}" if c.message else ""
    return (f"{c.status.upper():4} {c.metric}: {_fmt(c.baseline)} -> {_fmt(c.candidate)} "
            f"{c.unit}, change {change}{iv}{p}{lim}{msg}")


def render_text(comp: Comparison) -> str:
    head = (f"baseline  {comp.baseline.path.name} ({comp.baseline.model}, "
            f"{comp.baseline.board}, {comp.baseline.mode})\n"
            f"candidate {comp.candidate.path.name} ({comp.candidate.model}, "
            f"{comp.candidate.board}, {comp.candidate.mode})\n")
    verdict = "SLO BREACHED" if comp.slo_breached else "within SLO"
    if comp.gate_failures:
        verdict = f"GATE FAILED ({', '.join(comp.gate_failures)})" + \
            (", SLO BREACHED" if comp.slo_breached else "")
    return head + "\n".join(check_line(c) for c in comp.checks) + f"\n{verdict}\n"


def junit_xml(comp: Comparison) -> str:
    """JUnit XML: one testsuite, one testcase per check (failure / skipped as such)."""
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name="tinyperf compare", tests=str(len(comp.checks)),
                       failures=str(sum(c.failed for c in comp.checks)),
                       skipped=str(sum(c.status == "skip" for c in comp.checks)), errors="0")
    for c in comp.checks:
        case = ET.SubElement(suite, "testcase", classname=f"tinyperf.{comp.candidate.model}."
                             f"{comp.candidate.mode}", name=c.metric)
        line = check_line(c)
        if c.failed:
            text = c.message if c.gate else f"{c.metric} breaches {c.limit}"
            ET.SubElement(case, "failure", message=text).text = line
        elif c.status == "skip":
            ET.SubElement(case, "skipped", message=c.message or "not available")
        ET.SubElement(case, "system-out").text = line
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
