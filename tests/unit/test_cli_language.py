"""One CLI language: shared spellings, hidden deprecated aliases, the MLCommons runner's
spellings on ``run``, an example in every ``--help``, a light parser, README commands parse.

See :mod:`tinyperf.cli.options` for the concept table.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tinyperf.cli import options
from tinyperf.cli.main import SUBCOMMANDS, build_parser

REPO = Path(__file__).resolve().parents[2]
RUNNER_MAIN = REPO.parent / "shared" / "peers" / "mlcommons_tiny" / "benchmark" / "runner" / \
    "main.py"
NOTE = re.compile(r"^tinyperf: note: .* is deprecated, use ", re.M)


def parse(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    """Parsed options (without the handler) and what was printed on stderr."""
    capsys.readouterr()
    ns = build_parser().parse_args(argv)
    return {k: v for k, v in vars(ns).items() if k != "handler"}, capsys.readouterr().err


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("tinyperf",)):
    """Every parser of the tree, with its command path."""
    yield path, parser
    for action in parser._actions:  # argparse offers no public walk
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


# -- every --help has an example ----------------------------------------------------------------


def test_every_parser_help_has_an_example() -> None:
    parsers = list(walk(build_parser()))
    assert len(parsers) > len(SUBCOMMANDS)  # the sub-subcommands are walked too
    missing = [" ".join(path) for path, p in parsers
               if not re.search(r"^examples?:\n  \S", p.format_help(), re.M)]
    assert not missing, f"--help without an 'example:' section: {missing}"


def test_examples_in_help_parse(capsys: pytest.CaptureFixture[str]) -> None:
    """The examples are commands that parse, with today's spellings (no deprecation note)."""
    for path, p in walk(build_parser()):
        for line in (p.epilog or "").splitlines()[1:]:
            line = re.split(r"\s+#|\s>\s", line)[0].strip()  # no comment, no redirection
            if not line.startswith("tinyperf ") or line.endswith("--help"):
                continue
            _, err = parse(shlex.split(line)[1:], capsys)
            assert not NOTE.search(err), (" ".join(path), line, err)


# -- deprecated spellings ----------------------------------------------------------------------


DEPRECATED = [  # (old command line, the same with the new spellings, old spellings noted)
    ("check --version v1.3 PATH", "check --round v1.3 PATH", ["--version"]),
    ("package init --submitter A --system B --division open --version v1.1",
     "package init --submitter A --system B --division open --round v1.1", ["--version"]),
    ("robustness kws01 --dataset-path RAW --model m.tflite -o OUT",
     "robustness --model-id kws01 --raw-path RAW --tflite m.tflite --output-dir OUT",
     ["a positional kws01", "--dataset-path", "--model", "-o"]),
    ("data prepare ad01 --raw RAW --out OUT", "data prepare --model-id ad01 --raw-path RAW "
     "--output-dir OUT", ["a positional ad01", "--raw", "--out"]),
    ("data prepare --raw RAW ad01 --out OUT", "data prepare --raw-path RAW --model-id ad01 "
     "--output-dir OUT", ["--raw", "a positional ad01", "--out"]),
    ("data demo --out OUT --model kws01", "data demo --output-dir OUT --model-id kws01",
     ["--out", "--model"]),
    ("models build kws01 --data-dir RAW --out OUT",
     "models build --model-id kws01 --raw-path RAW --output-dir OUT",
     ["a positional kws01", "--data-dir", "--out"]),
    ("firmware build --model standin", "firmware build --model-id standin", ["--model"]),
    ("firmware run --port host --model kws01", "firmware run --port host --model-id kws01",
     ["--model"]),
    ("firmware info --model kws01", "firmware info --model-id kws01", ["--model"]),
    ("sim --energy-rig --board legacy", "sim --energy-rig --board-kind legacy", ["--board"]),
    ("run --mode e --board legacy", "run --mode e --board-kind legacy", ["--board"]),
    ("energy import c.jls --inferences 5 --output OUT",
     "energy import c.jls --inferences 5 --output-dir OUT", ["--output"]),
    ("history --model kws01 --board X", "history --model-id kws01 --board X", ["--model"]),
]


@pytest.mark.parametrize("old,new,noted", DEPRECATED, ids=[d[0] for d in DEPRECATED])
def test_old_spellings_work_as_hidden_aliases_with_one_note(
        old: str, new: str, noted: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    got_old, err_old = parse(shlex.split(old), capsys)
    got_new, err_new = parse(shlex.split(new), capsys)
    assert got_old == got_new
    assert err_new == ""
    notes = err_old.splitlines()
    assert [n.split(": note: ")[1].split(" is deprecated")[0] for n in notes] == noted
    assert all(re.fullmatch(r"tinyperf: note: .+ is deprecated, use .+", n) for n in notes)


def test_old_spellings_are_hidden_from_help() -> None:
    parser = build_parser()
    helps = {" ".join(path): p.format_help() for path, p in walk(parser)}
    assert "--version" not in helps["tinyperf check"]
    assert "--round" in helps["tinyperf check"]
    assert "--board-kind" in helps["tinyperf sim"]
    assert not re.search(r"--board\b(?!-)", helps["tinyperf sim"])
    assert "--dataset-path" not in helps["tinyperf robustness"]
    assert not re.search(r"(?<![\w-])-o\b", helps["tinyperf robustness"])
    assert "--out " not in helps["tinyperf data prepare"]
    assert "--data-dir" not in helps["tinyperf models build"]
    assert not re.search(r"--model\b(?!-)", helps["tinyperf firmware build"])


def test_required_options_are_met_by_old_spellings_and_enforced(
        capsys: pytest.CaptureFixture[str]) -> None:
    got, _ = parse(["data", "prepare", "--model-id", "kws01", "--raw", "R", "--out", "O"],
                   capsys)
    assert got["raw_path"] == Path("R") and got["output_dir"] == Path("O")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["data", "prepare", "--model-id", "kws01", "--raw-path", "R"])
    assert "--output-dir" in capsys.readouterr().err  # errors name the new spelling
    # the model id: given as the option or (deprecated) positional; the handler checks it
    args = build_parser().parse_args(["robustness", "--raw-path", "R"])
    from tinyperf.formats.errors import ConfigError

    with pytest.raises(ConfigError, match="--model-id is required"):
        args.handler(args)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["models", "build", "kws02", "--raw-path", "R"])
    assert "invalid choice: 'kws02'" in capsys.readouterr().err


def test_waive_takes_one_id_per_use_and_never_swallows_the_path(
        capsys: pytest.CaptureFixture[str]) -> None:
    got, _ = parse(["check", "--waive", "TINY-PERF-006", "submission/v1.3"], capsys)
    assert got["waive"] == ["TINY-PERF-006"] and got["path"] == Path("submission/v1.3")
    got, _ = parse(["check", "PATH", "--waive", "A", "--waive", "B"], capsys)
    assert got["waive"] == ["A", "B"]
    got, _ = parse(["package", "add", "S1", "S2", "--system", "X", "--waive", "A"], capsys)
    assert got["waive"] == ["A"] and got["sessions"] == [Path("S1"), Path("S2")]
    got, _ = parse(["package", "check", "--waive", "A", "--waive", "B"], capsys)
    assert got["waive"] == ["A", "B"]


def test_rounds_are_the_rule_sets() -> None:
    from tinyperf.rules.ruleset import DEFAULT_VERSION, VERSIONS
    from tinyperf.submissions.systems_template import VERSION_KEYS

    assert options.ROUNDS == VERSIONS
    assert set(options.ROUNDS) == set(VERSION_KEYS)
    assert options.DEFAULT_ROUND == DEFAULT_VERSION


def test_tinyperf_version_is_the_program_version(capsys: pytest.CaptureFixture[str]) -> None:
    import tinyperf

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tinyperf {tinyperf.__version__}"


# -- the MLCommons runner's spellings on `run` --------------------------------------------------


RUNNER_LINES = [  # as the runner's README writes them, after `python main.py`
    "--dataset_path=/path/to/datasets/ --test_script=tests_energy.yaml "
    "--device_list=devices_kws_ic_vww.yaml --mode=e",
    "--dataset_path=/path/to/datasets/ --test_script=tests_performance.yaml "
    "--device_list=devices_ad.yaml --mode=p",
    "--dataset_path=/path/to/datasets/ --mode=a",
    "-d devices_sww.yaml -t tests_accuracy.yaml -s datasets -m a",
    "-m p -s datasets",
    "-y '- {name: dut, type: dut, port: /dev/pts/3}' -m a",
]


@pytest.mark.parametrize("line", RUNNER_LINES)
def test_a_pasted_mlcommons_runner_command_line_parses_without_notes(
        line: str, capsys: pytest.CaptureFixture[str]) -> None:
    got, err = parse(["run", *shlex.split(line)], capsys)
    assert err == ""
    assert got["mode"] in ("a", "p", "e")
    if "--dataset_path" in line:
        assert got["dataset_path"] == Path("/path/to/datasets/")
    if "--device_list" in line:
        assert got["device_list"].name.startswith("devices_")
    if "--test_script" in line or "-t " in line:
        assert got["test_script"].name.startswith("tests_")


def test_run_accepts_every_option_of_the_runners_argparse(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every flag of the runner's ``main.py`` parser (read from the peer copy) works on
    ``tinyperf run`` with the runner's values."""
    if not RUNNER_MAIN.is_file():
        pytest.skip(f"no MLCommons runner copy at {RUNNER_MAIN}")
    flags = re.findall(r'add_argument\("(-\w)", "(--\w+)"', RUNNER_MAIN.read_text())
    assert {long for _, long in flags} >= {"--device_list", "--device_yaml", "--test_script",
                                           "--dataset_path", "--mode"}
    dests = {"--device_list": "device_list", "--device_yaml": "device_yaml",
             "--test_script": "test_script", "--dataset_path": "dataset_path", "--mode": "mode"}
    for short, long in flags:
        value = "p" if long == "--mode" else "x.yaml"
        for flag in (short, long):
            got, err = parse(["run", flag, value], capsys)
            assert err == "", flag
            assert str(got[dests[long]]) == value, flag


def test_run_device_yaml_is_a_device_list() -> None:
    from tinyperf.cli.run import resolve_link

    args = build_parser().parse_args(
        ["run", "-y", "- {name: board, type: dut, port: socket://127.0.0.1:9, baud: 9600}"])
    assert resolve_link(args, "accuracy") == ("socket://127.0.0.1:9", 9600)


# -- parser construction imports nothing heavy --------------------------------------------------


HEAVY = ("numpy", "scipy", "serial", "yaml", "ai_edge_litert", "tflite_runtime", "tensorflow",
         "matplotlib", "tinyperf.harness", "tinyperf.reference_models",
         "tinyperf.firmware_interface", "tinyperf.rules", "tinyperf.submissions")

_PROBE = """
import argparse, importlib, json, sys
heavy = {heavy!r}
def loaded():
    return sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
out = {{}}
if {whole!r}:
    from tinyperf.cli.main import build_parser
    build_parser().format_help()
    out["build_parser"] = loaded()
else:
    for name in {names!r}:
        p = argparse.ArgumentParser()
        importlib.import_module("tinyperf.cli." + name).register(p.add_subparsers())
        out[name] = loaded()
print(json.dumps(out))
"""


def _probe(whole: bool, names: tuple[str, ...] = ()) -> dict[str, list[str]]:
    code = _PROBE.format(heavy=HEAVY, whole=whole, names=names)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    return json.loads(proc.stdout)


def test_subcommand_modules_register_without_heavy_imports() -> None:
    """Each subcommand's module and parser load only the stdlib and tinyperf.cli.options."""
    names = tuple(n for n in SUBCOMMANDS if n != "demo")  # demo: see the next test
    loaded = _probe(False, names)
    assert all(not mods for mods in loaded.values()), \
        {n: mods[:5] for n, mods in loaded.items() if mods}


def test_build_parser_imports_no_numpy_scipy_serial_harness_or_interpreter() -> None:
    loaded = _probe(True)["build_parser"]
    assert not loaded, loaded[:10]


def test_a_named_subcommand_builds_only_its_parser_and_the_same_one() -> None:
    """``tinyperf check ...`` registers only ``check`` (the others cost ~40 ms to import
    and build); its parser is the one the whole command line has."""
    whole = dict(walk(build_parser()))
    for name in SUBCOMMANDS:
        only = dict(walk(build_parser(name)))
        sub = {path: p for path, p in only.items() if len(path) > 1}
        assert {path[1] for path in sub} == {name}
        for path, p in sub.items():
            assert p.format_help() == whole[path].format_help(), path


@pytest.mark.parametrize(("argv", "named"), [
    (["check", "x"], "check"), (["-v", "check", "run"], "check"), (["--verbose", "run"], "run"),
    ([], None), (["--help"], None), (["chek", "x"], None), (["-v"], None)])
def test_the_parser_built_follows_the_first_word(argv: list[str], named: str | None) -> None:
    from tinyperf.cli.main import _named_subcommand

    assert _named_subcommand(argv) == named


def test_a_typo_still_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    from tinyperf.cli.main import main

    with pytest.raises(SystemExit):
        main(["chek", "x"])
    err = capsys.readouterr().err
    assert "invalid choice: 'chek'" in err and all(f"'{n}'" in err for n in SUBCOMMANDS)


# -- README commands -----------------------------------------------------------------------------


#: README command lines that still use an old spelling (they parse, with a deprecation
#: note). Empty this list as README moves to the new spellings.
README_PENDING: set[str] = set()  # README lines still to move to the new spellings

#: Placeholders that stand for a typed value (an int option).
PLACEHOLDER_VALUES = {"S": "0", "N": "1"}


def readme_commands() -> list[str]:
    """Every ``tinyperf ...`` line of README's ``sh`` blocks: ``\\`` continuations joined,
    trailing comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, re.S | re.M):
        block = re.sub(r"\\\n\s*", " ", block)
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("tinyperf "):
                lines.append(line)
    return lines


def _groups(text: str, keep: bool) -> str:
    """Resolve ``[optional]`` groups: drop them all, or keep the outermost ones (nested
    optional parts dropped, e.g. ``[--socket [PORT]]`` -> ``--socket``)."""
    out, depth = [], 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0 or (keep and depth == 1):
            out.append(ch)
    return "".join(out)


def variants(line: str) -> list[list[str]]:
    """The argv of the command without and with its optional parts, placeholders resolved:
    ``a|b`` and ``(A | B)`` take the first alternative, ``X...`` is one X."""
    line = re.sub(r"\(([^()]*)\)", lambda m: m.group(1).split("|")[0], line)
    result = []
    for keep in (False, True):
        words = []
        for word in _groups(line, keep).split()[1:]:
            word = word.replace("…", "").replace("...", "")
            if not word:
                continue
            word = word.split("|")[0]
            words.append(PLACEHOLDER_VALUES.get(word, word))
        result.append(words)
    return result


def test_readme_has_commands() -> None:
    commands = readme_commands()
    assert len(commands) >= 20
    assert any(c.startswith("tinyperf run ") for c in commands)


@pytest.mark.parametrize("line", readme_commands())
def test_readme_command_parses(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    noted = False
    for argv in variants(line):
        capsys.readouterr()
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"README command does not parse: {argv}\n{capsys.readouterr().err}"
                        f" (exit {exc.code})")
        noted |= bool(NOTE.search(capsys.readouterr().err))
    if line in README_PENDING:
        assert noted, f"README line uses the new spellings now: remove it from " \
                      f"README_PENDING: {line}"
    else:
        assert not noted, f"README line uses a deprecated spelling: {line}"


def test_readme_pending_lines_are_still_in_the_readme() -> None:
    stale = README_PENDING - set(readme_commands())
    assert not stale, f"no longer in README.md, remove from README_PENDING: {sorted(stale)}"
