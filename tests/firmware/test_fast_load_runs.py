"""End to end: ``tinyperf run --fast-load auto`` against the real C firmware equals ``off``.

The host firmware (``host://kws01``, ``host://ad01``: the int8 runtimes, real compute) runs
the same accuracy session twice through the CLI, once on the ``fl`` fast path and once on
the standard ``db`` path; results.json must be identical apart from the DUT timestamps.
QEMU (``qemu://ad01``, ``qemu://kws01``) runs the fast path and must print exactly what the
host firmware printed on the standard path (same int8 runtimes, bit-exact). The 16-file
ad01 demo set on QEMU is ``slow`` (8 windows a file; every window with
TINYPERF_QEMU_FULL=1) and prints its wall time (issue #16 asks for that number).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tinyperf.firmware_interface.host import ENV_FIRMWARE_DIR, build_host
from tinyperf.firmware_interface.links import start_firmware
from tinyperf.firmware_interface.qemu import build_qemu
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.reference_models.dut_outputs import ad01_file_scores
from tinyperf.reference_models.registry import resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel

from tinyperf.cli.main import main

from .conftest import require_toolchain
from .qemu import require_qemu

WINDOWS_PER_FILE = 196  # (102400 - 2560) / 512 + 1
#: what differs between two runs of the same inputs: the DUT clock readings
_TIMESTAMP_KEYS = {"start_time", "end_time", "elapsed_time", "throughput"}


@pytest.fixture(scope="module")
def fw_cache(tmp_path_factory: pytest.TempPathFactory, reference_dir: Path) -> Iterator[Path]:
    """``host://`` and ``qemu://`` builds go to a temporary firmware cache."""
    require_toolchain()
    cache = tmp_path_factory.mktemp("fl_fw_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_FIRMWARE_DIR, str(cache))
        mp.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
        build_host("kws01")
        build_host("ad01")
        yield cache


def _subset(tmp_path: Path, model: str, names: list[str]) -> Path:
    """A dataset of ``names`` from the demo set of ``model`` (its label file lists only them)."""
    src = demo_data_dir() / model
    rows = {r.split(",")[0]: r for r in (src / "y_labels.csv").read_text().splitlines()}
    dst = tmp_path / "data" / model
    dst.mkdir(parents=True)
    (dst / "y_labels.csv").write_text("".join(rows[n] + "\n" for n in names))
    for name in names:
        (dst / name).write_bytes((src / name).read_bytes())
    return dst.parent


def _demo_names(model: str, count: int | None = None) -> list[str]:
    rows = (demo_data_dir() / model / "y_labels.csv").read_text().splitlines()
    return [r.split(",")[0] for r in rows][:count]


def _run(port: str, data: Path, out: Path, fast_load: str) -> Path:
    """``tinyperf run -m accuracy``; the session folder."""
    rc = main(["run", "--port", port, "-m", "accuracy", "-s", str(data), "--output-dir",
               str(out), "--no-progress", "--fast-load", fast_load])
    assert rc == 0
    (session,) = out.iterdir()
    return session


def _run_fast(port: str, data: Path, out: Path) -> Path:
    """``_run(..., "auto")``: ``fl caps`` gets a whole command's budget (QEMU starved of CPU
    on this shared 2-core machine was once seen answering it after 2.6 s)."""
    return _run(port, data, out / "1", "auto")


def _without_timestamps(session: Path) -> list[dict]:
    records = json.loads((session / "results.json").read_text())
    for record in records:
        for key in _TIMESTAMP_KEYS:
            record["infer"].pop(key, None)
    return records


def _fast_load(session: Path) -> dict:
    """run.json's ``fast_load`` record (asked, offered, used, counts)."""
    return json.loads((session / "run.json").read_text())["fast_load"]


def _assert_fast_path_used(session: Path, loads: int, shifts: int = 0) -> None:
    """Every input went over ``fl`` (a retry may add loads; no input fell back to ``db``)."""
    record = _fast_load(session)
    assert record["asked"] == "auto" and record["used"] is True, record
    assert record["standard_loads"] == 0, record
    assert record["loads"] + record["shifts"] - record["retries"] <= loads + shifts, record
    assert record["shifts"] >= shifts - record["retries"], record


def _assert_same_results(fast: Path, standard: Path) -> list[dict]:
    got, expected = _without_timestamps(fast), _without_timestamps(standard)
    assert len(got) == len(expected) > 0
    assert got == expected
    assert _strip_stamps(fast / "results.txt") == _strip_stamps(standard / "results.txt")
    return got


def _strip_stamps(path: Path) -> list[str]:
    """The lines of results.txt / log.txt without their ``MMDD.HHMMSS`` stamp."""
    return [re.sub(r"^\d{4}\.\d{6} ", "", ln) for ln in path.read_text().splitlines()]


def _assert_same_log(fast: Path, standard: Path) -> None:
    """log.txt (same port): identical but for the session path and the DUT timings."""
    def masked(session: Path) -> list[str]:
        return [ln.replace(str(session), "<session>")
                for ln in _strip_stamps(session / "log.txt")
                if "Runtime" not in ln and "Throughput" not in ln]

    assert masked(fast) == masked(standard)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("fw_cache")
def test_kws01_host_firmware_fast_equals_standard(tmp_path: Path) -> None:
    data = _subset(tmp_path, "kws01", _demo_names("kws01", 40))
    fast = _run("host://kws01", data, tmp_path / "fast", "auto")
    standard = _run("host://kws01", data, tmp_path / "off", "off")
    records = _assert_same_results(fast, standard)
    _assert_same_log(fast, standard)
    assert len(records) == 40
    _assert_fast_path_used(fast, loads=40)
    assert _fast_load(standard) == {"asked": "off", "used": False, "why": "--fast-load off"}


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("fw_cache")
def test_ad01_host_firmware_fast_equals_standard(tmp_path: Path) -> None:
    names = [n for n in _demo_names("ad01") if n.startswith("normal")][:1] + [
        n for n in _demo_names("ad01") if n.startswith("anomaly")][:1]
    data = _subset(tmp_path, "ad01", names)
    fast = _run("host://ad01", data, tmp_path / "fast", "auto")
    standard = _run("host://ad01", data, tmp_path / "off", "off")
    records = _assert_same_results(fast, standard)
    _assert_same_log(fast, standard)
    assert len(records) == 2 * WINDOWS_PER_FILE  # every window of both files
    _assert_fast_path_used(fast, loads=2, shifts=2 * (WINDOWS_PER_FILE - 1))
    assert _fast_load(standard)["used"] is False


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("fw_cache")
def test_ad01_qemu_fast_equals_host_standard(tmp_path: Path) -> None:
    """One file, every window: QEMU on the fast path prints what the host printed."""
    require_qemu()
    build_qemu("ad01")
    data = _subset(tmp_path, "ad01", _demo_names("ad01", 1))
    fast = _run_fast("qemu://ad01", data, tmp_path / "fast")
    standard = _run("host://ad01", data, tmp_path / "off", "off")
    assert len(_assert_same_results(fast, standard)) == WINDOWS_PER_FILE
    _assert_fast_path_used(fast, loads=1, shifts=WINDOWS_PER_FILE - 1)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("fw_cache")
def test_kws01_qemu_fast_equals_host_standard(tmp_path: Path) -> None:
    require_qemu()
    build_qemu("kws01")
    data = _subset(tmp_path, "kws01", _demo_names("kws01", 12))
    fast = _run_fast("qemu://kws01", data, tmp_path / "fast")
    standard = _run("host://kws01", data, tmp_path / "off", "off")
    assert len(_assert_same_results(fast, standard)) == 12
    _assert_fast_path_used(fast, loads=12)


def _first_windows_entry(files: int, windows: int) -> dict[str, TestEntry]:
    """An accuracy script over the first ``windows`` windows of each file."""
    steps: list[object] = []
    for f in range(files):
        for w in range(windows):
            steps += [f"download {f * WINDOWS_PER_FILE + w}", "infer 1 0"]
    return {"ad01": TestEntry("ad01", "ad", "ad01", "y_labels.csv", steps)}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("fw_cache")
def test_ad01_qemu_demo_set_on_the_fast_path(tmp_path: Path, reference_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The 16-file demo set on QEMU with fast load: 8 windows a file, or all 196 (3,136
    windows, through the CLI, ~2.5 min) with TINYPERF_QEMU_FULL=1."""
    require_qemu()
    build_qemu("ad01")
    full = os.environ.get("TINYPERF_QEMU_FULL") == "1"
    windows = WINDOWS_PER_FILE if full else 8
    names = _demo_names("ad01")
    data = _subset(tmp_path, "ad01", names)
    t0 = time.monotonic()
    if full:
        session = _run_fast("qemu://ad01", data, tmp_path / "fast")
    else:
        for attempt in (1, 2):  # rerun once if `fl caps` went unanswered (see _run_fast)
            result = run_session(RunConfig(mode="accuracy", dataset_path=data,
                                           output_dir=tmp_path / f"fast{attempt}",
                                           entries=_first_windows_entry(len(names), windows),
                                           port="qemu://ad01", progress=False,
                                           fast_load="auto"),
                                 start_dut=start_firmware)
            assert result.valid, result.reasons
            session = result.session
            if _fast_load(session).get("offered") is not None:
                break
    wall = time.monotonic() - t0
    records = json.loads((session / "results.json").read_text())
    assert len(records) == len(names) * windows
    _assert_fast_path_used(session, loads=len(names), shifts=len(names) * (windows - 1))
    model = TfliteModel(resolve_model_file("ad01", reference_dir=reference_dir))
    for name in names:  # every printed score is the interpreter's, in %0.3f
        expected = ad01_file_scores(model, (data / "ad01" / name).read_bytes())[:windows]
        got = [r["infer"]["results"][0] for r in records if r["file"] == name]
        assert got == [float(f"{v:.3f}") for v in expected], name
    with capsys.disabled():
        print(f"\nqemu://ad01 demo set, {len(records)} windows, fast load: {wall:.1f} s wall")
