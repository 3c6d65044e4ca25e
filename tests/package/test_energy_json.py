"""``tinyperf package add --energy-json``: tinyperf's energy.json next to results.txt in
``energy/``, opt-in (our checker notes it as an extra file), never for sww (the official
checker file-lists the sww ``energy/`` folder)."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
from tinyperf.harness.energy.run import EnergyOptions, run_energy_session
from tinyperf.harness.run.runner import RunConfig
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.rules.packaged import RuleChecker, check_packaged
from tinyperf.submissions import package as pk
from tinyperf.submissions import systems_template as tpl

from tinyperf.cli.main import main

CHECKER = RuleChecker()
pk_add = functools.partial(pk.add, checker=CHECKER)
pk_add_model = functools.partial(pk.add_model, checker=CHECKER)
pk_add_code = functools.partial(pk.add_code, checker=CHECKER)


@pytest.fixture(scope="module")
def energy_session(reference_dir, tmp_path_factory) -> Path:
    """A valid kws01 energy session from the deterministic rig (11 s windows, ~3 s wall)."""
    out = tmp_path_factory.mktemp("energy_json_sessions")
    with virtual_energy_rig("kws01", throughput=20.0, follow_wall=False,
                            reference_dir=reference_dir) as rig:
        result = run_energy_session(
            RunConfig(mode="energy", dataset_path=demo_data_dir(), output_dir=out,
                      iterations=220, progress=False),
            EnergyOptions(interface=rig.interface_url, monitor=rig.monitor, voltage=1.8))
    assert result.valid, result.reasons
    return result.session


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    path = pk.init(root, "ACME", "BOARD", "open", "v1.3")
    doc = json.loads(path.read_text())
    doc = {k: ("N/A" if tpl.PLACEHOLDER in v else v) for k, v in doc.items()}
    path.write_text(json.dumps({**doc, "Status": "Available"}, indent=2) + "\n")
    return root


def _energy_dir(root: Path) -> Path:
    return root / "open/ACME/results/BOARD/kws/energy"


def test_energy_json_is_opt_in(energy_session, tmp_path):
    root = _tree(tmp_path)
    pk_add(root, [energy_session], "BOARD")
    assert not (_energy_dir(root) / "energy.json").exists()


def test_energy_json_placed_next_to_results_txt(energy_session, tmp_path):
    root = _tree(tmp_path)
    (placed,) = pk_add(root, [energy_session], "BOARD", energy_json=True)
    folder = _energy_dir(root)
    assert placed.dest == folder
    assert (folder / "energy.json").read_bytes() == (energy_session / "energy.json").read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == [
        "energy.json", *(f"energy_inf_{k:03d}.png" for k in range(5)), "log.txt",
        "results.json", "results.txt"]
    # tolerated by our checker as by the official one (which never lists energy/ files)
    assert not any("energy.json" in w for w in placed.warnings)
    report = check_packaged(root)  # the tree lacks kws accuracy/performance: judge energy/ only
    assert [f for f in report.findings if f.path.endswith("kws/energy")] == []
    doc = json.loads((folder / "energy.json").read_text())
    assert doc["valid"] and len(doc["windows"]) == 5


def test_cli_flag(energy_session, tmp_path, capsys):
    root = _tree(tmp_path)
    code = main(["package", "add", str(energy_session), "--system", "BOARD", "--root",
                 str(root), "--energy-json"])
    assert code == 0, capsys.readouterr()
    assert (_energy_dir(root) / "energy.json").is_file()


def test_refused_without_energy_json_and_nothing_written(energy_session, tmp_path):
    copy = tmp_path / "session_copy"
    shutil.copytree(energy_session, copy)
    (copy / "energy.json").unlink()
    root = _tree(tmp_path)
    with pytest.raises(pk.Refused, match=r"the session has no energy\.json"):
        pk_add(root, [copy], "BOARD", energy_json=True)
    assert not (root / "open/ACME/results").exists()


def test_refused_for_sww(tmp_path):
    info = pk.SessionInfo(tmp_path, mode="energy", model="sww01")
    (tmp_path / "energy.json").write_text('{"windows": []}')
    reasons = pk._energy_json_problems(info, info.benchmark)
    assert reasons and "file-lists sww/energy/" in reasons[0]
    assert "energy.json" not in info.files


def test_malformed_energy_json_is_refused(tmp_path):
    info = pk.SessionInfo(tmp_path, mode="energy", model="kws01")
    (tmp_path / "energy.json").write_text('{"w": 1}')
    assert pk._energy_json_problems(info, "kws") == [
        "--energy-json: energy.json has no 'windows' list"]
