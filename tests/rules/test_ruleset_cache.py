"""The packaged rule sets' cache: same rule set as parsing, never stale, never required."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tinyperf.rules import ruleset
from tinyperf.rules.ruleset import load_ruleset


@pytest.fixture()
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the packaged rule files standing in for them, and a private cache."""
    copy = tmp_path / "data"
    shutil.copytree(ruleset.DATA_DIR, copy)
    monkeypatch.setattr(ruleset, "DATA_DIR", copy)
    monkeypatch.setenv(ruleset.ENV_CACHE_DIR, str(tmp_path / "cache"))
    return copy


def _parse_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> None:
        raise AssertionError(f"{path} parsed: the cache was not used")
    monkeypatch.setattr(ruleset, "read_yaml", refuse)


def test_a_cached_rule_set_equals_the_parsed_one(data: Path, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    parsed = load_ruleset("v1.3", data_dir=data)
    assert len(list((tmp_path / "cache").glob("ruleset-v1.3-*.pickle"))) == 1
    _parse_fails(monkeypatch)
    assert load_ruleset("v1.3", data_dir=data) == parsed
    # another version is another file: parsed, not served from v1.3's
    with pytest.raises(AssertionError, match="parsed"):
        load_ruleset("v1.2", data_dir=data)


def test_an_edited_rule_file_is_never_served_stale(data: Path) -> None:
    before = load_ruleset("v1.3", data_dir=data)
    common = data / "common.yaml"
    rule = before.rules[0]
    common.write_text(common.read_text().replace(rule.title, rule.title + " (edited)", 1))
    after = load_ruleset("v1.3", data_dir=data)
    assert after.rules[0].title == rule.title + " (edited)"


def test_a_checksum_collision_is_not_trusted(data: Path) -> None:
    """The file name is only a checksum: a stale rule set filed under the name of the
    edited inputs (what a collision would do) is detected by the stored inputs."""
    from tinyperf.rules.checks import KINDS

    before = load_ruleset("v1.3", data_dir=data)
    stale = ruleset._cache_file("v1.3", ruleset._cache_inputs("v1.3", KINDS))
    common = data / "common.yaml"
    rule = before.rules[0]
    common.write_text(common.read_text().replace(rule.title, rule.title + " (edited)", 1))
    collided = ruleset._cache_file("v1.3", ruleset._cache_inputs("v1.3", KINDS))
    assert stale is not None and collided is not None and collided != stale
    shutil.copy(stale, collided)
    assert load_ruleset("v1.3", data_dir=data).rules[0].title == rule.title + " (edited)"


def test_a_damaged_or_unwritable_cache_only_costs_a_parse(data: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    expected = load_ruleset("v1.3", data_dir=data)
    (cached,) = (tmp_path / "cache").glob("*.pickle")
    cached.write_bytes(b"\x80\x05 not a pickle")
    assert load_ruleset("v1.3", data_dir=data) == expected
    # a pickle of something else under the same name is not trusted either
    cached.write_bytes(b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86\x94.")
    assert load_ruleset("v1.3", data_dir=data) == expected
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv(ruleset.ENV_CACHE_DIR, str(blocker / "cache"))
    assert load_ruleset("v1.3", data_dir=data) == expected


def test_an_empty_cache_setting_turns_the_cache_off(data: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ruleset.ENV_CACHE_DIR, "")
    load_ruleset("v1.3", data_dir=data)
    assert not (tmp_path / "cache").exists()


def test_a_broken_rule_file_still_fails_with_its_name(data: Path) -> None:
    load_ruleset("v1.3", data_dir=data)  # cached while valid
    (data / "v1.3.yaml").write_text("extends: common\nrules: [ {id: broken\n")
    with pytest.raises(ruleset.RuleSetError, match=r"rules/data/v1.3.yaml: not loadable"):
        load_ruleset("v1.3", data_dir=data)


def test_a_check_with_a_warm_cache_does_not_import_yaml(tmp_path: Path) -> None:
    """What the cache is for: the start of every ``check`` skips PyYAML."""
    code = ("import sys\nfrom tinyperf.rules.ruleset import load_ruleset\n"
            "load_ruleset('v1.3')\nprint('yaml' in sys.modules)")
    env = {"TINYPERF_RULES_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]


def test_a_version_that_is_no_file_name_part_is_not_cached(data: Path, tmp_path: Path) -> None:
    (data / "sub").mkdir()
    # a rule file in a subfolder (its ``extends`` names files of the data folder, as all do)
    (data / "sub" / "x.yaml").write_text((data / "v1.3.yaml").read_text())
    load_ruleset("sub/x", data_dir=data)
    assert not list((tmp_path / "cache").rglob("*.pickle"))
