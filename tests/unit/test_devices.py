"""MLCommons device lists and port matching."""

import pytest
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.link import devices

LIST = """
- name: stm32h573i-dk
  type: interface
  preference: 2
  usb: {0x0483: 0x374E}
- name: lpm01a
  type: power
  usb: {0x0483: 0x5740}
  baud: 3686400
  voltage: 1.8
- name: old
  type: dut
  baud: 9600
- name: l4r5zi
  type: dut
  usb: {0x0483: 0x374B}
  baud: {energy: 9600, performance: 921600, accuracy: 921600}
"""


def test_last_dut_entry_and_baud_by_mode(tmp_path):
    p = tmp_path / "devices.yaml"
    p.write_text(LIST)
    entries = devices.load_device_list(p)
    dut = devices.dut_entry(entries)
    assert dut.name == "l4r5zi"
    assert dut.baud_for("performance") == 921600 and dut.baud_for("energy") == 9600
    port = devices.PortInfo("/dev/ttyACM3", 0x0483, 0x374B, "STLINK-V3", None)
    other = devices.PortInfo("/dev/ttyACM0", 0x0483, 0x374E, "STLINK-V3", None)
    assert devices.find_port(dut, [other, port]) == "/dev/ttyACM3"
    assert "ttyACM3" in devices.snippet([port])


@pytest.mark.parametrize(("body", "what"), [
    ("{a: 1}", "YAML list"),
    ("- {name: x, type: board}", "type must be one of"),
    ("- {name: x, type: dut, baud: fast}", "baud must be"),
    ("- {name: x, type: dut, usb: {0x0483: zz}}", "usb ids must be integers"),
])
def test_bad_device_lists(tmp_path, body, what):
    p = tmp_path / "d.yaml"
    p.write_text(body)
    with pytest.raises(ConfigError, match=what):
        devices.load_device_list(p)
