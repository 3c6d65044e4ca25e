"""Test-script language: parsing, defaults per spec 4.4, flattening, errors."""

import pytest
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.run import scenarios


def test_reference_defaults():
    e = scenarios.reference_entry("kws01", "performance")
    acts = scenarios.plan(e, 1000)
    infers = [a for a in acts if a.verb == "infer"]
    downloads = [a.index for a in acts if a.verb == "download"]
    assert len(infers) == 5 and infers[0].iterations == 70 and infers[0].warmups == 10
    assert downloads == [0, 1, 2, 3, 4]
    ad = scenarios.plan(scenarios.reference_entry("ad01", "performance"), 248)
    assert [a.iterations for a in ad if a.verb == "infer"] == [1500] * 5
    acc = scenarios.plan(scenarios.reference_entry("ad01", "accuracy"), 48608)
    assert sum(a.verb == "infer" for a in acc) == 48608
    assert scenarios.reference_entry("ic02", "accuracy").model == "ic01"


def test_load_mlcommons_test_script(tmp_path):
    p = tmp_path / "tests_performance.yaml"
    p.write_text("""
kws01:
  name: keyword_spotting
  model: kws01
  truth_file: y_labels.csv
  script:
    - loop 5:
      - download
      - infer 250 1
ad01:
  model: ad01
  script:
    - download 3
    - infer 10 0 1
    - reset 20
""")
    entries = scenarios.load_test_script(p)
    acts = scenarios.plan(entries["kws01"], 10)
    assert [a.iterations for a in acts if a.verb == "infer"] == [250] * 5
    ad = scenarios.plan(entries["ad01"], 10)
    assert ad[0].index == 3 and ad[1].iterations == 10 and ad[2].verb == "reset"
    assert scenarios.loop_counts(acts) == {1: 5}


def test_infer_default_warmup_is_zero():
    e = scenarios.TestEntry("kws01", "k", "kws01", "y_labels.csv", ["download", "infer 7"])
    assert scenarios.plan(e, 1)[1].warmups == 0


@pytest.mark.parametrize(("body", "what"), [
    ("kws01: [1, 2]", "must be a mapping"),
    ("kws01:\n  script: 3", "'script' must be a list"),
    ("kws01:\n  script: ['jump 3']", "unknown step 'jump'"),
    ("kws01:\n  script: ['infer x']", "must be whole numbers"),
    ("kws01:\n  script: ['infer']", "needs an iteration count"),
    ("kws01:\n  script: [{'loop 2': 'download'}]", "nested steps must be a list"),
    ("kws01: !!python/object/apply:os.system ['true']", "not valid YAML"),
])
def test_bad_scripts(tmp_path, body, what):
    p = tmp_path / "t.yaml"
    p.write_text(body)
    with pytest.raises(ConfigError, match=what) as err:
        # a broken entry fails when its model runs; a file that is not YAML fails at once
        for entry in scenarios.load_test_script(p).values():
            scenarios.usable(entry)
    assert "t.yaml" in str(err.value)


def test_download_index_out_of_range():
    e = scenarios.TestEntry("kws01", "k", "kws01", "y", ["download 9", "infer 1"])
    with pytest.raises(ConfigError, match="outside"):
        scenarios.plan(e, 3)


def test_overrides():
    acts = scenarios.plan(scenarios.reference_entry("kws01", "performance"), 10)
    new = scenarios.with_counts(acts, 250, None)
    assert {(a.iterations, a.warmups) for a in new if a.verb == "infer"} == {(250, 10)}
