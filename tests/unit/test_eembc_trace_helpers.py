"""The EEMBC trace arithmetic shared by the checker, the session analysis and the energy
monitors (formats.eembc_log): one definition of windows, sample spans and lap wrap."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats import eembc_log
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.monitors.eembc import read_eembc_trace


def test_windows_are_the_edges_after_the_start_mark_in_pairs() -> None:
    assert eembc_log.window_times([0.5, 1.0, 11.0, 12.0, 22.5, 23.0]) == \
        [(1.0, 11.0), (12.0, 22.5)]  # a trailing unpaired edge starts no window
    assert eembc_log.window_times([0.5]) == []


def test_sample_span_and_energy() -> None:
    samples = np.arange(10, dtype=float)
    assert eembc_log.sample_span(1000.0, 0.0024, 0.0066) == (2, 7)
    assert eembc_log.span_energy(samples, 2, 7) == 2 + 3 + 4 + 5 + 6
    assert eembc_log.span_energy(samples, -3, 2) == 0 + 1  # before the trace: from 0


def test_lap_wraps_the_32_bit_counter_once() -> None:
    assert eembc_log.lap_us(100, 350) == 250
    assert eembc_log.lap_us(2**32 - 50, 70) == 120


def test_monitor_reads_traces_with_the_checker_reader(tmp_path: Path) -> None:
    path = tmp_path / "trace1-energy.bin"
    path.write_bytes(b"\xf1" + struct.pack("<3f", 1000.0, 2.0, 4.0))
    (tmp_path / "trace1-timestamps.json").write_text("[0.0, 0.001, 0.002]")
    cap = read_eembc_trace(path)
    assert cap.fs == 1000.0 and list(cap.values) == [2e-6, 4e-6]  # µJ -> J
    path.write_bytes(b"\xf0" + struct.pack("<2f", 1000.0, 2.0))
    with pytest.raises(CaptureFileError, match="expected f1") as exc:
        read_eembc_trace(path)
    assert str(path) in str(exc.value)
    path.write_bytes(b"\xf1" + struct.pack("<2f", 1000.0, 2.0) + b"\x00")
    with pytest.raises(CaptureFileError, match="float32 multiple"):
        read_eembc_trace(path)
