"""The public Python API: ``import tinyperf`` and the README's example, run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tinyperf.formats.errors import ConfigError

import tinyperf

REPO = Path(__file__).resolve().parents[2]
REAL_SUBMISSIONS = REPO.parent / "shared" / "fixtures" / "real_submissions"


def readme_example() -> tuple[str, str]:
    """The ``python`` block of README's "Using tinyperf from Python" and the output it
    says it prints."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using tinyperf from Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    printed = re.search(r"prints\n\n```\n(.*?)```", section, re.S)
    assert code and printed, "README: the section needs a python block and its output"
    return code.group(1), printed.group(1)


@pytest.mark.timeout(300)
def test_readme_example_runs_and_prints_what_the_readme_says(tmp_path, reference_dir):
    code, printed = readme_example()
    script = tmp_path / "example.py"
    script.write_text(code)
    env = {**os.environ, "TINYPERF_REFERENCE_DIR": str(reference_dir)}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == printed
    sessions = sorted((tmp_path / "sessions").iterdir())
    assert len(sessions) == 2 and all((s / "results.txt").is_file() for s in sessions)


def test_import_is_light():
    """``import tinyperf`` loads no numpy, interpreter or harness until a function runs."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, tinyperf; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True)
    loaded = proc.stdout
    for heavy in ("numpy", "scipy", "serial", "ai_edge_litert", "tinyperf.harness",
                  "tinyperf.rules"):
        assert f"'{heavy}'" not in loaded


def test_version_matches_the_metadata():
    from importlib.metadata import version

    assert tinyperf.__version__ == version("tinyperf")
    proc = subprocess.run([sys.executable, "-m", "tinyperf", "--version"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == f"tinyperf {tinyperf.__version__}"


@pytest.mark.usefixtures("v13")
def test_check_returns_the_report(reference_dir):
    tree = REAL_SUBMISSIONS / "v1.3"
    report = tinyperf.check(tree, reference_dir=reference_dir)
    assert report.version == "v1.3"
    assert report.rows, "the real v1.3 tree has results"
    assert all(f.rule_id for f in report.findings)
    one = tinyperf.check_rounds(tree, reference_dir=reference_dir)
    assert len(one) == 1 and one[0].ok == report.ok


@pytest.mark.usefixtures("v13", "v11")
def test_check_of_a_folder_of_rounds_points_to_check_rounds(reference_dir):
    with pytest.raises(ConfigError, match="check_rounds"):
        tinyperf.check(REAL_SUBMISSIONS, reference_dir=reference_dir)
    reports = tinyperf.check_rounds(REAL_SUBMISSIONS, reference_dir=reference_dir)
    assert [r.version for r in reports] == ["v1.1", "v1.3"]


def test_check_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        tinyperf.check(tmp_path / "absent")
    with pytest.raises(ConfigError, match="unknown rule id"):
        tinyperf.check(tmp_path, waive=["NOT-A-RULE"])


def test_run_refuses_energy_without_its_bench(tmp_path):
    with pytest.raises(ConfigError, match="interface"):
        tinyperf.run("energy", "", tinyperf.demo_data(), output_dir=tmp_path)


def test_run_with_an_unknown_mode_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="mode"):
        tinyperf.run("speed", "loop://", tinyperf.demo_data(), output_dir=tmp_path)  # type: ignore[arg-type]
