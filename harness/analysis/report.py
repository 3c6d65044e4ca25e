"""Session reports: data first (``Report``), then HTML (plots as base64 PNG) or Markdown.

``build_report`` turns ``SessionRecord``s into sections of figures, tables and plots. Plots
are matplotlib (Agg backend) PNGs drawn only when the renderer needs them (HTML). What a
session does not carry (energy, latency, footprint) is left out, not shown empty.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tinyperf.formats import metrics
from tinyperf.harness.analysis.intervals import Interval, energy_interval
from tinyperf.harness.analysis.session_reader import SessionRecord


@dataclass
class Plot:
    """A figure to draw: ``draw(ax_or_fig)`` is called only when rendered."""

    caption: str
    draw: Callable[[Any], None]
    size: tuple[float, float] = (6.0, 3.2)
    png: bytes | None = None


@dataclass
class Section:
    """A heading, a table of (figure, value, interval) rows, free text lines and plots."""

    title: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)


@dataclass
class Report:
    """A whole report; ``plot_seconds`` accumulates the time spent drawing."""

    title: str
    sections: list[Section]
    plot_seconds: float = 0.0


# -- helpers ------------------------------------------------------------------------------------


def _iv(iv: Interval | None, digits: int = 3, scale: float = 1.0) -> str:
    if iv is None:
        return ""
    return (f"[{iv.low * scale:.{digits}f}, {iv.high * scale:.{digits}f}] "
            f"({100 * iv.confidence:.2f} %, {iv.method})")


def class_names(model: str, count: int) -> list[str]:
    """kws01 keywords when they fit, else class indices."""
    if model.startswith("kws") and count == 12:
        try:
            from tinyperf.reference_models.bins import KWS_LABELS
            return list(KWS_LABELS)
        except ImportError:  # pragma: no cover - the package ships with tinyperf
            pass
    return [str(i) for i in range(count)]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted (argmax) class; counts of files."""
    m = np.zeros((classes, classes), dtype=int)
    np.add.at(m, (y_true.astype(int), np.argmax(y_pred, axis=1)), 1)
    return m


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates over every distinct threshold (descending)."""
    order = np.argsort(-scores, kind="mergesort")
    y, s = y_true[order].astype(int), scores[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps, fps = np.cumsum(y)[distinct], np.cumsum(1 - y)[distinct]
    return np.r_[0, fps / max(fps[-1], 1)], np.r_[0, tps / max(tps[-1], 1)]


# -- per-session sections ------------------------------------------------------------------------


def _performance(rec: SessionRecord, sec: Section) -> None:
    thr = rec.window_throughput
    if not thr:
        return
    iv = rec.intervals.get("throughput")
    sec.rows.append(("median throughput", f"{np.median(thr):.3f} inf/s", _iv(iv)))
    sec.rows.append(("windows", str(len(thr)), f"min {min(thr):.3f} · max {max(thr):.3f}"))
    sec.lines.append("Per window (inf/s): " + ", ".join(f"{v:.3f}" for v in thr))

    def draw(ax: Any) -> None:
        k = np.arange(1, len(thr) + 1)
        ax.plot(k, thr, "o-", color="tab:blue", label="window throughput")
        ax.axhline(float(np.median(thr)), color="tab:green", label="median")
        if iv is not None:
            ax.axhspan(iv.low, iv.high, color="tab:green", alpha=0.15,
                       label=f"median interval ({100 * iv.confidence:.2f} %)")
        ax.set_xlabel("window")
        ax.set_ylabel("inferences / s")
        ax.set_xticks(k)
        ax.legend(fontsize=7)

    sec.plots.append(Plot(f"{rec.model} throughput per window", draw))


def _accuracy(rec: SessionRecord, sec: Section) -> None:
    s = rec.scores
    if s is None:
        return
    ivs = rec.intervals
    if rec.top1 is not None:
        name = "Top 1% (runner)" if s.y_pred.shape[1] > 1 else \
            "Top 1% (runner's ad01 figure: best (P+R)/2)"
        sec.rows.append((name, f"{rec.top1:.1f} %", _iv(ivs.get("top1"), 1)))
    if rec.auc is not None:
        sec.rows.append(("AUC", f"{rec.auc:.3f}", _iv(ivs.get("auc"))))
    sec.rows.append(("files", str(len(s.files)), f"{int(sum(s.windows))} windows"))
    if s.y_pred.shape[1] > 1:
        _confusion_plot(rec, s, sec)
    else:
        _roc_plot(rec, s, sec)


def _confusion_plot(rec: SessionRecord, s: metrics.FileScores, sec: Section) -> None:
    n = s.y_pred.shape[1]
    m = confusion(s.y_true, s.y_pred, n)
    names = class_names(rec.model, n)
    sec.tables.append((["true \\ predicted", *names],
                       [[names[i], *map(str, m[i])] for i in range(n)]))

    def draw(ax: Any) -> None:
        ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(n), names, rotation=60, fontsize=7)
        ax.set_yticks(range(n), names, fontsize=7)
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if m[i, j] > m.max() / 2 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")

    sec.plots.append(Plot(f"{rec.model} confusion matrix (files)", draw, (5.5, 5.0)))


def _roc_plot(rec: SessionRecord, s: metrics.FileScores, sec: Section) -> None:
    fpr, tpr = roc_curve(s.y_true, s.y_pred[:, 0])

    def draw(ax: Any) -> None:
        ax.plot(fpr, tpr, drawstyle="steps-post", color="tab:red",
                label=f"AUC {rec.auc:.3f}" if rec.auc is not None else None)
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="lower right")

    sec.plots.append(Plot(f"{rec.model} ROC curve", draw, (4.2, 4.0)))


def _energy(rec: SessionRecord, sec: Section) -> None:
    e = rec.energy
    if e is None or not e.uj_per_inference:
        return
    ei = energy_interval(e.uj_per_inference, e.uncertainty_uj)
    u = "unknown" if ei.monitor_u is None else f"± {ei.monitor_u:.3f} µJ (k=1)"
    sec.rows.append(("median energy", f"{ei.median:.3f} µJ/inf", _iv(ei.combined)))
    sec.rows.append(("energy windows", str(ei.n),
                     f"min {ei.minimum:.3f} · max {ei.maximum:.3f} · monitor {u}"))

    def draw(ax: Any) -> None:
        if e.trace_t_s and e.trace_power_w:
            ax.plot(e.trace_t_s, np.asarray(e.trace_power_w) * 1e3, lw=0.6)
            for t0, t1 in e.windows_s:
                ax.axvspan(t0, t1, color="tab:orange", alpha=0.15)
            ax.set_xlabel("time (s)")
            ax.set_ylabel("power (mW)")
        else:
            k = np.arange(1, len(e.uj_per_inference) + 1)
            err = [0.0 if v is None else v for v in e.uncertainty_uj]
            ax.errorbar(k, e.uj_per_inference, yerr=err if any(err) else None, fmt="o-")
            ax.set_xlabel("window")
            ax.set_ylabel("µJ / inference")
            ax.set_xticks(k)

    sec.plots.append(Plot(f"{rec.model} energy", draw))


def _latency(rec: SessionRecord, sec: Section) -> None:
    stats = {k: rec.latency_ms(k) for k in ("p50", "p90", "p99", "max")}
    if all(v is None for v in stats.values()):
        return
    sec.rows.append(("latency", " · ".join(f"{k} {v:.3f} ms" for k, v in stats.items()
                                          if v is not None), ""))
    lat = rec.latency
    if lat is None or not lat.ms:
        return

    def draw(ax: Any) -> None:
        ax.hist(lat.ms, bins=50, color="tab:purple", alpha=0.7)
        for k in ("p50", "p99"):
            v = stats[k]
            if v is not None:
                ax.axvline(v, color="black", ls="--")
                ax.text(v, ax.get_ylim()[1] * 0.9, k, fontsize=7)
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("inferences")

    sec.plots.append(Plot(f"{rec.model} latency histogram", draw))


def session_section(rec: SessionRecord) -> Section:
    """Everything the report shows for one session."""
    sec = Section(f"{rec.model} · {rec.mode} · {rec.board} — {rec.name}")
    sec.rows.append(("valid", "yes" if rec.valid else "no", "; ".join(rec.reasons)))
    for part in (_performance, _accuracy, _energy, _latency):
        part(rec, sec)
    return sec


def footprint_section(info: dict[str, Any]) -> Section:
    """A ``models info``-style dict: its scalar entries and op counts."""
    sec = Section("Footprint")
    for key, value in info.items():
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            sec.rows.append((key, str(value), ""))
    ops = info.get("op_counts")
    if isinstance(ops, dict):
        sec.tables.append((["operator", "count"], [[k, str(v)] for k, v in ops.items()]))
    return sec


def _accuracy_value(rec: SessionRecord) -> float | None:
    if rec.scores is not None and rec.scores.y_pred.shape[1] == 1:
        return None if rec.auc is None else 100 * rec.auc
    return rec.top1


def comparison_section(records: Sequence[SessionRecord]) -> Section | None:
    """One point per model/board: latest accuracy vs latest throughput (energy as colour)."""
    points: dict[tuple[str, str], dict[str, float | None]] = {}
    for rec in records:  # later sessions override earlier ones
        p = points.setdefault((rec.model, rec.board), {})
        if rec.mode == "accuracy":
            p["accuracy"] = _accuracy_value(rec)
        elif rec.median_throughput is not None:
            p["throughput"] = rec.median_throughput
        if rec.energy_median_uj is not None:
            p["energy"] = rec.energy_median_uj
    if len(records) < 2 or not points:
        return None
    sec = Section("Comparison")
    header = ["model", "board", "throughput (inf/s)", "accuracy (top-1 % / AUC x100)",
              "energy (µJ/inf)"]
    body = [[m, b, *(("-" if v.get(k) is None else f"{v[k]:.3f}")
                     for k in ("throughput", "accuracy", "energy"))]
            for (m, b), v in points.items()]
    sec.tables.append((header, body))
    full = {k: v for k, v in points.items()
            if v.get("throughput") is not None and v.get("accuracy") is not None}
    if full:
        def draw(ax: Any) -> None:
            for (m, b), v in full.items():
                ax.scatter(v["throughput"], v["accuracy"], s=60)
                label = f"{m} / {b}" + (f" ({v['energy']:.1f} µJ)" if v.get("energy") else "")
                ax.annotate(label, (v["throughput"], v["accuracy"]), fontsize=7,
                            xytext=(4, 4), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_xlabel("median throughput (inf/s, log)")
            ax.set_ylabel("accuracy (top-1 % or AUC x100)")

        sec.plots.append(Plot("accuracy vs throughput, one point per model/board", draw))
    return sec


def build_report(records: Sequence[SessionRecord],
                 footprint: dict[str, Any] | None = None) -> Report:
    """The report's data: one section per session, footprint, comparison."""
    sections = [session_section(r) for r in records]
    if footprint:
        sections.append(footprint_section(footprint))
    comp = comparison_section(records)
    if comp is not None:
        sections.append(comp)
    return Report(f"tinyperf report — {len(records)} session(s)", sections)


# -- rendering ----------------------------------------------------------------------------------


def draw_plots(report: Report, dpi: int = 80) -> None:
    """Render every plot of ``report`` to PNG bytes (once), timing it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    for sec in report.sections:
        for plot in sec.plots:
            if plot.png is not None:
                continue
            fig, ax = plt.subplots(figsize=plot.size)
            plot.draw(ax)
            ax.set_title(plot.caption, fontsize=9)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            plt.close(fig)
            plot.png = buf.getvalue()
    report.plot_seconds += time.perf_counter() - start


_CSS = """body{font-family:sans-serif;max-width:60em;margin:1em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;
font-size:.9em}th{background:#eee}img{display:block;margin:.5em 0;max-width:100%}
figcaption{font-size:.8em;color:#555}"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: Report) -> str:
    """One self-contained HTML page; plots inline as ``data:image/png;base64``."""
    draw_plots(report)
    e = html.escape
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
           f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(report.title)}</h1>"]
    for sec in report.sections:
        out.append(f"<h2>{e(sec.title)}</h2>")
        if sec.rows:
            out.append(_html_table(["figure", "value", "interval / note"],
                                   [list(r) for r in sec.rows]))
        out += [f"<p>{e(line)}</p>" for line in sec.lines]
        for plot in sec.plots:
            data = base64.b64encode(plot.png or b"").decode()
            out.append(f"<figure><img alt='{e(plot.caption)}' src='data:image/png;base64,"
                       f"{data}'><figcaption>{e(plot.caption)}</figcaption></figure>")
        out += [_html_table(h, r) for h, r in sec.tables]
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md_cell, r)) + " |" for r in rows]
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    """Markdown for a pull-request comment: the same tables, no images."""
    out = [f"# {report.title}", ""]
    for sec in report.sections:
        out += [f"## {sec.title}", ""]
        if sec.rows:
            out += _md_table(["figure", "value", "interval / note"], [list(r) for r in sec.rows])
        for line in sec.lines:
            out += [line, ""]
        for header, rows in sec.tables:
            out += _md_table(header, rows)
    return "\n".join(out).rstrip() + "\n"
