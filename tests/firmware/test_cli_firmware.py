"""``tinyperf firmware build|run|info``.

The parser is built here: adding "firmware" to ``SUBCOMMANDS`` is the lead's edit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tinyperf.firmware_interface.host import ENV_FIRMWARE_DIR
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link

from tinyperf.cli import firmware

from .conftest import REPO, require_toolchain
from .qemu import require_qemu


def tinyperf_firmware(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    firmware.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["firmware", *argv])
    return int(args.handler(args))


@pytest.fixture(scope="module")
def fw_cache(tmp_path_factory: pytest.TempPathFactory, reference_dir: Path) -> Iterator[Path]:
    require_toolchain()
    cache = tmp_path_factory.mktemp("fw_cli_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_FIRMWARE_DIR, str(cache))
        mp.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
        yield cache


def test_build_host_standin(fw_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tinyperf_firmware("build", "--target", "host", "--model", "standin") == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == fw_cache / "host" / "tinyperf-dut" and os.access(path, os.X_OK)


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fw_cache")
def test_info_reports_footprint_of_host_and_qemu(capsys: pytest.CaptureFixture[str]) -> None:
    require_qemu()
    assert tinyperf_firmware("info", "--json") == 0
    rows = {r["target"]: r for r in json.loads(capsys.readouterr().out)}
    for r in rows.values():
        assert r["model"] == "ad01"
        assert r["flash_used"] == r["text"] + r["data"]
        assert r["ram_used"] == r["data"] + r["bss"]
        # the ad01 weights (~270 KB of int8) are in read-only data
        assert 250_000 < r["text"] < 600_000
    q = rows["qemu"]
    assert (q["flash_size"], q["ram_size"], q["stack_reserved"]) == (1024 * 1024, 320 * 1024,
                                                                     16 * 1024)
    assert q["flash_used"] < q["flash_size"] and q["ram_used"] + 16 * 1024 < q["ram_size"]
    assert rows["host"]["flash_size"] is None  # no linker-script regions on the host
    # the same numbers as the toolchain's own size tool
    out = subprocess.run(["arm-none-eabi-size", q["binary"]], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1].split()
    assert [int(x) for x in out[:3]] == [q["text"], q["data"], q["bss"]]
    assert tinyperf_firmware("info", "--target", "qemu") == 0
    text = capsys.readouterr().out
    assert "% of 1024.0 KiB" in text and "% of 320.0 KiB" in text


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fw_cache")
def test_run_prints_link_serves_and_stops_on_ctrl_c() -> None:
    require_qemu()
    code = ("import argparse, sys\nfrom tinyperf.cli import firmware\n"
            "p = argparse.ArgumentParser(); firmware.register(p.add_subparsers())\n"
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, "firmware", "run", "--port", "qemu",
                             "--model", "ad01"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("link: socket://127.0.0.1:"), (line, proc.stderr)
        url = line.split()[1]
        link = open_link(url)
        try:
            assert Dut(link).identify().model == "ad01"
        finally:
            link.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)
    host, port = url.removeprefix("socket://").split(":")
    with pytest.raises(OSError):  # QEMU is gone with the command
        socket.create_connection((host, int(port)), timeout=1).close()
