"""The farm scheduler on the small-lab path: a place file, virtual DUTs on real ptys, real
``tinyperf run`` jobs. No coordinator needed, nothing mocked."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import serial

from tinyperf.farm.journal import FarmJournal
from tinyperf.farm.matrix import parse_matrix
from tinyperf.farm.places import PlaceFile
from tinyperf.farm.scheduler import Farm
from tinyperf.farm.virtual_lab import VirtualLab

MATRIX = """\
defaults:
  dataset: {data}
  job_timeout: 100
jobs:
  - tags: {{bench: kws}}
    benchmark: kws01
    modes: [accuracy, performance]
    iterations: auto
  - place: broken
    benchmark: kws01
  - place: nowhere
    benchmark: kws01
  - tags: {{bench: ic}}
    benchmark: ic01
"""


@pytest.fixture
def boards(tmp_path: Path):
    with VirtualLab(tmp_path / "lab", Path("/nonexistent")) as lab:
        lab.workdir.mkdir()
        lab.add_dut("kws-a", "local", "kws01")
        lab.add_dut("kws-b", "local", "kws01")
        yield lab


def _place_file(lab: VirtualLab, broken_port: str) -> Path:
    path = lab.place_file()
    text = path.read_text() + f"  broken:\n    tags: {{bench: none}}\n    dut: {broken_port}\n"
    path.write_text(text)
    return path


def test_parallel_jobs_journal_and_failures(boards: VirtualLab, small_dataset: Path,
                                            tmp_path: Path) -> None:
    jobs = parse_matrix(MATRIX.format(data=small_dataset), tmp_path / "m.yaml")
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def on_event(place: str, message: str) -> None:
        with lock:
            events.append((place, message))

    source = PlaceFile(_place_file(boards, str(tmp_path / "no-such-port")))
    result = Farm(jobs, source, tmp_path / "run", on_event=on_event).run()
    states = {j: (p, o.state) for j, (p, o) in result.outcomes.items()}
    # the two kws jobs ran, one per kws board at a time
    assert states["01-kws01-accuracy"][1] == "done"
    assert states["01-kws01-performance"][1] == "done"
    assert {states["01-kws01-accuracy"][0], states["01-kws01-performance"][0]} <= \
        {"kws-a", "kws-b"}
    failed = result.failed
    assert "cannot open" in failed["02-kws01-accuracy"][1].reason
    assert "no place named 'nowhere'" in failed["03-kws01-accuracy"][1].reason
    assert "no place matches tags bench=ic" in failed["04-ic01-accuracy"][1].reason
    journal = FarmJournal(tmp_path / "run").states()
    assert journal["01-kws01-accuracy"].state == "done"
    session = Path(journal["01-kws01-accuracy"].session)
    assert (session / "results.txt").exists() and session.is_relative_to(tmp_path / "run")
    acquired = [p for p, m in events if m == "acquired"]
    assert sorted(set(acquired)) == ["broken", "kws-a", "kws-b"] or \
        sorted(set(acquired)) == ["broken", "kws-a"]  # one board may run both kws jobs
    assert all(m != "acquired" or p != "nowhere" for p, m in events)


def test_cli_resume_reruns_only_what_failed(boards: VirtualLab, small_dataset: Path,
                                            tmp_path: Path) -> None:
    matrix = tmp_path / "m.yaml"
    matrix.write_text("jobs:\n  - place: kws-a\n    benchmark: kws01\n"
                      f"    dataset: {small_dataset}\n"
                      "  - place: broken\n    benchmark: kws01\n"
                      f"    dataset: {small_dataset}\n")
    places = _place_file(boards, str(tmp_path / "no-such-port"))
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "tinyperf", "farm"]
    first = subprocess.run([*cmd, "run", str(matrix), "--place-file", str(places),
                            "--output-dir", str(run_dir), "--parallel", "1"],
                           capture_output=True, text=True, timeout=110, check=False)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "02-kws01-accuracy" in first.stdout and "cannot open" in first.stdout
    assert "1 of 2 job(s) valid" in first.stdout
    # the board is plugged in where the place file now says
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(places.read_text().replace(str(tmp_path / "no-such-port"),
                                                boards.boards[1].ports["dut"]))
    again = subprocess.run([*cmd, "run", "--resume", str(run_dir), "--place-file", str(fixed)],
                           capture_output=True, text=True, timeout=110, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "01-kws01-accuracy: done earlier, kept" in again.stdout
    assert "1 job(s)" in again.stdout and "1 of 1 job(s) valid" in again.stdout
    status = subprocess.run([*cmd, "status", "--place-file", str(fixed)], capture_output=True,
                            text=True, timeout=60, check=True)
    assert "3 place(s)" in status.stdout and "bench=kws" in status.stdout


def test_bad_matrix_fails_before_anything_is_written(tmp_path: Path) -> None:
    matrix = tmp_path / "m.yaml"
    matrix.write_text("jobs:\n  - place: a\n    benchmark: kws01\n    dataset: nope\n")
    proc = subprocess.run([sys.executable, "-m", "tinyperf", "farm", "run", str(matrix),
                           "--place-file", "p.yaml", "--output-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert f"{matrix}:2: [dataset] dataset folder" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_default_install_keeps_pyserial() -> None:
    """labgrid's pyserial fork lives in the farm's tool venv, never in tinyperf's."""
    assert importlib.metadata.version("pyserial")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.version("pyserial-labgrid")
    with pytest.raises(ImportError):
        __import__("labgrid")
    assert Path(serial.__file__).parent.parent == \
        Path(importlib.metadata.distribution("pyserial").locate_file("serial")).parent
