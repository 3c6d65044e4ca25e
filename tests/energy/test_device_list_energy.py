"""Energy mode takes its bench from the MLCommons device list, as the runner does (#19 item 8).

Real failure: ``devices.yaml`` names the interface board and the power monitor (type, port,
voltage, baud), and ``tinyperf run --mode energy`` ignored them: it asked for --interface and
--monitor. Explicit flags still win.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tinyperf.harness.link import devices
from tinyperf.reference_models.demo import demo_data_dir

from tests.sim.test_cli_energy_rig import _read_header
from tinyperf.cli.main import main

PORT_A = devices.PortInfo("/dev/ttyACM0", 0x0483, 0x374E, "STLINK-V3", None)
PORT_B = devices.PortInfo("/dev/ttyACM1", 0x0483, 0x5740, "STM32 Virtual ComPort", None)


def _entries(tmp_path: Path, text: str) -> list[devices.DeviceEntry]:
    path = tmp_path / "devices.yaml"
    path.write_text(text)
    return devices.load_device_list(path)


SHIPPED = """
- name: stm32h573i-dk
  type: interface
  preference: 2
  usb: {0x0483: 0x374E}
  baud: 115200
- name: arduino
  type: interface
  preference: 1
  usb: {0x2341: [0x0043, 0x0001]}
  baud: 115200
- name: lpm01a
  type: power
  preference: 2
  usb: {0x0483: 0x5740}
  baud: 3686400
  voltage: 3.3
- name: l4r5zi
  type: dut
  usb: {0x0483: 0x374B}
  baud: {energy: 9600, performance: 115200, accuracy: 115200}
"""


def test_the_shipped_list_picks_board_monitor_voltage_and_rates(tmp_path):
    setup = devices.energy_setup(_entries(tmp_path, SHIPPED), [PORT_A, PORT_B])
    assert setup.interface == "/dev/ttyACM0" and setup.board == "enhanced"
    assert setup.monitor == "lpm01a:/dev/ttyACM1" and setup.monitor_baud == 3686400
    assert setup.voltage == 3.3 and setup.dut_baud == 9600 and setup.interface_baud == 115200


def test_a_later_device_replaces_only_with_a_strictly_higher_preference(tmp_path):
    arduino = devices.PortInfo("/dev/ttyUSB0", 0x2341, 0x0043, "Arduino Uno", None)
    setup = devices.energy_setup(_entries(tmp_path, SHIPPED), [arduino, PORT_A])
    assert setup.board == "enhanced"  # both present: the preference 2 board
    setup = devices.energy_setup(_entries(tmp_path, SHIPPED), [arduino])
    assert setup.board == "legacy" and setup.interface == "/dev/ttyUSB0"
    assert setup.monitor is None  # no LPM01A plugged in: nothing to take


def test_an_unknown_power_device_name_is_refused(tmp_path):
    entries = _entries(tmp_path, "- {name: mymeter, type: power, port: /dev/ttyX}\n")
    with pytest.raises(Exception, match="must be one of lpm01a"):
        devices.energy_setup(entries, [])


@pytest.mark.timeout(120)
def test_energy_run_from_the_device_list_alone(reference_dir: Path, tmp_path: Path,
                                               capsys) -> None:
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyperf.cli.main", "sim", "--energy-rig", "--model-id", "kws01",
         "--throughput", "20", "--simulated-time"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        head = _read_header(proc)
        listing = tmp_path / "devices.yaml"
        listing.write_text(f"""
- name: stm32h573i-dk
  type: interface
  port: {head['interface']}
  baud: 115200
- name: lpm01a
  type: power
  port: {head['monitor'].partition(':')[2]}
  voltage: 1.8
- name: l4r5zi
  type: dut
  baud: {{energy: 115200, performance: 115200, accuracy: 115200}}
""")
        rc = main(["run", "--mode", "energy", "--device-list", str(listing),
                   "--dataset-path", str(demo_data_dir()), "--iterations", "220",
                   "--output-dir", str(tmp_path / "out"), "--no-progress"])
        err = capsys.readouterr().err
        assert rc == 0, err
        assert f"interface {head['interface']}" in err and "voltage 1.8" in err
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    [session] = (tmp_path / "out").iterdir()
    record = json.loads((session / "energy.json").read_text())
    assert record["valid"] and record["interface_board"] == "enhanced"
