"""The C unit tests of the protocol layer, built with make and run on the host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import make, require_toolchain

SENTINEL = "~~~ALL TESTS PASSED~~~"


def _sanitizers_work(build: Path) -> bool:
    probe = build / "probe.c"
    probe.write_text("int main(void) { return 0; }\n")
    proc = subprocess.run(["cc", "-fsanitize=address,undefined", str(probe), "-o",
                           str(build / "probe")], capture_output=True, timeout=60)
    return proc.returncode == 0 and subprocess.run([str(build / "probe")]).returncode == 0


def test_protocol_unit_tests_pass(tmp_path: Path) -> None:
    require_toolchain()
    out = make(tmp_path, "test").stdout
    assert out.rstrip().splitlines()[-1] == SENTINEL, out


def test_protocol_unit_tests_pass_under_sanitizers(tmp_path: Path) -> None:
    require_toolchain()
    if not _sanitizers_work(tmp_path):
        pytest.skip("cc cannot build/run -fsanitize=address,undefined programs here")
    out = make(tmp_path, "test-asan").stdout
    assert out.rstrip().splitlines()[-1] == SENTINEL, out
