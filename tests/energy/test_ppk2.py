"""Nordic PPK2 (nRF Connect Power Profiler CSV export) as a capture file: known answers,
every accepted layout, and strict errors that name the file and the line."""

from __future__ import annotations

import re

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.power import PowerModel, write_ppk2_csv
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.monitors.filemonitor import FileMonitor, guess_format, read_capture

from tinyperf.cli.main import main

FS = 100_000.0
VOLT = 3.0
START_US, END_US = 100_000.0, 400_000.0  # the two timestamp edges; busy in between


def _model(channel_pulse_us: float = 100.0) -> PowerModel:
    """2 mA idle, 10 mA busy between the edges, 100 µs timestamp pulses (10 samples)."""
    m = PowerModel(voltage=VOLT, idle_a=2e-3, active_a=10e-3, pulse_us=channel_pulse_us)
    m.add_busy(START_US, END_US - START_US)
    m.on_timestamp(START_US)
    m.on_timestamp(END_US)
    return m


def _truth(model: PowerModel) -> float:
    return model.energy_between_us(START_US, END_US)


#: Each edge is estimated within ±0.5 sample, and the power next to it is at most P_active.
EDGE_BOUND_J = 2 * 0.5 / FS * VOLT * 10e-3


@pytest.mark.parametrize("layout", ["string", "columns", "bits"])
def test_known_energy_between_the_d0_edges(tmp_path, layout):
    model = _model()
    path = write_ppk2_csv(tmp_path / "ppk2.csv", model, 0.5, fs=FS, layout=layout)
    assert guess_format(path) == "ppk2"
    cap = read_capture(path, voltage=VOLT)
    assert cap.kind == "current" and cap.fs == FS and cap.meta["layout"] == layout
    falling = [e.time_s for e in cap.falling_edges()]
    assert falling == pytest.approx([START_US / 1e6, END_US / 1e6], abs=0.5 / FS + 1e-12)
    (window,) = integrate.evaluate_windows(cap, integrate.pair_edges(cap.edges), 300,
                                           min_duration_s=0.1)
    assert window.valid, window.reasons
    truth = _truth(model)
    assert truth == pytest.approx(VOLT * 10e-3 * 0.3)
    assert abs(window.energy_j - truth) <= EDGE_BOUND_J
    assert window.budget["edge_timing"] > 0


def test_other_channel_and_current_only_layout(tmp_path):
    model = _model()
    on_d5 = write_ppk2_csv(tmp_path / "d5.csv", model, 0.5, fs=FS, layout="columns", channel=5)
    assert not read_capture(on_d5, voltage=VOLT).edges  # D0 is idle on this export
    assert len(read_capture(on_d5, voltage=VOLT, channel=5).falling_edges()) == 2
    bare = write_ppk2_csv(tmp_path / "bare.csv", model, 0.5, fs=FS, layout="none")
    cap = read_capture(bare, voltage=VOLT)
    assert cap.edges == []
    got = integrate.energy_between(cap, START_US / 1e6, END_US / 1e6).energy_j
    assert got == pytest.approx(_truth(model), rel=1e-6)  # boundaries on samples: exact


def test_lost_samples_are_nan_and_invalidate_the_window(tmp_path):
    model = _model()
    path = write_ppk2_csv(tmp_path / "lossy.csv", model, 0.5, fs=FS, skip=((25_000, 7),))
    cap = read_capture(path, voltage=VOLT)
    assert cap.meta["lost_samples"] == 7 and len(cap.values) == 50_000
    assert int(np.isnan(cap.values).sum()) == 7 and len(cap.gaps) == 1
    (window,) = integrate.evaluate_windows(cap, integrate.pair_edges(cap.edges), 300,
                                           min_duration_s=0.1)
    assert not window.valid
    assert any("7 NaN sample(s)" in r for r in window.reasons)


def test_cli_import_ppk2(tmp_path, capsys):
    path = write_ppk2_csv(tmp_path / "cli.csv", _model(), 0.5, fs=FS)
    code = main(["energy", "import", str(path), "--voltage", str(VOLT), "--inferences", "300",
                 "--output", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert "window 0:" in out and "INVALID" in out  # 0.3 s is below the 10 s minimum
    median = float(re.search(r"Median energy cost is ([\d\.]+) uJ/inf", out).group(1))
    assert abs(median - _truth(_model()) / 300 * 1e6) <= EDGE_BOUND_J / 300 * 1e6 + 1e-4
    assert code == 0 and (tmp_path / "out" / "energy.json").is_file()


def test_file_monitor_gives_the_run_voltage_to_the_reader(tmp_path):
    path = write_ppk2_csv(tmp_path / "run.csv", _model(), 0.5, fs=FS)
    mon = FileMonitor(str(path))
    mon.configure(VOLT)
    assert mon.stop().voltage == VOLT


GOOD = "Timestamp(ms),Current(uA),D0-D7\n0.00000,10.0,10000000\n0.01000,11.0,10000000\n"


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("Time(ms),Current(mA)\n0,1\n", r"line 1: .* is not an nRF Connect Power Profiler"),
    (GOOD + "0.02000,12", r"line 4: 2 field\(s\), the header has 3 \(truncated"),
    (GOOD + "0.02000,1x.5,10000000\n", r"line 4: Current\(uA\) '1x.5' is not a number"),
    (GOOD + "0.02000,nan,10000000\n", r"line 4: Current\(uA\) 'nan' is not finite"),
    (GOOD + "0.02000,12.0,1000\n", r"line 4: digital field '1000' is not 8 characters"),
    (GOOD + "0.01000,12.0,10000000\n", r"line 4: timestamp 0.01 ms does not increase"),
    (GOOD + "0.02000,1,10000000\n0.03000,1,10000000\n0.04500,1,10000000\n",
     r"line 6: timestamp step 0.015 ms is not a whole number of sample periods \(0.01 ms\)"),
    ("Timestamp(ms),Current(uA)\n0.0,1.0\n", r"1 sample row\(s\)"),
    ("Timestamp(ms),Current(uA),D0,D1,D2,D3,D4,D5,D6,D7\n0,1,0,0,0,0,0,0,0,0\n"
     "0.01,1,0,0,2,0,0,0,0,0\n", r"line 3: D2 '2' is not 0 or 1"),
    ("Timestamp(ms),Current(uA),Bits\n0,1,7\n0.01,1,300\n", r"line 3: Bits '300' is neither"),
])
def test_corrupt_or_truncated_exports_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CaptureFileError, match=message) as info:
        read_capture(path, "ppk2", voltage=VOLT)
    assert str(path) in str(info.value)


def test_voltage_is_required(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(GOOD)
    with pytest.raises(CaptureFileError, match="current only: give the supply voltage"):
        read_capture(path, "ppk2")
