"""harness.analysis.report: HTML rendered by real headless chromium; Markdown against a
golden file."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tinyperf.harness.analysis import report
from tinyperf.harness.analysis.session_reader import read_session

from tinyperf.cli import report as report_cli

from .conftest import add_energy, add_latency, copy_session

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "report_golden.md"
FOOTPRINT = {"file_bytes": 53936, "op_count": 13, "parameters": 38000,
             "op_counts": {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4}, "inputs": [{"x": 1}]}

PROBE = """<script>window.addEventListener('load', () => {
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = [...document.images].map(
    i => (i.complete ? 'ok' : 'pending') + ':' + i.naturalWidth + 'x' + i.naturalHeight
  ).join(' ');
  document.body.appendChild(out); });</script>"""


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    sub = parser.add_subparsers(dest="command")
    report_cli.register(sub)
    args = parser.parse_args(["report", *argv])
    return args.handler(args)


def mask(text: str) -> str:
    """Numbers (and so timestamps in session names) become '#'."""
    return re.sub(r"\d+(\.\d+)?", "#", text)


@pytest.fixture(scope="module")
def extended(sessions, tmp_path_factory):
    """kws01 performance with energy.json and latency.csv (what energy/latency modes add)."""
    folder = copy_session(sessions.kws_perf, tmp_path_factory.mktemp("ext") / "s")
    add_energy(folder, [50.0, 50.2, 49.9, 50.1, 50.0])
    add_latency(folder, [43.0 + 0.01 * (i % 50) for i in range(300)])
    return folder


def test_markdown_matches_golden(sessions):
    recs = [read_session(p) for p in (sessions.kws_perf, sessions.kws_acc, sessions.ad_perf,
                                      sessions.ad_acc)]
    text = report.render_markdown(report.build_report(recs, footprint=FOOTPRINT))
    assert "## Comparison" in text and "| kws01 | unspecified |" in text
    if os.environ.get("TINYPERF_UPDATE_GOLDEN"):
        GOLDEN.write_text(mask(text))
    assert mask(text) == GOLDEN.read_text()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")


def test_html_renders_every_plot_in_headless_chromium(sessions, extended, tmp_path):
    out = tmp_path / "report.html"
    assert _cli([str(sessions.kws_perf), str(sessions.kws_acc), str(sessions.ad_perf),
                 str(sessions.ad_acc), str(extended), "-o", str(out)]) == 0
    html = out.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    expected = html.count("<img ")
    # 2 throughput, confusion, ROC, throughput + energy + latency (extended), scatter
    assert expected == 8
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=60).stdout
    found = re.search(r'<pre id="probe">([^<]*)</pre>', dom)
    assert found, dom[-500:]
    images = found.group(1).split()
    assert len(images) == expected
    for img in images:
        state, size = img.split(":")
        width, height = map(int, size.split("x"))
        assert state == "ok" and width > 100 and height > 100, images


def test_markdown_cli_to_stdout_and_sections_skip_what_is_absent(sessions, extended, capsys):
    assert _cli([str(sessions.kws_perf), "--format", "md"]) == 0
    text = capsys.readouterr().out
    assert "median throughput" in text and "energy" not in text and "Comparison" not in text
    assert _cli([str(extended), "--format", "md"]) == 0
    text = capsys.readouterr().out
    assert "median energy | 50.000 µJ/inf" in text and "latency | p50" in text
