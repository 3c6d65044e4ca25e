"""Matrix and place files: what they expand to, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyperf.farm.matrix import MatrixError, load_matrix, parse_matrix
from tinyperf.farm.places import PlaceError, PlaceFile, parse_place_file

GOOD = """\
version: 1
defaults:
  dataset: data
  modes: [accuracy]
  iterations: 100
jobs:
  - place: kws-a
    benchmark: kws01
    modes: [accuracy, p]
  - tags: {bench: ad}
    benchmark: ad01
    iterations: auto
    system: ad-board
  - place: bench-1
    benchmark: kws01
    mode: energy
    energy: {voltage: 3.3}
"""


def test_jobs_expand_per_mode_with_stable_ids() -> None:
    jobs = parse_matrix(GOOD, "m.yaml", base=Path("/lab"))
    assert [j.id for j in jobs] == ["01-kws01-accuracy", "01-kws01-performance",
                                    "02-ad01-accuracy", "03-kws01-energy"]
    assert jobs[0].dataset == Path("/lab/data") and jobs[0].iterations == 100
    assert jobs[2].iterations == "auto" and jobs[2].system == "ad-board"
    assert jobs[2].matches("any", {"bench": "ad", "x": "y"})
    assert not jobs[2].matches("any", {"bench": "kws"})
    assert jobs[0].matches("kws-a", {}) and not jobs[0].matches("kws-b", {})
    energy = jobs[3].energy
    assert energy is not None and energy.voltage == 3.3 and energy.monitor == "monitor"
    assert jobs[0].energy is None


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    ("jobs:\n  - place: a\n    benchmark: kws01\n    dataset: d\n    colour: red\n",
     5, "colour", "unknown key"),
    ("jobs:\n  - benchmark: kws01\n    dataset: d\n", 2, "place", "exactly one of"),
    ("jobs:\n  - place: a\n    tags: {x: 1}\n    benchmark: kws01\n    dataset: d\n", 2,
     "place", "exactly one of"),
    ("jobs:\n  - place: a\n    benchmark: KWS\n    dataset: d\n", 3, "benchmark", "model id"),
    ("jobs:\n  - place: a\n    benchmark: kws01\n    dataset: d\n    modes: [fast]\n", 5,
     "modes", "unknown mode"),
    ("jobs:\n  - place: a\n    benchmark: kws01\n    dataset: d\n    iterations: -3\n", 5,
     "iterations", "positive integer"),
    ("jobs:\n  - place: a\n    benchmark: kws01\n", 2, "dataset", "no 'dataset'"),
    ("defaults:\n  place: a\njobs:\n  - place: a\n    benchmark: kws01\n    dataset: d\n", 2,
     "place", "per-job key"),
    ("jobs:\n  - place: a\n    benchmark: kws01\n    dataset: d\n    mode: energy\n"
     "    energy: {volts: 1}\n", 6, "energy", "unknown key"),
    ("jobs: []\n", 1, "jobs", "non-empty"),
    ("jobs:\n  - place: a\n   benchmark: kws01\n", 3, None, "not valid YAML"),
])
def test_errors_name_file_line_and_field(text: str, line: int, field: str | None,
                                         words: str) -> None:
    with pytest.raises(MatrixError) as err:
        parse_matrix(text, "farm/matrix.yaml")
    assert err.value.line == line, str(err.value)
    assert str(err.value).startswith(f"farm/matrix.yaml:{line}: ")
    if field:
        assert err.value.key == field and f"[{field}]" in str(err.value)
    assert words in str(err.value)


def test_load_checks_the_dataset_exists(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(GOOD)
    with pytest.raises(MatrixError, match=r"m.yaml:7: \[dataset\] dataset folder .* does not"):
        load_matrix(tmp_path / "m.yaml")
    (tmp_path / "data").mkdir()
    assert len(load_matrix(tmp_path / "m.yaml")) == 4
    with pytest.raises(MatrixError, match="not found"):
        load_matrix(tmp_path / "missing.yaml")


PLACES = """\
places:
  kws-a:
    tags: {bench: kws}
    dut: rfc2217://lab-pc:3001
  bench-1:
    interface: /dev/ttyACM0
    monitor: /dev/ttyACM1
"""


def test_place_file(tmp_path: Path) -> None:
    places = {p.name: p for p in parse_place_file(PLACES, "p.yaml")}
    assert places["kws-a"].tags == {"bench": "kws"}
    assert places["kws-a"].url("dut") == "rfc2217://lab-pc:3001"
    assert places["bench-1"].url("monitor") == "/dev/ttyACM1"
    with pytest.raises(PlaceError, match=r"no resource named .dut..*interface, monitor"):
        places["bench-1"].url("dut")
    path = tmp_path / "places.yaml"
    path.write_text(PLACES)
    source = PlaceFile(path)
    source.acquire("kws-a")
    with pytest.raises(PlaceError, match="already in use"):
        source.acquire("kws-a")
    source.release("kws-a")
    assert source.acquire("kws-a").name == "kws-a"
    with pytest.raises(PlaceError, match="not in"):
        source.acquire("nope")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("places:\n  a:\n    tags: {x: 1}\n", 2, "at least one resource"),
    ("places:\n  a:\n    dut: 5\n", 3, "port URL"),
    ("places: {}\n", 1, "non-empty"),
    ("places:\n  'bad name':\n    dut: /dev/x\n", 2, "not a place name"),
])
def test_place_file_errors(text: str, line: int, words: str) -> None:
    with pytest.raises(MatrixError) as err:
        parse_place_file(text, "places.yaml")
    assert err.value.line == line and words in str(err.value)
