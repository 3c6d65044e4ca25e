"""kill -9 at random points of accuracy, performance and energy runs, and during a resume.

Each trial kills a real ``tinyperf run`` process at a seeded random command of the run (the
virtual DUT or interface board kills the host when that command arrives, so the point is
exact, not a wall-clock race), optionally kills the first resume the same way, then resumes to
the end. Every resumed session must equal an uninterrupted run (apart from the DUT's lap
timestamps, which move on while a run is dead), and every session file must stay parsable
after every kill. ``make soak``: >= 30 trials; ``make test``: one per mode.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tinyperf.firmware_interface.sim.core import Response
from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.run.session import Journal

from tests.soak import campaign

FULL = os.environ.get("TINYPERF_SOAK_FULL") == "1"
TRIALS = 33 if FULL else 3
MODES = ("accuracy", "performance", "energy")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinyperf.cli.main", *args]


class _Bench:
    """A deterministic DUT (direct, or behind the energy rig's board) that can kill the host
    at its k-th command."""

    def __init__(self, mode: str, reference_dir: Path):
        self.mode = mode
        if mode == "energy":
            self._ctx = virtual_energy_rig("kws01", throughput=20.0, follow_wall=False,
                                           reference_dir=reference_dir)
        else:
            dut = make_virtual_dut("kws01", throughput=200.0, reference_dir=reference_dir,
                                   follow_wall=False)
            self._ctx = SimServer(dut, pty=True, baud=None)
        self.victim: subprocess.Popen[bytes] | None = None
        self.kill_at: int | None = None
        self.seen = 0

    def __enter__(self) -> _Bench:
        self.server = self._ctx.__enter__()
        self.core = self.server.board if self.mode == "energy" else self.server.dut
        passed_on = self.core.execute

        def execute(text: str) -> Any:
            self.seen += 1
            if self.kill_at is not None and self.seen == self.kill_at and self.victim:
                self.victim.send_signal(signal.SIGKILL)
                # the command is swallowed: the board may answer nothing, the DUT an empty reply
                return None if self.mode == "energy" else Response(text, "")
            return passed_on(text)

        self.core.execute = execute  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)

    def args(self, dataset: Path, out: Path) -> list[str]:
        common = ["--dataset-path", str(dataset), "--output-dir", str(out), "--no-progress"]
        if self.mode == "energy":
            return ["run", "--mode", "energy", "--interface", self.server.interface_url,
                    "--monitor", self.server.monitor, "--voltage", "1.8",
                    "--iterations", "220", *common]
        extra = ["--iterations", "2200"] if self.mode == "performance" else []
        return ["run", "--mode", self.mode, "--port", self.server.url, *extra, *common]

    def run(self, argv: list[str], env: dict[str, str], kill_at: int | None) -> int:
        self.seen, self.kill_at = 0, kill_at
        self.victim = subprocess.Popen(_cli(*argv), env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        try:
            return self.victim.wait(timeout=300)
        finally:
            self.kill_at = None


def _comparable(session: Path) -> Any:
    records = json.loads((session / "results.json").read_text())
    for r in records:  # lap values: the DUT clock ran on while the host was dead
        r["infer"].pop("start_time", None)
        r["infer"].pop("end_time", None)
        # the monitor's event ids restart with a new acquisition when no window was
        # journaled before the kill (a known cosmetic difference): compare the figures
        if "power" in r:
            r["power"].pop("timestamps", None)
    energy = session / "energy.json"
    windows = json.loads(energy.read_text())["windows"] if energy.exists() else None
    for w in windows or []:
        w["edges"].pop("start_label", None)
        w["edges"].pop("end_label", None)
    text = [re.sub(r"^\d+\.\d+ ", "", line)  # the runner's per-line time stamps
            for line in (session / "results.txt").read_text().splitlines()]
    return records, text, windows


def _parsable(session: Path) -> None:
    Journal(session / "journal.jsonl").read()  # raises on damage; a torn tail is cut
    (session / "log.txt").read_text()
    for name in ("results.json", "run.json", "energy.json"):
        if (session / name).exists():
            json.loads((session / name).read_text())


@pytest.mark.slow
@pytest.mark.timeout(3600 if FULL else 600)
def test_kill_campaign(reference_dir, tmp_path, capsys):
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    dataset = campaign.subset(tmp_path / "data")
    rng = random.Random(19)
    rows = []
    for trial in range(TRIALS):
        mode = MODES[trial % len(MODES)]
        during_resume = trial % 2 == 1
        with _Bench(mode, reference_dir) as bench:
            assert bench.run(bench.args(dataset, tmp_path / f"{trial}-whole"), env, None) == 0
            total = bench.seen
            [whole] = (tmp_path / f"{trial}-whole").iterdir()
            out = tmp_path / f"{trial}-killed"
            first_kill = rng.randint(3, total - 1)
            rc = bench.run(bench.args(dataset, out), env, first_kill)
            assert rc == -signal.SIGKILL, (mode, first_kill, rc)
            sessions = list(out.iterdir()) if out.exists() else []
            if not sessions:  # killed before the session folder existed: nothing to resume
                rows.append((trial, mode, first_kill, None, "no session yet"))
                continue
            [session] = sessions
            _parsable(session)
            second_kill = None
            resume = ["run", "--resume", str(session), "--no-progress"]
            if mode != "energy":
                resume += ["--port", bench.server.url]
            if during_resume:
                second_kill = rng.randint(3, max(4, total // 2))
                rc = bench.run(resume, env, second_kill)
                _parsable(session)
            rc = bench.run(resume, env, None)
            assert rc == 0, (mode, first_kill, second_kill, bench.victim.stderr.read()[-2000:])
            _parsable(session)
            assert _comparable(session) == _comparable(whole), (mode, first_kill, second_kill)
            rows.append((trial, mode, first_kill, second_kill, "identical"))
    with capsys.disabled():
        print(f"\nkill campaign: {len(rows)} trials")
        for row in rows:
            trial, mode, first, second, verdict = row
            print(f"  trial {trial:2d} {mode:<11} killed at command {first!s:>4}, "
                  f"resume killed at {second!s:>4}: {verdict}")
