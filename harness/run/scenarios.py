"""Test scripts: the MLCommons ``tests_*.yaml`` step language and a flat execution plan.

A script entry (spec 4.3) is keyed by the model id the DUT reports::

    kws01:
      name: keyword_spotting
      model: kws01
      truth_file: y_labels.csv
      script:
        - loop 5:
          - download
          - infer 70 10

``plan`` flattens the steps into a deterministic list of actions, so a run can be resumed
by position and two runs of the same script are comparable action by action.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import ConfigError
from tinyperf.formats.yamlfile import load_yaml

MODES = {"performance": "p", "accuracy": "a", "energy": "e"}

# Built-in scripts equal to the reference ones as shipped (spec 4.4).
REFERENCE_SCRIPTS: dict[str, dict[str, list[Any]]] = {
    "performance": {
        "kws01": [{"loop 5": ["download", "infer 70 10"]}],
        "vww01": [{"loop 5": ["download", "infer 20 5"]}],
        "ic01": [{"loop 5": ["download", "infer 20 5"]}],
        "ic02": [{"loop 5": ["download", "infer 20 5"]}],
        "ad01": [{"loop 5": ["download", "infer 1500 10"]}],
        "sww01": ["stream"],
    },
    "accuracy": {
        "kws01": [{"loop": ["download", "infer 1 0"]}],
        "vww01": [{"loop": ["download", "infer 1 0"]}],
        "ic01": [{"loop": ["download", "infer 1 0"]}],
        "ic02": [{"loop": ["download", "infer 1 0"]}],
        "ad01": [{"loop": ["download", "infer 1 0", "reset 20"]}],
        "sww01": [{"loop": ["stream"]}],
    },
    "energy": {
        "kws01": [{"loop 5": ["download", "infer 70 10"]}],
        "vww01": [{"loop 5": ["download", "infer 20 5"]}],
        "ic01": [{"loop 5": ["download", "infer 20 0"]}],
        "ic02": [{"loop 5": ["download", "infer 20 0"]}],
        "ad01": [{"loop 5": ["download", "infer 1500 0"]}],
        "sww01": ["stream"],
    },
}
#: Truth file of a model's reference script (the others use y_labels.csv).
_TRUTH_FILES = {"sww01": "sww_long_test.json"}
_NAMES = {"kws01": "keyword_spotting", "vww01": "person_detection", "ic01": "image_classification",
          "ic02": "image_classification", "ad01": "anomaly_detection",
          "sww01": "streaming_wakeword"}


@dataclass(frozen=True)
class TestEntry:
    """One model's entry of a test script."""

    __test__ = False  # not a pytest class despite the name

    key: str
    name: str
    model: str
    truth_file: str
    script: list[Any]
    #: Why this entry cannot run (a step tinyperf does not run, a malformed body); the
    #: rest of the file stays usable, and only a run of this model fails (``usable``).
    problem: str | None = None


@dataclass(frozen=True)
class Action:
    """One flat step: ``download`` (input index), ``infer`` (N, W), ``reset`` (seconds) or
    ``stream`` (truth-file entry index; sww01, run by ``tinyperf.harness.run.sww``)."""

    verb: str
    index: int | None = None
    iterations: int = 0
    warmups: int = 0
    loop_id: int | None = None  # which ``loop`` step produced it (for the 5-window rule)


def reference_entry(model_id: str, mode: str) -> TestEntry:
    """The reference runner's shipped entry for ``model_id`` in ``mode``."""
    try:
        script = REFERENCE_SCRIPTS[mode][model_id]
    except KeyError:
        raise ConfigError(f"no built-in {mode} script for model {model_id!r}") from None
    dataset = "ic01" if model_id == "ic02" else model_id
    return TestEntry(model_id, _NAMES[model_id], dataset,
                     _TRUTH_FILES.get(model_id, "y_labels.csv"), copy.deepcopy(script))


def load_test_script(path: Path) -> dict[str, TestEntry]:
    """Read a ``tests_*.yaml`` file (safe loader only) into entries keyed by model id.

    Entries are parsed one by one: an entry tinyperf cannot run (a malformed body, an
    unknown step) keeps its ``problem`` and fails only a run of that model (:func:`usable`);
    a file that is not a mapping of entries is refused whole.
    """
    data = load_yaml(path, "test script")
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping of model ids", path=path)
    entries = {}
    for key, body in data.items():
        try:
            entries[str(key)] = _entry(path, str(key), body)
        except ConfigError as exc:
            fields = body if isinstance(body, dict) else {}
            entries[str(key)] = TestEntry(
                str(key), str(fields.get("name", key)), str(fields.get("model", key)),
                str(fields.get("truth_file", "y_labels.csv")), [], problem=str(exc))
    return entries


def _entry(path: Path, key: str, body: Any) -> TestEntry:
    if not isinstance(body, dict):
        raise ConfigError("entry must be a mapping", path=path, key=key)
    script = body.get("script")
    if not isinstance(script, list):
        raise ConfigError("'script' must be a list of steps", path=path, key=f"{key}.script")
    _check_steps(script, path, f"{key}.script")
    return TestEntry(key, str(body.get("name", key)), str(body.get("model", key)),
                     str(body.get("truth_file", "y_labels.csv")), script)


def usable(entry: TestEntry) -> TestEntry:
    """``entry`` itself, or the ``ConfigError`` that says why its model cannot run."""
    if entry.problem is not None:
        raise ConfigError(f"the test script's {entry.key} entry cannot run: {entry.problem}")
    return entry


#: Script nodes read while checking a file, and actions in one flattened plan: a small YAML
#: file can name 2^40 steps through aliases, or ``loop 1000000000``; refused, not walked.
MAX_SCRIPT_NODES = 100_000
MAX_PLAN_ACTIONS = 1_000_000


def _check_steps(steps: list[Any], path: Path | None, where: str,
                 budget: list[int] | None = None) -> None:
    budget = budget if budget is not None else [MAX_SCRIPT_NODES]
    for i, step in enumerate(steps):
        here = f"{where}[{i}]"
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(f"more than {MAX_SCRIPT_NODES} script steps (the limit; YAML "
                              "aliases repeat steps)", path=path, key=here)
        if isinstance(step, dict):
            if len(step) != 1:
                raise ConfigError("a nested step must have exactly one key", path=path, key=here)
            (head, nested), = step.items()
            if not isinstance(nested, list):
                raise ConfigError("nested steps must be a list", path=path, key=here)
            _parse_step(str(head), path, here)
            _check_steps(nested, path, here, budget)
        else:
            _parse_step(str(step), path, here)
    if where.endswith(".script") and "[" not in where:
        size = _plan_size(steps, 1)
        if size > MAX_PLAN_ACTIONS:
            raise ConfigError(f"the script expands to {size:.3g} steps (the limit is "
                              f"{MAX_PLAN_ACTIONS})", path=path, key=where)


def _plan_size(steps: list[Any], input_count: int) -> int:
    """Actions ``plan`` would make, counted without making them (loops multiply)."""
    total = 0
    for step in steps:
        if isinstance(step, dict):
            (head, nested), = step.items()
            _, numbers = _parse_step(str(head), None, "script")
            count = numbers[0] if numbers and numbers[0] >= 0 else input_count
            total += count * _plan_size(nested, input_count) if count else 0
        else:
            total += 1
        if total > MAX_PLAN_ACTIONS:
            return total  # enough to refuse; stop counting
    return total


def _parse_step(text: str, path: Path | None, where: str) -> tuple[str, list[int]]:
    words = text.split()
    if not words:
        raise ConfigError("empty step", path=path, key=where)
    verb, *args = words
    if verb not in ("loop", "download", "infer", "reset", "stream"):
        raise ConfigError(f"unknown step {verb!r}", path=path, key=where)
    numbers = []
    for a in args:
        try:
            value = float(a)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value != int(value):
            raise ConfigError(f"step arguments must be whole numbers: {text!r}", path=path,
                              key=where)
        numbers.append(int(value))
    if verb == "infer":
        if not numbers:
            raise ConfigError("infer needs an iteration count", path=path, key=where)
        if numbers[0] < 1:
            raise ConfigError(f"infer needs at least 1 inference: {text!r}", path=path,
                              key=where)
        if len(numbers) > 1 and numbers[1] < 0:
            raise ConfigError(f"warm-ups must be >= 0: {text!r}", path=path, key=where)
    if verb in ("reset", "download") and numbers and numbers[0] < 0:
        raise ConfigError(f"{verb} argument must be >= 0: {text!r}", path=path, key=where)
    if verb == "stream" and numbers and numbers[0] < 0:
        raise ConfigError(f"stream index must be >= 0: {text!r}", path=path, key=where)
    return verb, numbers


def plan(entry: TestEntry, input_count: int) -> list[Action]:
    """Flatten ``entry.script`` into actions. ``input_count`` sizes a ``loop`` without count."""
    size = _plan_size(entry.script, input_count)
    if size > MAX_PLAN_ACTIONS:
        raise ConfigError(f"the {entry.key} script expands to {size:.3g} steps for "
                          f"{input_count} inputs (the limit is {MAX_PLAN_ACTIONS})")
    actions: list[Action] = []
    cursor = [0]
    loop_ids = [0]

    def walk(steps: list[Any], loop_id: int | None) -> None:
        for step in steps:
            if isinstance(step, dict):
                (head, nested), = step.items()
                _, numbers = _parse_step(str(head), None, "script")
                count = numbers[0] if numbers and numbers[0] >= 0 else input_count
                loop_ids[0] += 1
                this_loop = loop_ids[0]
                for _ in range(count):
                    walk(nested, this_loop)
                continue
            verb, numbers = _parse_step(str(step), None, "script")
            if verb == "download":
                index = numbers[0] if numbers else cursor[0]
                if not numbers:
                    cursor[0] += 1
                if not 0 <= index < input_count:
                    raise ConfigError(f"download index {index} outside the {input_count} inputs")
                actions.append(Action("download", index=index, loop_id=loop_id))
            elif verb == "infer":
                warm = numbers[1] if len(numbers) > 1 else 0  # runner default is 0, not 10
                actions.append(Action("infer", iterations=numbers[0], warmups=warm,
                                      loop_id=loop_id))
            elif verb == "stream":  # sww01: one truth-file entry (next one without index)
                index = numbers[0] if numbers else cursor[0]
                if not numbers:
                    cursor[0] += 1
                if not 0 <= index < input_count:
                    raise ConfigError(f"stream index {index} outside the {input_count} "
                                      "truth-file entries")
                actions.append(Action("stream", index=index, loop_id=loop_id))
            elif verb == "reset":
                actions.append(Action("reset", iterations=numbers[0] if numbers else 0,
                                      loop_id=loop_id))

    walk(entry.script, None)
    return actions


def streams(entry: TestEntry) -> bool:
    """True when the entry's script streams audio (``stream`` steps: sww01)."""
    def walk(steps: list[Any]) -> bool:
        for step in steps:
            if isinstance(step, dict):
                (_, nested), = step.items()
                if walk(nested):
                    return True
            elif str(step).split()[:1] == ["stream"]:
                return True
        return False
    return walk(entry.script)


def with_counts(actions: list[Action], iterations: int | None,
                warmups: int | None) -> list[Action]:
    """Override every infer step's N and/or W (command-line ``--iterations/--warmups``)."""
    out = []
    for a in actions:
        if a.verb == "infer":
            a = replace(a, iterations=iterations if iterations is not None else a.iterations,
                        warmups=warmups if warmups is not None else a.warmups)
        out.append(a)
    return out


#: the reference firmware reads N and W with ``atoi`` into a 32-bit ``int``
MAX_COUNT = 2**31 - 1


def check_counts(actions: list[Action], cmd_buffer: int, *, source: str = "the test script",
                 path: Path | None = None) -> None:
    """Refuse infer counts the protocol cannot carry, before the first byte is sent.

    ``infer N W%`` must fit the DUT's command buffer (a longer command is cut by the DUT's
    parser) and N, W must fit the firmware's 32-bit ``int`` (``atoi`` overflows silently).
    """
    for a in actions:
        if a.verb != "infer":
            continue
        text = f"infer {a.iterations} {a.warmups}%"
        where = f"infer {a.iterations} {a.warmups}"
        if a.iterations < 1 or a.warmups < 0:
            raise ConfigError(f"{where}: N must be >= 1 and W >= 0 (from {source})", path=path)
        if a.iterations > MAX_COUNT or a.warmups > MAX_COUNT:
            raise ConfigError(f"{where}: more than the firmware's 32-bit int can hold "
                              f"({MAX_COUNT}); it parses N and W with atoi (from {source})",
                              path=path)
        if len(text) > cmd_buffer:
            raise ConfigError(f"{where}: the command is {len(text)} chars, the DUT's command "
                              f"buffer holds {cmd_buffer} (from {source})", path=path)


def loop_counts(actions: list[Action]) -> dict[int, int]:
    """Number of infer windows per loop id (the runner's ERROR 1 checks it equals 5)."""
    counts: dict[int, int] = {}
    for a in actions:
        if a.verb == "infer" and a.loop_id is not None:
            counts[a.loop_id] = counts.get(a.loop_id, 0) + 1
    return counts
