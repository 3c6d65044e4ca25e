"""``stream`` steps of a test script parse into a plan (sww01)."""

from __future__ import annotations

import pytest
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.run import scenarios


def _entry(script: list) -> scenarios.TestEntry:
    return scenarios.TestEntry("sww01", "streaming_wakeword", "sww01", "t.json", script)


def test_stream_without_index_walks_the_truth_file_and_with_index_stays():
    plan = scenarios.plan(_entry([{"loop": ["stream"]}, "stream 1"]), 3)
    assert [(a.verb, a.index) for a in plan] == [("stream", 0), ("stream", 1), ("stream", 2),
                                                 ("stream", 1)]
    assert scenarios.streams(_entry([{"loop 2": ["stream"]}]))
    assert not scenarios.streams(_entry([{"loop 5": ["download", "infer 20 5"]}]))


def test_stream_index_outside_the_truth_file_is_refused():
    with pytest.raises(ConfigError, match="stream index 4 outside the 2"):
        scenarios.plan(_entry(["stream 4"]), 2)


@pytest.mark.parametrize("mode,script", [("performance", ["stream"]), ("energy", ["stream"]),
                                         ("accuracy", [{"loop": ["stream"]}])])
def test_reference_scripts_of_sww01(mode, script):
    entry = scenarios.reference_entry("sww01", mode)
    assert entry.script == script and entry.truth_file == "sww_long_test.json"
    assert entry.model == "sww01"
