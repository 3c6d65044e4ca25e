"""``tinyperf run`` with the MLCommons runner's own files, against the virtual DUT."""

from __future__ import annotations

import json

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import main


@pytest.fixture
def sim(reference_dir):
    with SimServer(make_virtual_dut("kws01", throughput=23.0, reference_dir=reference_dir),
                   pty=True, baud=None) as server:
        yield server


@pytest.mark.timeout(60)
def test_device_list_and_test_script(sim, tmp_path, capsys):
    devices = tmp_path / "devices.yaml"
    devices.write_text("""
- name: stm32h573i-dk
  type: interface
  usb: {0x0483: 0x374E}
  baud: 115200
- name: l4r5zi
  type: dut
  usb: {0x0483: 0x374B}
  baud: {energy: 9600, performance: 921600, accuracy: 921600}
""")
    script = tmp_path / "tests_performance.yaml"
    script.write_text("""
kws01:
  name: keyword_spotting
  model: kws01
  truth_file: y_labels.csv
  script:
    - loop 5:
      - download
      - infer 260 1
""")
    rc = main(["run", "--port", sim.url, "--device-list", str(devices), "--test-script",
               str(script), "--mode", "p", "--dataset-path", str(demo_data_dir()),
               "--output-dir", str(tmp_path / "out"), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "VALID for submission" in out
    session = next((tmp_path / "out").iterdir())
    records = json.loads((session / "results.json").read_text())
    assert [r["infer"]["iterations"] for r in records] == [260] * 5
    assert {r["infer"]["warmups"] for r in records} == {1}
    assert "at 921600 baud" in (session / "log.txt").read_text()  # baud from the device list


@pytest.mark.timeout(60)
def test_script_without_the_duts_model_is_a_clear_error(sim, tmp_path, capsys):
    script = tmp_path / "t.yaml"
    script.write_text("vww01:\n  model: vww01\n  script: ['download', 'infer 1']\n")
    rc = main(["run", "--port", sim.url, "--test-script", str(script), "--dataset-path",
               str(demo_data_dir()), "--output-dir", str(tmp_path), "--no-progress"])
    assert rc == 2
    assert "no entry for the DUT's model 'kws01'" in capsys.readouterr().err


@pytest.mark.timeout(30)
def test_unreachable_port_is_a_clear_error(tmp_path, capsys):
    rc = main(["run", "--port", str(tmp_path / "ttyNONE"), "--dataset-path", str(tmp_path),
               "--output-dir", str(tmp_path / "s")])
    assert rc == 2
    assert "ttyNONE" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # no empty session folder left behind
