"""The wheel carries everything a pip-installed tinyperf needs at run time.

``tinyperf firmware build`` and ``qemu://``/``host://`` links compile the C sources from the
installed ``firmware_interface`` package, the demo runs read the committed demo data, and the
checker loads its YAML rules: all of it must be package data, not only present in a checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_C_SUFFIXES = {".c", ".h", ".ld", ".def"}


def _runtime_files() -> set[str]:
    fw = REPO / "firmware_interface"
    files = {p for p in fw.rglob("*") if p.is_file() and p.suffix in _C_SUFFIXES
             and "build" not in p.relative_to(fw).parts}
    files |= {fw / "Makefile", REPO / "rules" / "README.md"}
    files |= set((REPO / "rules" / "data").glob("*.yaml"))
    files |= set((REPO / "reference_models" / "demo_data").rglob("*.bin"))
    files |= set((REPO / "reference_models" / "demo_data").rglob("*.csv"))
    files.add(REPO / "reference_models" / "registry.yaml")
    # each top-level folder installs as tinyperf/<folder>/
    return {f"tinyperf/{p.relative_to(REPO).as_posix()}" for p in files}


@pytest.mark.timeout(300)
def test_wheel_contains_firmware_sources_rules_and_demo_data(tmp_path: Path) -> None:
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "demo_sessions", "sessions",
        ".pytest_cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=280)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    [wheel] = tmp_path.glob("tinyperf-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(_runtime_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    assert not [n for n in names if "/build/" in n or n.endswith((".o", ".elf"))]
    # one import name: nothing outside tinyperf/ but the wheel's own metadata
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"tinyperf"}
    # and nothing a pip user does not need: no tests, benchmarks, docs or bytecode ...
    files = {n for n in names if not n.split("/")[0].endswith(".dist-info")}
    stray = sorted(n for n in files
                   if n.startswith(("tinyperf/tests/", "tinyperf/benchmarks/", "tinyperf/docs/"))
                   or n.endswith((".pyc", ".pyo")) or "/__pycache__/" in n
                   or (n.rsplit("/", 1)[-1].startswith(("test_", "conftest"))
                       and n.endswith(".py")))
    assert not stray, f"not for the wheel: {stray}"
    # ... and no data file beyond the runtime files and their READMEs
    docs = {"tinyperf/py.typed", "tinyperf/firmware_interface/README.md"} | {
        f"tinyperf/reference_models/demo_data/{p.name}"
        for p in (REPO / "reference_models" / "demo_data").glob("*.md")}
    extra = sorted(n for n in files - _runtime_files() - docs if not n.endswith(".py"))
    assert not extra, f"unexpected data files in the wheel: {extra}"
