"""The board farm end to end, nothing mocked (issue #15's CI test).

A real labgrid coordinator and two exporters ("hosts" A and B) on 127.0.0.1, ser2net
serving the virtual boards' ptys as RFC 2217, four virtual DUTs (kws01 x2, ad01 x2) and one
virtual energy bench. The matrix runs in parallel; host B's exporter is killed while its
jobs run; the run is resumed once B is back; everything is packaged and checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinyperf.submissions.package import demo_system_values

from tinyperf.farm.journal import FarmJournal
from tinyperf.farm.virtual_lab import VirtualLab

pytestmark = pytest.mark.timeout(300)

MATRIX = """\
defaults:
  dataset: {data}
  modes: [accuracy, performance]
  iterations: auto
  job_timeout: 150
jobs:
  - tags: {{bench: kws}}          # on whichever kws board is free
    benchmark: kws01
    system: kws-virtual
  - place: ad-a
    benchmark: ad01
    modes: [accuracy]
    system: ad-virtual
  - place: ad-b
    benchmark: ad01
    modes: [performance]
    dataset: {perf}
    system: ad-virtual
  - place: bench-1
    benchmark: kws01
    modes: [energy]
    iterations: 230
    energy: {{interface: interface, monitor: monitor, monitor_kind: lpm01a, voltage: 1.8}}
    system: kws-virtual          # the same board type as kws-a/kws-b: one system, 3 modes
"""


@pytest.fixture
def lab(tmp_path: Path, labgrid_python: str):
    with VirtualLab(tmp_path / "lab", Path(labgrid_python).parent) as lab:
        lab.workdir.mkdir()
        lab.add_dut("kws-a", "hostA", "kws01")
        lab.add_dut("kws-b", "hostB", "kws01")
        lab.add_dut("ad-a", "hostA", "ad01")
        lab.add_dut("ad-b", "hostB", "ad01")
        lab.add_energy_bench("bench-1", "hostA")
        lab.start_coordinator()
        lab.start_exporter("hostA")
        lab.start_exporter("hostB")
        lab.create_places()
        lab.wait_resources(labgrid_python)
        yield lab


def _tinyperf(*args: str, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tinyperf", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def _energy_ran(state) -> None:
    """The energy job reached the bench through labgrid (both resources over RFC 2217) and
    its session is valid. The virtual bench sends a window's LPM01A samples in a burst, and
    through pyserial's RFC 2217 client they arrive well after the DUT's reply: the monitor's
    sync must wait for the window's end edge, not a fixed settle time."""
    assert state.place == "bench-1" and state.session, state
    assert state.state == "done", state


def test_matrix_over_two_exporters_kill_one_resume_package(
        lab: VirtualLab, labgrid_python: str, small_dataset: Path, perf_dataset: Path,
        tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(MATRIX.format(data=small_dataset, perf=perf_dataset))
    run_dir = tmp_path / "farm-run"
    common = ("--labgrid-python", labgrid_python)

    status = subprocess.run([sys.executable, "-m", "tinyperf", "farm", "status",
                             "--coordinator", lab.address, *common],
                            capture_output=True, text=True, timeout=60, check=True)
    assert "5 place(s)" in status.stdout and "bench=energy" in status.stdout

    proc = _tinyperf("farm", "run", str(matrix), "--coordinator", lab.address,
                     "--output-dir", str(run_dir), *common)
    journal = FarmJournal(run_dir)
    deadline = time.monotonic() + 120
    sessions = run_dir / "jobs" / "03-ad01-performance" / "sessions"
    while not list(sessions.glob("*/journal.jsonl")):  # host B mid-job: pull its plug
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
        time.sleep(0.1)
    lab.kill_exporter("hostB")
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 1, out

    states = journal.states()
    assert states["03-ad01-performance"].state == "failed", out
    assert "place ad-b lost" in states["03-ad01-performance"].reason, out
    on_a = {j: s for j, s in states.items() if s.place in ("kws-a", "ad-a")}
    assert on_a and all(s.state == "done" for s in on_a.values()), out
    _energy_ran(states["04-kws01-energy"])
    assert "03-ad01-performance" in out and "lost" in out  # the failure table
    killed_session = states["03-ad01-performance"].session
    assert killed_session and (Path(killed_session) / "journal.jsonl").exists()

    # host B comes back (new ser2net ports); only the unfinished jobs run again
    lab.start_exporter("hostB")
    lab.wait_resources(labgrid_python, ("hostB",))
    done_before = {j for j, s in states.items() if s.state == "done"}
    resumed = _tinyperf("farm", "run", "--resume", str(run_dir))
    out2, _ = resumed.communicate(timeout=240)
    assert resumed.returncode in (0, 1), out2
    assert f"resuming {Path(killed_session).name}" in out2  # the killed session goes on
    for job in done_before:
        assert f"{job}: done earlier, kept" in out2
    final = journal.states()
    assert set(final) == {"01-kws01-accuracy", "01-kws01-performance", "02-ad01-accuracy",
                          "03-ad01-performance", "04-kws01-energy"}
    _energy_ran(final.pop("04-kws01-energy"))
    assert all(s.state == "done" for s in final.values()), final
    assert final["03-ad01-performance"].session == killed_session

    values = tmp_path / "systems.yaml"
    values.write_text(json.dumps({"default": demo_system_values()}))
    root = tmp_path / "submission"
    pack = subprocess.run(
        [sys.executable, "-m", "tinyperf", "farm", "package", str(run_dir), "--submitter",
         "farmtest", "--division", "open", "--root", str(root), "--system-values", str(values),
         "--reference-dir", str(small_dataset)],
        capture_output=True, text=True, timeout=120, check=False)
    assert pack.returncode == 0, pack.stdout + pack.stderr
    assert "Verdict: VALID" in pack.stdout
    systems = sorted(p.stem for p in (root / "open" / "farmtest" / "systems").glob("*.json"))
    assert {"kws-virtual", "ad-virtual"} <= set(systems)
    kws = root / "open" / "farmtest" / "results" / "kws-virtual" / "kws"
    assert {p.name for p in kws.iterdir()} >= {"accuracy", "performance", "energy"}
