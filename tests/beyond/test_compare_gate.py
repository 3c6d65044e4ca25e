"""compare fails the gate on NOT VALID sessions and on model/board/firmware mismatches
unless --allow-invalid / --allow-mismatch; the slo.yaml format is documented."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from tinyperf.harness.analysis import compare

from tinyperf.cli import compare as compare_cli

from .conftest import copy_session


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyperf")
    sub = parser.add_subparsers(dest="command")
    compare_cli.register(sub)
    return parser


def _cli(argv: list[str]) -> int:
    args = _parser().parse_args(["compare", *argv])
    return args.handler(args)


def _edit_run(folder: Path, **changes) -> Path:
    run = json.loads((folder / "run.json").read_text())
    for key, value in changes.items():
        if key in ("vendor", "firmware"):
            run["identity"][key] = value
        else:
            run[key] = value
    (folder / "run.json").write_text(json.dumps(run))
    return folder


def _invalid(sessions, dst: Path) -> Path:
    return _edit_run(copy_session(sessions.kws_perf_rerun, dst), valid=False,
                     reasons=["performance window 3.0 s < 10 s"])


def test_invalid_candidate_fails_the_gate(sessions, tmp_path, capsys):
    cand = _invalid(sessions, tmp_path / "cand")
    junit = tmp_path / "j.xml"
    rc = _cli([str(sessions.kws_perf), str(cand), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL validity" in out and "NOT VALID" in out and "3.0 s < 10 s" in out
    assert "within SLO" not in out and "GATE FAILED" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["validity"].find("failure") is not None


def test_invalid_baseline_fails_too(sessions, tmp_path, capsys):
    base = _invalid(sessions, tmp_path / "base")
    assert _cli([str(base), str(sessions.kws_perf)]) == 1
    assert "baseline" in capsys.readouterr().out


def test_allow_invalid_compares_with_a_warning(sessions, tmp_path, capsys):
    cand = _invalid(sessions, tmp_path / "cand")
    assert _cli([str(sessions.kws_perf), str(cand), "--allow-invalid"]) == 0
    out = capsys.readouterr().out
    assert "WARN validity" in out and "PASS throughput" in out and "within SLO" in out


def test_board_and_firmware_mismatch_fail_unless_allowed(sessions, tmp_path, capsys):
    cand = _edit_run(copy_session(sessions.kws_perf_rerun, tmp_path / "cand"),
                     vendor="st-nucleo", firmware="other fw 2.0")
    assert _cli([str(sessions.kws_perf), str(cand)]) == 1
    out = capsys.readouterr().out
    assert "FAIL board" in out and "st-nucleo" in out and "FAIL firmware" in out
    assert _cli([str(sessions.kws_perf), str(cand), "--allow-mismatch"]) == 0
    out = capsys.readouterr().out
    assert "WARN board" in out and "within SLO" in out


def test_model_mismatch_fails(sessions, capsys):
    assert _cli([str(sessions.kws_perf), str(sessions.ad_perf)]) == 1
    assert "FAIL model" in capsys.readouterr().out


def test_matching_valid_sessions_show_no_gate_lines(sessions, capsys):
    assert _cli([str(sessions.kws_perf), str(sessions.kws_perf_rerun)]) == 0
    out = capsys.readouterr().out
    assert "validity" not in out and "mismatch" not in out


def test_slo_format_is_documented_and_the_example_parses():
    help_text = _parser()._subparsers._group_actions[0].choices["compare"].format_help()
    assert "example:" in help_text and "slo.yaml" in help_text
    doc = compare.__doc__
    assert "slo.yaml" in doc
    block = doc.split("slo.yaml format", 1)[1].split("::", 1)[1].split("\n\n")[1]
    slo = compare.parse_slo(yaml.safe_load(block))
    assert slo.throughput_regress_pct == 3.0 and slo.latency_ms == {"p99": 50.0}
    for key in compare.SLO_SCHEMA:
        assert key in help_text
