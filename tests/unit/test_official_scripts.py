"""The MLCommons runner's shipped test scripts work unchanged (issue: sww01 entries).

Every ``tests_*.yaml`` at the head of the MLCommons repository carries an ``sww01`` entry
with a ``stream`` step. An entry tinyperf cannot run must fail only the model that uses it,
never the whole file: a kws01 board runs with the official file as it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.run import scenarios

RUNNER = Path(__file__).resolve().parents[2].parent / "shared" / "peers" / "mlcommons_tiny" / \
    "benchmark" / "runner"
MODES = ("performance", "accuracy", "energy")


def official(mode: str) -> Path:
    path = RUNNER / f"tests_{mode}.yaml"
    if not path.is_file():
        pytest.skip(f"the MLCommons runner's {path.name} is not in ../shared/peers")
    return path


@pytest.mark.parametrize("mode", MODES)
def test_official_script_loads_and_keeps_every_entry(mode):
    entries = scenarios.load_test_script(official(mode))
    assert {"kws01", "ad01", "vww01", "ic01", "sww01"} <= set(entries)
    for key in ("kws01", "ad01", "vww01", "ic01"):
        assert entries[key].problem is None
        assert entries[key].script == scenarios.reference_entry(key, mode).script or \
            key == "ic01"  # the shipped ic01 energy entry has warm-ups the built-in lacks


@pytest.mark.parametrize("mode", MODES)
def test_the_stream_entry_parses_now(mode):
    # the official files' sww01 entry (a `stream` step) runs since the sww01 flow landed
    entries = scenarios.load_test_script(official(mode))
    sww = entries["sww01"]
    assert sww.problem is None
    assert scenarios.usable(sww) is sww
    assert scenarios.usable(entries["kws01"]) is entries["kws01"]


def test_a_broken_entry_names_its_file_and_key(tmp_path):
    script = tmp_path / "tests.yaml"
    script.write_text("kws01:\n  script:\n    - loop 5:\n      - download\n      - infer 70 10\n"
                      "ad01:\n  script:\n    - wobble 3\n"
                      "vww01: 7\n")
    entries = scenarios.load_test_script(script)
    assert entries["kws01"].problem is None
    with pytest.raises(ConfigError, match=r"tests.yaml.*ad01.*unknown step 'wobble'"):
        scenarios.usable(entries["ad01"])
    with pytest.raises(ConfigError, match=r"tests.yaml.*vww01.*mapping"):
        scenarios.usable(entries["vww01"])


def test_a_file_that_is_not_a_script_is_still_refused_whole(tmp_path):
    script = tmp_path / "tests.yaml"
    script.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping of model ids"):
        scenarios.load_test_script(script)


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("reference_dir")  # the virtual DUT runs the reference model
def test_a_kws01_board_runs_with_the_official_file_as_it_is(tmp_path):
    import tinyperf

    with tinyperf.virtual_dut("kws01", throughput=2000.0) as port:
        result = tinyperf.run("performance", port, tinyperf.demo_data(),
                              test_script=official("performance"), output_dir=tmp_path)
    assert result.figures["iterations"] == [70] * 5  # the file's own N, honoured
    assert (result.session / "results.txt").is_file()
