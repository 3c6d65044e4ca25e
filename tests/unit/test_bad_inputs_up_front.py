"""Bad inputs are refused before the first byte goes to the DUT, each with a usage error
naming the file, line or field: never a traceback, a hang, or a read outside the set."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from tinyperf.formats.errors import ConfigError, DatasetError
from tinyperf.harness.run import scenarios
from tinyperf.harness.run.datasets import Dataset, read_labels


def kws_set(tmp_path: Path, labels: str, files: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / "kws01"
    folder.mkdir(parents=True)
    for name, data in (files or {"a.bin": bytes(490)}).items():
        (folder / name).write_bytes(data)
    (folder / "y_labels.csv").write_text(labels)
    return tmp_path


@pytest.mark.parametrize(("label", "what"), [("99", "class 99 outside 0..11"),
                                               ("-1", "class -1 outside 0..11")])
def test_class_outside_the_model_classes_is_refused_at_load(tmp_path, label, what):
    root = kws_set(tmp_path, f"a.bin,12,{label}\n")
    with pytest.raises(DatasetError, match=rf"y_labels.csv:1: {re.escape(what)}"):
        Dataset(root, "kws01")


def test_zero_classes_is_refused(tmp_path):
    with pytest.raises(DatasetError, match=r"y_labels\.csv:1: classes must be >= 1"):
        Dataset(kws_set(tmp_path, "a.bin,0,0\n"), "kws01")


@pytest.mark.parametrize("name", ["../../outside.bin", "/etc/passwd", "sub/../../x.bin"])
def test_a_row_naming_a_file_outside_the_set_is_refused(tmp_path, name):
    (tmp_path / "outside.bin").write_bytes(bytes(490))
    root = kws_set(tmp_path / "d", f"a.bin,12,1\n{name},12,1\n")
    with pytest.raises(DatasetError, match=r"y_labels.csv:2: .* is outside the dataset folder"):
        Dataset(root, "kws01").inputs(False)


def test_a_bin_that_is_a_folder(tmp_path):
    root = kws_set(tmp_path, "a.bin,12,1\nb.bin,12,1\n")
    (root / "kws01" / "b.bin").mkdir()
    with pytest.raises(DatasetError, match=r"b.bin.*not a regular file"):
        Dataset(root, "kws01").inputs(False)


@pytest.mark.timeout(20)
def test_a_label_file_that_is_a_named_pipe_does_not_block(tmp_path):
    folder = tmp_path / "kws01"
    folder.mkdir()
    os.mkfifo(folder / "y_labels.csv")
    done: list[BaseException] = []

    def load() -> None:
        try:
            Dataset(tmp_path, "kws01")
        except BaseException as exc:
            done.append(exc)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "reading a named pipe blocked"
    assert isinstance(done[0], DatasetError) and "not a regular file" in str(done[0])


def test_read_labels_of_a_folder(tmp_path):
    with pytest.raises(DatasetError, match="not a regular file"):
        read_labels(tmp_path)


def script(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "tests.yaml"
    p.write_text(body)
    return p


@pytest.mark.parametrize(("step", "what"), [
    ("infer inf", "must be whole numbers"),
    ("infer nan", "must be whole numbers"),
    ("''", "empty step"),
    ("infer 0 0", "at least 1 inference"),
    ("infer 5 -1", "warm-ups must be >= 0"),
    ("infer 1.5", "must be whole numbers"),
    ("reset -3", "must be >= 0"),
])
def test_bad_steps_are_usage_errors(tmp_path, step, what):
    entries = scenarios.load_test_script(script(tmp_path, f"kws01:\n  script:\n    - {step}\n"))
    with pytest.raises(ConfigError, match=rf"tests.yaml.*kws01.script\[0\].*{what}"):
        scenarios.usable(entries["kws01"])


@pytest.mark.timeout(20)
def test_a_huge_loop_is_refused_before_it_is_walked(tmp_path):
    entries = scenarios.load_test_script(script(
        tmp_path, "kws01:\n  script:\n    - loop 1000000000:\n      - download\n"
                  "      - infer 1 0\n"))
    with pytest.raises(ConfigError, match=r"kws01.*steps.*limit"):
        scenarios.usable(entries["kws01"])


@pytest.mark.timeout(20)
def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """40 levels of aliases: 2^40 paths through a 2 KB file."""
    lines = ["a0: &a0 [infer 1 0, infer 1 0]"]
    for i in range(1, 41):
        lines.append(f"a{i}: &a{i} [{{loop 2: *a{i - 1}}}, {{loop 2: *a{i - 1}}}]")
    lines.append("kws01:\n  script: *a40")
    entries = scenarios.load_test_script(script(tmp_path, "\n".join(lines) + "\n"))
    with pytest.raises(ConfigError, match=r"kws01.*limit"):
        scenarios.usable(entries["kws01"])


def test_an_empty_loop_body_of_a_big_loop_costs_nothing(tmp_path):
    entries = scenarios.load_test_script(script(
        tmp_path, "kws01:\n  script:\n    - loop 5:\n      - download\n      - infer 9 1\n"))
    actions = scenarios.plan(scenarios.usable(entries["kws01"]), 5)
    assert [a.verb for a in actions].count("infer") == 5
