"""What a results.txt claims, for either runner, as one record (pure parsing).

Owns: the MLCommons energy results.txt block (the performance/accuracy ones come from
``tinyperf.formats.mlc``), the EEMBC blocks (via ``tinyperf.submissions.eembc``), and the official
checker's own regexes (submission_rules.md 4.4) so a report can say what the official
checker would read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tinyperf.formats import mlc
from tinyperf.submissions import eembc

#: The official checker's patterns (SC:154-159, SC:968, SC:1021); ``match`` is re.match.
OFFICIAL = {
    "top1": (re.compile(r".* Top[- ]1%?\s?[:=] ([\d\.]+).*"), "match"),
    "auc": (re.compile(r".* AUC\s?[:=] ([\d\.]+).*"), "match"),
    "median": (re.compile(r".* Median throughput is\s+([\d\.]+) inf\./sec\..*"), "match"),
    "energy": (re.compile(r"Median energy cost is ([\d\.]+) uJ/inf"), "search"),
}
#: The official sww patterns (SC:974-1021), all ``re.search``; a tuple of keys per group.
OFFICIAL_SWW = {
    ("sww_tp", "sww_fn", "sww_fp"): re.compile(
        r"Accuracy: ([\d]+) True positives, ([\d]+) False negatives, ([\d]+) False positives"),
    ("sww_duty",): re.compile(r"Average duty cycle:\s*([\d\.]+)"),
    ("sww_throughput",): re.compile(r"Estimated throughput:\s*([\d\.]+) inf\./sec\..*"),
    ("sww_power",): re.compile(r"Power\s+: ([\d\.]+) mW.*"),
}
#: Text every match of a pattern holds: a line without it is not tried (most lines of a
#: results.txt hold none of them; a round has ~8,000 lines and 8 patterns).
_OFFICIAL_NEEDS = {"top1": " Top", "auc": " AUC", "median": " Median throughput is",
                   "energy": "Median energy cost is ", ("sww_tp", "sww_fn", "sww_fp"):
                   "Accuracy: ", ("sww_duty",): "Average duty cycle:",
                   ("sww_throughput",): "Estimated throughput:", ("sww_power",): "Power"}

# sww results.txt (protocol.md 7.5); numbers in Python's ``{:1.5}`` general format, which
# switches to exponent notation below 1e-4 and from 1e5 up (``1.2345e-05``).
_NUM = r"([0-9.]+(?:e[+-]?\d+)?|inf|nan)"
_RE_SWW_ACC = re.compile(r"^Accuracy: (\d+) True positives, (\d+) False negatives, "
                         r"(\d+) False positives$")
_RE_SWW_DUTY = re.compile(rf"^Average duty cycle: {_NUM}$")
_RE_SWW_PERIOD = re.compile(rf"^Average period: {_NUM} s$")
_RE_SWW_TPUT = re.compile(rf"^Estimated throughput: {_NUM} inf\./sec\.$")
_SWW_LEADS = ("Accuracy: ", "Average duty cycle: ", "Average period: ", "Estimated throughput: ")

# MLC energy results.txt (protocol.md 6.3): "Energy data for trial 0"
_RE_TRIAL = re.compile(r"^Energy data for trial (\d+)$")
_RE_ELAPSED = re.compile(r"^Elapsed time\s+:\s+([0-9.eE+-]+)(\s+<<<< below minimum duration)?$")
_RE_INFS = re.compile(r"^Inferences\s+:\s+(\d+)$")
_RE_POWER_MW = re.compile(r"^Power\s+:\s+([0-9.]+) mW\.$")
_RE_TOTAL = re.compile(r"^Total Energy\s+:\s+([0-9.]+) uJ$")
_RE_EPI = re.compile(r"^Energy/Inf\s+:\s+([0-9.]+) uJ/inf$")
_RE_MEDIAN_E = re.compile(r"^Median energy cost is\s+([0-9.]+) uJ/inf\.$")
_DASHES = "-" * 57


@dataclass
class SwwClaims:
    """The streaming-wakeword lines of a results.txt; ``text`` keeps each number as printed."""

    tp: int | None = None
    fn: int | None = None
    fp: int | None = None
    duty_cycle: float | None = None
    period: float | None = None
    throughput: float | None = None
    text: dict[str, str] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.tp is not None or bool(self.text)


@dataclass
class Claims:
    """Figures a results.txt states. ``runner`` is ``mlc`` or ``eembc`` (by content)."""

    runner: str | None = None
    perf_windows: list[dict[str, Any]] = field(default_factory=list)
    median_throughput: float | None = None
    energy_windows: list[dict[str, Any]] = field(default_factory=list)
    median_energy: float | None = None
    top1: float | None = None
    auc: float | None = None
    runner_errors: list[str] = field(default_factory=list)
    official: dict[str, str | None] = field(default_factory=dict)
    duplicated_lines: list[str] = field(default_factory=list)
    repeated_windows: int = 0  # identical window blocks printed again (EEMBC)
    stamp: str | None = None
    sww: SwwClaims = field(default_factory=SwwClaims)


def official_values(text: str) -> dict[str, str | None]:
    """What the official checker captures per pattern (last match wins), as text."""
    found: dict[str, str | None] = dict.fromkeys(OFFICIAL)
    found.update(dict.fromkeys(k for keys in OFFICIAL_SWW for k in keys))
    tried = [(key, pattern.match if how == "match" else pattern.search)
             for key, (pattern, how) in OFFICIAL.items() if _OFFICIAL_NEEDS[key] in text]
    tried += [(keys, pattern.search) for keys, pattern in OFFICIAL_SWW.items()
              if _OFFICIAL_NEEDS[keys] in text]
    if not tried:
        return found
    for line in text.splitlines():
        for key, find in tried:
            if _OFFICIAL_NEEDS[key] in line and (m := find(line)):
                if isinstance(key, tuple):
                    found.update(zip(key, m.groups()))
                else:
                    found[key] = m.group(1)
    return found


def duplicated_lines(text: str) -> list[str]:
    """Lines repeated immediately (R12 bosch: every line written twice); rules skipped."""
    lines = [ln.strip() for ln in text.splitlines()]
    return [line for prev, line in zip(lines, lines[1:])
            if line and line == prev and line.rsplit(":", 1)[-1].strip(" -")]


def parse_claims(text: str) -> Claims:
    """Parse a results.txt of either runner; unknown lines are ignored."""
    runner = "eembc" if eembc.is_eembc_log(text) else "mlc"
    if runner == "eembc":
        c = _from_eembc(eembc.parse_results(text))
    else:
        c = _from_mlc(text)
    c.runner = runner
    c.sww = parse_sww(text)
    c.official = official_values(text)
    c.duplicated_lines = duplicated_lines(text)
    return c


def _from_eembc(r: eembc.EembcResults) -> Claims:
    c = Claims(median_throughput=r.median_throughput, median_energy=r.median_energy,
               top1=r.top1, auc=r.auc)
    for w in r.perf_windows:
        c.perf_windows.append({**w, "met": w["window"] not in r.runtime_errors})
    c.energy_windows = [dict(w) for w in r.energy_windows]
    c.runner_errors = [f"window {k}: {eembc.RUNTIME_ERROR}" for k in sorted(set(r.runtime_errors))]
    c.repeated_windows = r.repeated_windows
    return c


def _from_mlc(text: str) -> Claims:
    r = mlc.parse_results_txt(text)
    c = Claims(median_throughput=r.median_throughput, top1=r.top1, auc=r.auc, stamp=r.stamp)
    c.perf_windows = [dict(w) for w in r.windows]
    c.runner_errors = list(r.errors or [])
    _mlc_energy(text, c)
    return c


def _mlc_energy(text: str, c: Claims) -> None:
    if "Energy data for trial " not in text and "Median energy cost is" not in text:
        return  # not an energy results.txt: no line below can match
    for raw in text.splitlines():
        line = raw.strip()
        w = c.energy_windows[-1] if c.energy_windows else None
        if m := _RE_TRIAL.match(line):
            c.energy_windows.append({"window": int(m.group(1)), "below_min": False})
        elif (m := _RE_ELAPSED.match(line)) and w is not None:
            w["duration_s"] = float(m.group(1))
            w["below_min"] = bool(m.group(2))
        elif (m := _RE_INFS.match(line)) and w is not None:
            w["iterations"] = int(m.group(1))
        elif (m := _RE_POWER_MW.match(line)) and w is not None:
            w["power_mw"] = float(m.group(1))
        elif (m := _RE_TOTAL.match(line)) and w is not None:
            w["energy_uj"] = float(m.group(1))
        elif (m := _RE_EPI.match(line)) and w is not None:
            w["uj_per_inf"] = float(m.group(1))
        elif m := _RE_MEDIAN_E.match(line):
            c.median_energy = float(m.group(1))


def parse_sww(text: str) -> SwwClaims:
    """The sww accuracy / duty-cycle / period / throughput lines (last one of each wins)."""
    out = SwwClaims()
    if not any(lead in text for lead in _SWW_LEADS):  # no sww line (every other benchmark)
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if m := _RE_SWW_ACC.match(line):
            out.tp, out.fn, out.fp = (int(g) for g in m.groups())
            out.text["accuracy"] = line
        for name, pattern in (("duty_cycle", _RE_SWW_DUTY), ("period", _RE_SWW_PERIOD),
                              ("throughput", _RE_SWW_TPUT)):
            if m := pattern.match(line):
                try:
                    setattr(out, name, float(m.group(1)))
                except ValueError:  # "1.2.3": present but not a number
                    setattr(out, name, None)
                out.text[name] = m.group(1)
    return out


# -- MLCommons log.txt: the per-infer blocks and the firmware identity (protocol.md 6.2) ----

# 0726.010201 ulp-mlperf:   Runtime      :     10.862 sec.
_RE_LOG_WINDOW = re.compile(r"^\d{4}\.\d{6} ulp-mlperf: Performance results for window (\d+):$")
_RE_LOG_INFS = re.compile(r"^\d{4}\.\d{6} ulp-mlperf:   # Inferences :\s+(\d+)$")
_RE_LOG_RUNTIME = re.compile(r"^\d{4}\.\d{6} ulp-mlperf:   Runtime      :\s+([0-9.]+) sec\.$")
# Device profile retrieved: ULPMark for tinyML Firmware V0.0.1
_RE_IDENT = re.compile(r"Device (name|profile|model) retrieved: ([^\n]*)")


def mlc_log_windows(text: str) -> list[dict[str, Any]]:
    """Per-infer blocks of an MLCommons log.txt (runtime printed with 3 decimals)."""
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if m := _RE_LOG_WINDOW.match(line):
            out.append({"window": int(m.group(1))})
        elif (m := _RE_LOG_INFS.match(line)) and out:
            out[-1]["iterations"] = int(m.group(1))
        elif (m := _RE_LOG_RUNTIME.match(line)) and out:
            out[-1]["runtime_s"] = float(m.group(1))
    return out


def mlc_identity(text: str) -> dict[str, str]:
    """Firmware identity lines of an MLCommons log.txt (last one of each kind)."""
    out: dict[str, str] = {}
    for m in _RE_IDENT.finditer(text):  # a literal-prefix scan, not a loop over lines
        start = text.rfind("\n", 0, m.start()) + 1
        if not text[start:m.start()].strip():  # the line starts with it
            out[m.group(1)] = m.group(2).strip()
    return out
