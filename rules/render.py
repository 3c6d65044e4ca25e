"""Renderings of a ``Report``: text for people, JSON for tools, the official summary CSV.

The CSV has the official checker's columns (submission_rules.md 6.4): one row per
benchmark whose every result is valid, every field quoted; FalsePositives,
FalseNegatives and DutyCycle are added from v1.3 on (filled for sww only, whose
Accuracy is F1 and whose Power is the stream's average power in mW).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from tinyperf.rules.engine import Report, ResultRow
from tinyperf.submissions.model import shown

CSV_COLUMNS = ["Organization", "Availability", "Division", "BoardName", "SystemDesc", "Model",
               "MlperfModel", "Result", "ResultUnit", "Accuracy", "HasPower", "Power",
               "PowerUnit", "HostProcessorModelName", "HostProcessorFrequency",
               "HostProcessorMemory", "AcceleratorModelName", "AcceleratorFrequency",
               "AcceleratorMemory", "HardwareNotes", "InferenceFramework",
               "SoftwareLibraries", "SoftwareNotes"]
SWW_COLUMNS = ["FalsePositives", "FalseNegatives", "DutyCycle"]
#: tinyperf's own columns after the official ones: figures recomputed from raw data
#: (empty: not recomputable) and the verdict ("valid", or "valid, not verifiable: ...").
OUR_COLUMNS = ["RecomputedResult", "RecomputedAccuracy", "RecomputedPower", "Verdict"]
_SYSTEM_KEYS = {"BoardName": "Board Name", "HostProcessorModelName": "Processor(s) Name",
                "HostProcessorFrequency": "Processor(s) Frequencies",
                "HostProcessorMemory": "Processor memory type and capacity",
                "AcceleratorModelName": "Accelerator",
                "AcceleratorFrequency": "Accelerator(s) Frequencies",
                "AcceleratorMemory": "Accelerator memory type and capacity",
                "HardwareNotes": "Hardware Notes", "InferenceFramework": "Inference Framework",
                "SoftwareLibraries": "Software Libraries", "SoftwareNotes": "Software Notes"}


def _num(value: float | None, digits: int = 10) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


NOT_VERIFIABLE = "raw data absent: claim not verifiable"


def text(report: Report) -> str:
    lines = [f"tinyperf check: {report.label} (rules {report.version})"]
    if report.rules_note:
        lines.append(f"Rules: {report.rules_note}")
    if report.error:
        return "\n".join([*lines, "", f"COULD NOT CHECK: {shown(report.error)}",
                          "", "Verdict: NOT CHECKED"]) + "\n"
    lines += ["", "Results:"]
    head = ("division", "submitter", "system", "bench", "mode", "claimed", "recomputed",
            "unit", "target", "valid")
    table = [head] + [(r.division, r.submitter, r.system, r.benchmark, r.mode, _num(r.claimed),
                       _num(r.recomputed, 8), r.unit, r.target or "-",
                       "yes" if r.valid else "NO") for r in report.rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    bad = [r for r in report.rows if not r.valid or r.reason != "ok"]
    for r in bad:
        lines.append(f"  - {r.benchmark}/{r.mode}: {r.reason}")
    counts = {s: sum(1 for f in report.findings if f.severity == s and not f.waived)
              for s in ("error", "warning", "info")}
    lines += ["", f"Findings: {counts['error']} error(s), {counts['warning']} warning(s), "
                  f"{counts['info']} info"]
    for f in report.findings:
        mark = " (waived)" if f.waived else ""
        lines.append(f"  {f.severity.upper():7} {f.rule_id}{mark}  {f.path}")
        lines.append(f"          {f.message}")
        if f.evidence:
            lines.append(f"          evidence: {f.evidence}")
    valid = sum(r.valid for r in report.rows)
    if report.incomplete:
        lines += ["", "Verdict: INCOMPLETE (part of the tree could not be checked: "
                      "TINY-CHECK-001 above)"]
    elif not report.rows:
        lines += ["", "Verdict: NO RESULTS FOUND (is this a round, division or submitter "
                      "folder?)"]
    else:
        lines += ["", f"Verdict: {'VALID' if report.ok else 'NOT VALID'} "
                      f"({valid}/{len(report.rows)} results valid)"]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str) + "\n"


def _field(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _csv_columns(report: Report) -> list[str]:
    return CSV_COLUMNS + (SWW_COLUMNS if report.version >= "v1.3" else []) + OUR_COLUMNS


def summary_csv(report: Report, columns: list[str] | None = None) -> str:
    """The official summary CSV (rows only for benchmarks whose results are all valid).

    ``columns`` overrides the version's column list (one CSV for several rounds)."""
    columns = columns or _csv_columns(report)
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    groups: dict[tuple[str, ...], dict[str, ResultRow]] = {}
    for r in report.rows:
        groups.setdefault((r.division, r.submitter, r.system, r.benchmark), {})[r.mode] = r
    for (div, sub, system, bench), modes in groups.items():
        if not all(r.valid for r in modes.values()) or "performance" not in modes:
            continue
        sysjson = report.systems.get(f"{div}/{sub}/{system}", {})
        perf, acc, energy = modes["performance"], modes.get("accuracy"), modes.get("energy")
        power = energy.claimed if energy and energy.claimed else 0
        sww = acc is not None and acc.unit == "F1"  # sww: F1, power in mW, FP/FN/duty cycle
        row = {"Organization": sub, "Availability": str(sysjson.get("Status", "")).lower(),
               "Division": div, "SystemDesc": system, "Model": bench, "MlperfModel": bench,
               "Result": repr(perf.claimed), "ResultUnit": "inf./sec.",
               "Accuracy": repr(acc.claimed) if acc and acc.claimed is not None else "",
               "HasPower": str(bool(power)), "Power": repr(power) if power else "0",
               "PowerUnit": "mW" if sww else "uJ/inf."}
        if sww and acc is not None:
            row.update(acc.extra)
        unverified = sorted(m for m, r in modes.items() if r.reason == NOT_VERIFIABLE)
        row.update(RecomputedResult=_recomputed(perf), RecomputedAccuracy=_recomputed(acc),
                   RecomputedPower=_recomputed(energy),
                   Verdict="valid" if not unverified else
                   f"valid, not verifiable from raw data: {', '.join(unverified)}")
        for col, key in _SYSTEM_KEYS.items():
            row[col] = _field(sysjson.get(key))
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def _recomputed(row: ResultRow | None) -> str:
    return "" if row is None or row.recomputed is None else repr(row.recomputed)


RENDERERS = {"text": text, "json": to_json, "csv": summary_csv}


@dataclass
class RoundSummary:
    """One line of the summary of a folder of rounds (counts of result folders)."""

    round: str
    rules: str
    folders: int
    valid: int
    invalid: int
    not_verifiable: int  # valid, but some claim could not be recomputed (raw data absent)
    top_rules: list[tuple[str, int]]
    status: str  # checked / incomplete / not checked

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "top_rules": [list(t) for t in self.top_rules]}


def summarise(report: Report, top: int = 3) -> RoundSummary:
    """Result folders (``results/<system>/<benchmark>``) of one round: valid (every row
    valid and recomputed), invalid, valid but not verifiable; the most frequent rule ids
    among its unwaived errors and warnings."""
    groups: dict[tuple[str, ...], list[ResultRow]] = {}
    for r in report.rows:
        groups.setdefault((r.division, r.submitter, r.system, r.benchmark), []).append(r)
    invalid = sum(1 for rows in groups.values() if not all(r.valid for r in rows))
    unverified = sum(1 for rows in groups.values() if all(r.valid for r in rows)
                     and any(r.reason == NOT_VERIFIABLE for r in rows))
    counts = Counter(f.rule_id for f in report.findings
                     if f.severity in ("error", "warning") and not f.waived)
    status = "not checked" if report.error else "incomplete" if report.incomplete \
        else "checked"
    return RoundSummary(report.round or report.version, report.version, len(groups),
                        len(groups) - invalid - unverified, invalid, unverified,
                        counts.most_common(top), status)


def summary_table(reports: list[Report]) -> str:
    """The closing table of a folder of rounds: one line per round, then the total."""
    sums = [summarise(r) for r in reports]
    head = ("round", "rules", "result folders", "valid", "invalid", "valid, not verifiable",
            "status", "top rule ids (count)")
    rows = [(s.round, s.rules, str(s.folders), str(s.valid), str(s.invalid),
             str(s.not_verifiable), s.status,
             ", ".join(f"{k} ({n})" for k, n in s.top_rules) or "-") for s in sums]
    total = Counter(f.rule_id for r in reports for f in r.findings
                    if f.severity in ("error", "warning") and not f.waived)
    rows.append(("total", "", *(str(sum(getattr(s, k) for s in sums))
                                for k in ("folders", "valid", "invalid", "not_verifiable")),
                 f"{sum(s.status == 'checked' for s in sums)}/{len(sums)} checked",
                 ", ".join(f"{k} ({n})" for k, n in total.most_common(3)) or "-"))
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    lines = ["", "Summary of the rounds:"]
    for row in (head, *rows):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    lines.append("  valid: every claim of the folder recomputed from raw data and within the "
                 "rules; valid, not verifiable: within the rules, but a claim's raw data is "
                 "absent; invalid: at least one rule error.")
    return "\n".join(lines) + "\n"


def render_many(reports: list[Report], fmt: str) -> str:
    """One report as :data:`RENDERERS` does; several (a folder of rounds): text reports one
    after the other, a JSON list, or one CSV with a single header line."""
    if len(reports) == 1:
        return RENDERERS[fmt](reports[0])
    if fmt == "json":  # every round's report and the summary the text table renders
        return json.dumps({"rounds": [r.as_dict() for r in reports],
                           "summary": [summarise(r).as_dict() for r in reports]},
                          indent=2, default=str) + "\n"
    if fmt == "csv":  # v1.3+ has the sww columns: every round's rows get the widest list
        columns = max((_csv_columns(r) for r in reports), key=len)
        parts = [summary_csv(r, columns) for r in reports]
        return parts[0] + "".join(p.split("\n", 1)[1] for p in parts[1:])
    return "\n".join(RENDERERS[fmt](r) for r in reports) + summary_table(reports)
