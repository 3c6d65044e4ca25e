"""Ctrl-C during a run: the session is kept and marked, the resume command is printed, and
the resumed run finishes with the same results as an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import SessionError
from tinyperf.harness.analysis.session_reader import read_session
from tinyperf.reference_models.demo import demo_subset

from tests.session_kill import journal_windows


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinyperf.cli.main", *args]


@pytest.mark.timeout(180)
def test_ctrl_c_keeps_marks_and_resumes(reference_dir, tmp_path):
    data = demo_subset(tmp_path / "data", "kws01", 30)
    dut = make_virtual_dut("kws01", throughput=23.0, reference_dir=reference_dir)
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    with SimServer(dut, pty=True, baud=115200) as server:  # ~0.1 s per window
        common = ["run", "--port", server.url, "--mode", "accuracy", "--dataset-path",
                  str(data), "--no-progress"]
        proc = subprocess.Popen(_cli(*common, "--output-dir", str(tmp_path / "s")), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            found = list((tmp_path / "s").glob("*"))
            if found and journal_windows(found[0]) >= 5:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        [session] = list((tmp_path / "s").iterdir())
        assert f"tinyperf run --resume {session}" in err
        run = json.loads((session / "run.json").read_text())
        assert run["interrupted"] is True and run["valid"] is False
        assert "interrupted by the user" in (session / "log.txt").read_text()
        with pytest.raises(SessionError, match="interrupted run"):
            read_session(session)
        done = subprocess.run(_cli("run", "--resume", str(session), "--port", server.url,
                                   "--no-progress"),
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    run = json.loads((session / "run.json").read_text())
    assert run["valid"] is True and "interrupted" not in run
    assert read_session(session).figures["top1"] == run["figures"]["top1"]
